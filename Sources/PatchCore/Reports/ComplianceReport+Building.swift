import Foundation

extension ComplianceReport {
    /// Reads the database and judges every host at `request.asOf`. Nothing is written. `store`: the
    /// history already open (a PostgreSQL one is opened by `HistoryStore.open(reading:)`); else
    /// `request.database` is opened read-only.
    public static func build(_ request: ComplianceRequest, store opened: HistoryStore? = nil) throws -> ComplianceReport {
        let asOf = request.asOf
        guard let since = ReportDate.parseStart(request.since, end: asOf) else {
            throw PatchError.report(message: "--since '\(request.since)' is neither a duration (90d, 12w) nor a date (2026-09-01)")
        }
        guard since <= asOf else {
            throw PatchError.report(message: "--since \(JSONOutput.timestamp(since)) is after --as-of \(JSONOutput.timestamp(asOf))")
        }
        let ruleSet = try ComplianceRuleSet.find(
            request.standard, directories: ComplianceRuleSet.searchDirectories(environment: request.environment, currentDirectory: request.currentDirectory))
        if let staleDays = request.staleDays, staleDays < 1 { throw PatchError.report(message: "--stale-days must be at least 1") }
        let staleDays = request.staleDays ?? ruleSet.staleDays
        let policy = try request.policy.map { reference throws(PatchError) in
            try Policy.find(reference, directories: Policy.searchDirectories(environment: request.environment, currentDirectory: request.currentDirectory))
        }
        // A report reads history; it never creates an empty database where none was.
        let store: HistoryStore
        if let opened {
            store = opened
        } else {
            try HistoryStore.refuseURL(request.database)
            guard FileManager.default.fileExists(atPath: request.database) else {
                throw PatchError.store(path: request.database, message: "no history database here: run `patchctl scan` first (or pass --db)")
            }
            store = try HistoryStore(readOnly: request.database)
        }
        // Every judgement is made at or after the first trend day's start: details from there on suffice.
        let detailFrom = ReportDate.startOfDay(since)
        let exceptions = try store.exceptions(createdUpTo: asOf)
        // A retired host is out of scope from its retirement on (and in scope before it: trend days, --as-of).
        let retirements = RetirementTimeline(try store.retirements(upTo: asOf))
        let (days, moments) = trendDays(from: since, to: asOf)
        // An inventory names the hosts before anything is read; otherwise history does.
        let inventoryScope = try request.inventory == nil ? nil : scope(request, policy: policy, known: [], deployedBy: { _ in false })
        let groupsOf = inventoryScope.map { Dictionary($0.map { ($0.name, $0.groups) }, uniquingKeysWith: { first, _ in first }) }

        // History is read and judged in batches of hosts, the next read while one is judged: what is
        // held is the batch's history and each host's verdict, not the fleet's history.
        var judged: [String: Judged] = [:]
        var known: [String] = []
        // Each batch's patches, appended as judged (each batch's sorted): sorted as one list at the end.
        var allPatches: [Patch] = []
        let ranges = try store.hostRanges(batch: request.hostBatch)
        let judge = { (history: consuming ReportHistory) in
            // Handed over: the evaluator extends the history's first sightings in place.
            let evaluator = ComplianceEvaluator(ruleSet: ruleSet, staleDays: staleDays, history: history, exceptions: exceptions,
                                                deployPolicy: policy?.name)
            // Without an inventory, the hosts in scope are those history has contacts of; a host may
            // also have installs alone (a deployment that had not finished by the report's moment).
            let observed = evaluator.history.hostNames
            known += observed
            let names = Set(observed + evaluator.history.installs.map(\.host)).filter { groupsOf == nil || groupsOf?[$0] != nil }
            for name in names {
                judged[name] = Judged(evaluator: evaluator, host: name, groups: groupsOf?[name] ?? [], at: asOf, moments: moments)
            }
            allPatches += evaluator.patches(hosts: names, from: since, to: asOf)
        }
        // Two threads read an SQLite history (two cores: judging takes about half as long as reading), one a PostgreSQL one.
        let readers = try store.batchReaders()
        try ReadAhead.run(ranges.count, readers: readers.count, read: { index in
            try readers[index % readers.count].reportHistory(upTo: asOf, detailFrom: detailFrom, controller: request.controller, hosts: ranges[index])
        }, use: judge)

        let everyHost = try inventoryScope ?? scope(request, policy: policy, known: known.sorted(), deployedBy: { host in
            policy.map { judged[host]?.deployPolicies.contains($0.name) ?? false } ?? true
        })
        // Hosts named by the inventory that history never saw: judged on no history at all.
        let unseen = everyHost.filter { judged[$0.name] == nil }
        if !unseen.isEmpty {
            let evaluator = ComplianceEvaluator(ruleSet: ruleSet, staleDays: staleDays, history: ReportHistory(observations: [:], installs: [], firstSeen: [:]),
                                                exceptions: exceptions, deployPolicy: policy?.name)
            for host in unseen {
                judged[host.name] = Judged(evaluator: evaluator, host: host.name, groups: host.groups, at: asOf, moments: moments)
            }
        }
        let hosts = everyHost.filter { !retirements.isRetired($0.name, at: asOf) }
        let retired = everyHost.compactMap { host in retirements.retirement(of: host.name, at: asOf) }.map { record in
            RetiredHost(name: record.host, retiredAt: record.retiredAt, retiredBy: record.retiredBy, reason: record.reason, rule: record.rule,
                        duringPeriod: record.retiredAt >= since)
        }

        let entries = hosts.map { judged[$0.name]!.entry }
        let names = Set(hosts.map(\.name))
        // Patches of a host retired during the period count up to its retirement, as its trend days do.
        let inScope = Set(everyHost.map(\.name))
        sortPatches(&allPatches, batches: ranges.count)
        allPatches.removeAll { !inScope.contains($0.host) || retirements.isRetired($0.host, at: $0.patchedAt) }
        var summary = summarize(entries, patches: allPatches)
        summary.ageHistogram = ageHistogram(entries)

        let groupNames = Set(entries.flatMap(\.groups)).sorted()
        let groups = groupNames.map { name in
            let members = entries.filter { $0.groups.contains(name) }
            let memberNames = Set(members.map(\.name))
            return GroupSummary(name: name, hosts: members.count, compliant: members.filter(\.compliant).count,
                                percentCompliant: percent(members.filter(\.compliant).count, of: members.count),
                                stale: members.filter(\.stale).count, neverScanned: members.filter { $0.lastScan == nil }.count,
                                missing: missingTotal(members), timeToPatch: timeToPatch(allPatches.filter { memberNames.contains($0.host) }))
        }

        var policyNames = Set<String>()
        for host in names { policyNames.formUnion(judged[host]?.deployPolicies ?? []) }
        if let policy { policyNames = policyNames.filter { $0 == policy.name } }
        let policies = policyNames.sorted().map { name in
            let members = entries.filter { judged[$0.name]?.deployPolicies.contains(name) ?? false }
            return PolicySummary(name: name, hosts: members.count, compliant: members.filter(\.compliant).count,
                                 percentCompliant: percent(members.filter(\.compliant).count, of: members.count),
                                 timeToPatch: timeToPatch(allPatches.filter { $0.via == "deploy" && $0.policy == name }))
        }

        let exceptionEntries = exceptions.filter { exception in names.contains { GlobPattern(exception.host).matches($0) } }.map { exception in
            let matches = entries.reduce(0) { total, host in
                total + host.updates.filter { exception.covers(host: host.name, package: $0.package, version: $0.availableVersion, cves: []) }.count
            }
            let state = exception.state(at: asOf)
            var note: String?
            if case .cve = ComplianceException.Target(exception.target), matches == 0 {
                note = "no finding carries CVE ids here (apt reports none): name the package instead"
            } else if state == .expired {
                note = "expired: what it covered counts against compliance again"
            }
            return ExceptionEntry(exception: exception, state: state, matches: matches, note: note)
        }

        let trend = trendPoints(days: days, moments: moments, hosts: everyHost.map(\.name), standings: { judged[$0]!.standings },
                                retirements: retirements)

        var runs = Set(allPatches.map(\.runId))
        var dataFrom: Date?
        var dataTo: Date?
        // Hosts retired during the period are in its trend's earlier days: their contacts are evidence too.
        for host in names.union(retired.filter(\.duringPeriod).map(\.name)) {
            guard let contacts = judged[host]?.contacts else { continue }
            runs.formUnion(contacts.runs)
            if let first = contacts.from { dataFrom = min(dataFrom ?? first, first) }
            if let last = contacts.to { dataTo = max(dataTo ?? last, last) }
        }
        let unmanaged = try unmanaged(request, store: store, asOf: asOf)
        let stateRuns = Set(entries.flatMap { [$0.lastScan?.runId, $0.lastDeployment?.runId].compactMap { $0 } })
        let evidence = Evidence(
            generatedAt: asOf, database: request.database, inventory: request.inventory, limit: request.limit, policy: policy?.name,
            periodFrom: since, periodTo: asOf, dataFrom: dataFrom, dataTo: dataTo, runs: runs.sorted(), stateRuns: stateRuns.sorted(),
            command: request.commandLine, notes: notes(ruleSet: ruleSet, staleDays: staleDays, entries: entries, hasInventory: request.inventory != nil)
                + retiredNotes(retired) + unmanagedNote(unmanaged))
        var standard = ruleSet
        standard.staleDays = staleDays
        return ComplianceReport(standard: standard, evidence: evidence, summary: summary, groups: groups, policies: policies,
                                hosts: entries, exceptions: exceptionEntries, trend: trend,
                                warnings: try AdvisoryWarnings.current(store: store, at: asOf) + store.retentionWarnings(periodFrom: since),
                                retired: retired, unmanaged: unmanaged)
    }

