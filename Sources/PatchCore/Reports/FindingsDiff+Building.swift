import Foundation

extension FindingsDiff {
    /// Compares scan `target` (default: the newest scan) with `since`: `last` for the scan run
    /// before it, or a run id (unique prefix). Each host of the target run is compared with its
    /// own latest successful scan at or before the base run, so hosts the base run did not
    /// cover still compare with what was known about them then.
    /// `inventory` and `limit` narrow it to those hosts, as for reports (`ReportScope`); a host
    /// retired when the target scan reached it is left out.
    public static func build(store: HistoryStore, since: String, to target: String? = nil, inventory: String? = nil, limit: String? = nil,
                             environment: [String: String] = ProcessInfo.processInfo.environment) throws -> FindingsDiff {
        let recorded = try store.scanRuns()
        // Only finished scans are a whole picture: a scan still running (or killed, or imported from
        // the journal as `incomplete`) would read as hosts without findings.
        let scans = recorded.filter(\.state.isFinished)
        let targetRun: HistoryStore.RunTime
        if let target {
            targetRun = try finishedScan(target, store: store, recorded: recorded)
        } else {
            guard let newest = scans.last else {
                let unfinished = recorded.count - scans.count
                throw PatchError.report(message: unfinished > 0
                    ? "no finished scan in history yet (\(unfinished) scan run(s) not finished): nothing to compare"
                    : "no scan in history yet: run `patchctl scan` first")
            }
            targetRun = newest
        }
        let baseRun: HistoryStore.RunTime
        if since == "last" {
            guard let index = scans.firstIndex(where: { $0.id == targetRun.id }), index > 0 else {
                throw PatchError.report(message: "no finished scan before \(targetRun.id) to compare with")
            }
            baseRun = scans[index - 1]
        } else {
            baseRun = try finishedScan(since, store: store, recorded: recorded)
        }
        guard baseRun.id != targetRun.id else { throw PatchError.report(message: "--since and the target are the same run \(baseRun.id)") }

        let history = try store.reportHistory(upTo: .distantFuture, detailFrom: baseRun.startedAt)
        let baseEnd = baseRun.finishedAt ?? baseRun.startedAt
        var hosts: [HostDiff] = []
        // Per host, the scan runs whose CVEs are compared: (base, target).
        var cvePairs: [String: (base: String?, target: String)] = [:]
        let scope = try ReportScope.names(inventory: inventory, limit: limit, known: history.hostNames, environment: environment)
        let retirements = RetirementTimeline(try store.retirements())
        for name in history.hostNames where scope?.contains(name) ?? true {
            let observations = history.observations[name] ?? []
            guard let now = observations.first(where: { $0.runId == targetRun.id }) else { continue }
            // Retired when the target scan reached it (and not back since: a success would have ended that): out of scope.
            if retirements.isRetired(name, at: now.at) { continue }
            let base = observations.last { $0.runId == baseRun.id && $0.isScan }
                ?? observations.last { $0.isScan && $0.at <= baseEnd && $0.runId != targetRun.id }
            hosts.append(compare(name: name, base: base, now: now))
            if now.pending != nil {
                cvePairs[name] = (observations.last { $0.kind == .scan && $0.isScan && $0.at <= baseEnd && $0.runId != targetRun.id }?.runId, now.runId)
            }
        }
        try compareCVEs(&hosts, pairs: cvePairs, store: store)
        let summary = Summary(
            hosts: hosts.count, added: hosts.reduce(0) { $0 + $1.added.count },
            addedSecurity: hosts.reduce(0) { $0 + $1.added.filter(\.security).count }, removed: hosts.reduce(0) { $0 + $1.removed.count },
            changed: hosts.reduce(0) { $0 + $1.changed.count }, newHosts: hosts.filter { $0.change == .new }.count,
            failed: hosts.filter { $0.change == .failed }.count, cvesClosed: hosts.reduce(0) { $0 + $1.cvesClosed.count },
            cvesNew: hosts.reduce(0) { $0 + $1.cvesNew.count }, cvesNewKEV: hosts.reduce(0) { $0 + $1.cvesNew.filter(\.kev).count })
        return FindingsDiff(baseRun: baseRun.id, baseAt: baseRun.startedAt, baseFinishedAt: baseRun.finishedAt, targetRun: targetRun.id,
                            targetAt: targetRun.startedAt, targetFinishedAt: targetRun.finishedAt, hosts: hosts, summary: summary,
                            warnings: try AdvisoryWarnings.current(store: store, at: ReportDate.now()))
    }