    /// What the report keeps of one host once its batch of history is judged.
    struct Judged {
        /// The verdict at the report's moment (used when the host is in scope and not retired then).
        var entry: HostEntry
        /// The verdict's counts on each trend day.
        var standings: [ComplianceEvaluator.Standing]
        /// The policies whose deployments reached it.
        var deployPolicies: Set<String>
        /// Its contacts, as evidence: their runs, the first start and the last finish.
        var contacts: (runs: [String], from: Date?, to: Date?)

        init(evaluator: ComplianceEvaluator, host: String, groups: [String], at date: Date, moments: [Date]) {
            entry = evaluator.evaluate(host: host, groups: groups, at: date)
            standings = evaluator.standings(of: host, at: moments)
            let observations = evaluator.history.observations[host] ?? []
            deployPolicies = Set(observations.compactMap { $0.kind == .deploy ? $0.policy : nil })
            contacts = (observations.map(\.runId), observations.map(\.startedAt).min(), observations.map(\.at).max())
        }
    }

    /// `patches`, `batches` lists of `ComplianceEvaluator.patches` one after the other (each sorted),
    /// sorted as that sorts one list, in place: ties that its sort breaks with more than time, host,
    /// package and version are within one host, so within one batch, whose order is kept.
    static func sortPatches(_ patches: inout [Patch], batches: Int) {
        guard batches > 1 else { return }
        let order = patches.indices.sorted { left, right in ComplianceEvaluator.precedes(patches[left], patches[right]) ?? (left < right) }
        ComplianceEvaluator.permute(&patches, by: order)
    }

    /// The hosts reported on, sorted by name, with their inventory groups.
    /// Without an inventory, the hosts are those history `known`s (sorted), with a policy those
    /// `deployedBy` it.
    static func scope(_ request: ComplianceRequest, policy: Policy?, known: [String], deployedBy: (String) -> Bool) throws
        -> [(name: String, groups: [String])] {
        var selected: [(name: String, groups: [String])]
        if let path = request.inventory {
            let inventory = try Inventory.load(path: path, environment: request.environment)
            var hosts = try inventory.select(request.limit, currentDirectory: request.currentDirectory)
            if let policy {
                // As a deployment reads them: unknown plain names in the list are left out.
                let targets = Set(try inventory.selectTargets(policy.targets).hosts.map(\.name))
                hosts = hosts.filter { targets.contains($0.name) }
            }
            selected = hosts.map { ($0.name, $0.groups.filter { $0 != "all" }.sorted()) }
        } else {
            var names = known
            if policy != nil { names = names.filter(deployedBy) }
            if let limit = request.limit {
                let inventory = try ReportScope.inventory(path: nil, known: names, environment: request.environment)
                names = try inventory.select(limit, currentDirectory: request.currentDirectory).map(\.name)
            }
            selected = names.map { ($0, []) }
        }
        return selected.sorted { $0.name < $1.name }
    }