    /// Which CVEs each host closed and newly has. A host whose scans both carry no CVE data (no
    /// feed synced) shows none; a host first scanned has all its CVEs new.
    static func compareCVEs(_ hosts: inout [HostDiff], pairs: [String: (base: String?, target: String)], store: HistoryStore) throws {
        let lookups: [(runId: String, host: String)] = pairs.flatMap { host, runs in [runs.base, runs.target].compactMap { $0 }.map { (runId: $0, host: host) } }
        let open = try store.openCVEs(lookups)
        for index in hosts.indices {
            guard let runs = pairs[hosts[index].name] else { continue }
            let now = open[runs.target + "\n" + hosts[index].name] ?? []
            let before = runs.base.flatMap { open[$0 + "\n" + hosts[index].name] } ?? []
            let nowIDs = Set(now.map(\.id)), beforeIDs = Set(before.map(\.id))
            hosts[index].cvesClosed = before.filter { !nowIDs.contains($0.id) }
            hosts[index].cvesNew = now.filter { !beforeIDs.contains($0.id) }
            if hosts[index].change == .unchanged, !(hosts[index].cvesClosed.isEmpty && hosts[index].cvesNew.isEmpty) {
                hosts[index].change = .changed
            }
        }
    }

    /// A scan named by id or prefix, which must have finished.
    static func finishedScan(_ reference: String, store: HistoryStore, recorded: [HistoryStore.RunTime]) throws -> HistoryStore.RunTime {
        let id = try scanRun(reference, store: store)
        guard let run = recorded.first(where: { $0.id == id }) else { throw PatchError.runNotFound(reference) }
        guard run.state.isFinished else {
            throw PatchError.report(message: "scan \(id) is \(run.state.rawValue), not finished: diff compares finished scans only")
        }
        return run
    }

    static func scanRun(_ reference: String, store: HistoryStore) throws -> String {
        let (id, kind) = try store.resolveRun(reference)
        guard kind == .scan else { throw PatchError.report(message: "run \(id) is a \(kind.rawValue) run, not a scan") }
        return id
    }

    static func compare(name: String, base: ReportHistory.Observation?, now: ReportHistory.Observation) -> HostDiff {
        var diff = HostDiff(name: name, change: .unchanged, status: now.status, error: now.error, baseRun: base?.runId, baseAt: base?.at,
                            targetRun: now.runId, targetAt: now.at, added: [], removed: [], changed: [])
        guard let pending = now.pending else {
            diff.change = .failed
            return diff
        }
        let item = { (update: ReportHistory.Update) in
            Item(package: update.package, architecture: update.architecture, installedVersion: update.installedVersion,
                 availableVersion: update.availableVersion, security: update.security, source: update.source)
        }
        guard let before = base?.pending else {
            diff.change = .new
            diff.added = pending.map(item)
            return diff
        }
        // A finding is (package, architecture): libc6 for amd64 and for i386 are two.
        let earlier = Dictionary(before.map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
        let later = Dictionary(pending.map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
        for update in pending {
            guard let old = earlier[update.identity] else {
                diff.added.append(item(update))
                continue
            }
            if old.availableVersion != update.availableVersion {
                diff.changed.append(VersionChange(package: update.package, architecture: update.architecture, fromVersion: old.availableVersion, toVersion: update.availableVersion,
                                                  installedVersion: update.installedVersion, security: update.security, source: update.source))
            }
        }
        diff.removed = before.filter { later[$0.identity] == nil }.map(item)
        diff.change = diff.added.isEmpty && diff.removed.isEmpty && diff.changed.isEmpty ? .unchanged : .changed
        return diff
    }
}