    static func summarize(_ entries: [HostEntry], patches: [Patch]) -> Summary {
        let compliant = entries.filter(\.compliant).count
        return Summary(
            hosts: entries.count, compliant: compliant, nonCompliant: entries.count - compliant,
            percentCompliant: percent(compliant, of: entries.count), scanned: entries.filter { $0.lastScan != nil }.count,
            stale: entries.filter(\.stale).count, neverScanned: entries.filter { $0.lastScan == nil }.count,
            unreachable: entries.filter { $0.reachable == false }.count, rebootRequired: entries.filter { $0.rebootRequired == true }.count,
            missing: missingTotal(entries), ageHistogram: [], timeToPatch: timeToPatch(patches))
    }

    static func missingTotal(_ entries: [HostEntry]) -> Missing {
        var missing = Missing()
        for entry in entries {
            for finding in entry.updates { missing.add(finding) }
        }
        return missing
    }

    static func ageHistogram(_ entries: [HostEntry]) -> [AgeBucket] {
        AgeBucket.bounds.map { low, high in
            let count = entries.reduce(0) { total, entry in
                total + entry.updates.filter { $0.ageDays >= low && (high == nil || $0.ageDays <= high ?? 0) }.count
            }
            return AgeBucket(label: high.map { "\(low)–\($0) d" } ?? "> \(low - 1) d", minDays: low, maxDays: high, updates: count)
        }
    }

    static func timeToPatch(_ patches: [Patch]) -> TimeToPatch {
        // Summed in the list's order, as one pass over each list would; no copy of the security ones.
        var days = 0.0, securityDays = 0.0, security = 0
        for patch in patches {
            days += patch.days
            if patch.security {
                securityDays += patch.days
                security += 1
            }
        }
        let mean = { (total: Double, count: Int) -> Double? in count == 0 ? nil : (total / Double(count) * 10).rounded() / 10 }
        return TimeToPatch(patched: patches.count, meanDays: mean(days, patches.count), securityPatched: security,
                           securityMeanDays: mean(securityDays, security), patches: patches)
    }

    /// The UTC days from `from` to `to`, and the moment each is judged at: the day's last second
    /// (the last day's at `to`).
    static func trendDays(from: Date, to: Date) -> (days: [Date], moments: [Date]) {
        var days: [Date] = []
        var day = ReportDate.startOfDay(from)
        while day <= to {
            days.append(day)
            day = day.addingTimeInterval(86_400)
        }
        return (days, days.map { min($0.addingTimeInterval(86_399), to) })
    }

    /// One point per day of `trendDays`, from each host's standings on those days.
    /// Days before the first recorded contact with any of the hosts have no data: nobody was
    /// looking yet, so "never scanned, non-compliant" would be a 0 % that measures nothing.
    /// Each day's hosts are those of `scope` not retired at its moment.
    static func trendPoints(days: [Date], moments: [Date], hosts scope: [String], standings standingsOf: (String) -> [ComplianceEvaluator.Standing],
                            retirements: RetirementTimeline = .empty) -> [TrendPoint] {
        let standings = scope.map(standingsOf)
        return days.indices.map { index in
            let at = moments[index]
            let hosts = scope.indices.filter { !retirements.isRetired(scope[$0], at: at) }
            guard hosts.contains(where: { standings[$0][index].contacted }) else {
                return TrendPoint(day: ReportDate.day(days[index]), at: at, hosts: hosts.count, scanned: 0, compliant: nil,
                                  percentCompliant: nil, overdue: nil, missingSecurity: nil)
            }
            var scanned = 0, compliant = 0, overdue = 0, security = 0
            for host in hosts {
                let standing = standings[host][index]
                if standing.scanned { scanned += 1 }
                if standing.compliant { compliant += 1 }
                overdue += standing.overdue
                security += standing.security
            }
            return TrendPoint(day: ReportDate.day(days[index]), at: at, hosts: hosts.count, scanned: scanned, compliant: compliant,
                              percentCompliant: percent(compliant, of: hosts.count), overdue: overdue, missingSecurity: security)
        }
    }

    /// What an auditor needs about the hosts left out as retired: how many, when, and where to look.
    static func retiredNotes(_ retired: [RetiredHost]) -> [String] {
        guard !retired.isEmpty else { return [] }
        let during = retired.filter(\.duringPeriod).count
        let names = retired.prefix(10).map { "\($0.name) (\(ReportDate.day($0.retiredAt)))" }.joined(separator: ", ")
            + (retired.count > 10 ? ", …" : "")
        return ["\(retired.count) host\(retired.count == 1 ? "" : "s") retired, not in scope (\(during) during the period, "
                + "\(retired.count - during) before it): \(names); `patchctl hosts list` shows who retired them and why."]
    }

    static func notes(ruleSet: ComplianceRuleSet, staleDays: Int, entries: [HostEntry], hasInventory: Bool) -> [String] {
        var notes: [String] = []
        // Asked of every finding in place: a fleet's findings are not gathered into one more list.
        let anyFinding = { (test: (Finding) -> Bool) in entries.contains { $0.updates.contains(where: test) } }
        if anyFinding({ $0.security && $0.normalizedSeverity == .unknown }) || entries.contains(where: { $0.osFamily == "debian" }) {
            notes.append("apt (Debian, Ubuntu) reports no severity: its updates are rated by the CVEs an advisory feed (`patchctl advisories sync`) matched to them; a security update rated by neither is 'unrated' and counts as in scope of every security rule, whatever its min_severity.")
        }
        let unratedElsewhere = Set(entries.filter { $0.osFamily != nil && $0.osFamily != "debian" && $0.updates.contains { $0.security && $0.normalizedSeverity == .unknown } }
            .compactMap(\.osFamily)).sorted()
        if !unratedElsewhere.isEmpty {
            notes.append("Some \(unratedElsewhere.joined(separator: ", ")) security updates carry no vendor severity (scans recorded before severities were stored, or advisories without one): they are 'unrated' too, hence in scope.")
        }
        if anyFinding({ $0.releasedAt == nil }) || entries.contains(where: { $0.osFamily == "debian" }) {
            notes.append("apt publishes no release date per update: ages and deadlines count from the first scan that listed the update (first seen), which can be later than the vendor's release. Where a platform reports release dates, deadlines count from them.")
        }
        let organisation = ruleSet.rules.filter { $0.definedBy == .organisation }.map(\.name)
        if !organisation.isEmpty {
            notes.append("Organisation-defined time frames (\(ruleSet.name) sets no number for them): \(organisation.joined(separator: "; ")).")
        }
        notes.append("A host without a successful scan within \(staleDays) days, or never scanned, is non-compliant: there is no evidence of its state.")
        if !hasInventory {
            notes.append("No inventory given: the hosts are those in history, so a host never scanned cannot be listed.")
        }
        notes.append("Times are UTC. The same database and command (with --as-of) print this report again byte for byte.")
        return notes
    }
}
