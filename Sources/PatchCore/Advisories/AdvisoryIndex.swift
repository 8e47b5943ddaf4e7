import Foundation
import GRDB

/// The synced advisory data a run matches its hosts against, read from the run's history
/// database: once per run, and per ecosystem only when a host of that ecosystem is first
/// matched, so memory holds the ecosystems scanned and nothing else (KEV whole: it is small;
/// EPSS only for the CVEs those ecosystems and the endpoints name). Thread-safe: hosts are
/// parsed and matched concurrently. Verdicts are cached per (ecosystem, source package,
/// installed version, candidate): a fleet runs few distinct versions, so most hosts cost lookups.
public final class AdvisoryIndex: @unchecked Sendable {
    private let store: HistoryStore
    private let lock = NSLock()
    private var ecosystems: [String: [String: [PackageVulnerability]]] = [:]
    /// Per host OS's ecosystem list (`Ecosystem.of`), its ecosystems' vulnerabilities combined.
    private var merged: [String: [String: [PackageVulnerability]]] = [:]
    private var kev: Set<String>?
    private var epss: [String: Double] = [:]
    /// CVEs whose EPSS score was looked up (found or not).
    private var epssLooked = Set<String>()
    private let hasEPSS: Bool
    private var verdicts: [String: AdvisoryMatcher.Verdict] = [:]
    /// Verdicts kept at most; past it they are computed each time (still correct, only slower).
    static let maxCachedVerdicts = 200_000

    private init(store: HistoryStore, hasEPSS: Bool) {
        self.store = store
        self.hasEPSS = hasEPSS
    }

    /// Nil when no feed has been synced into `store` (no ranges, KEV or EPSS): then nothing is
    /// matched and a scan costs nothing more.
    public static func open(_ store: HistoryStore) throws -> AdvisoryIndex? {
        // Either store: a PostgreSQL history holds the feeds an export brought.
        let present = try store.rows("""
            SELECT EXISTS (SELECT 1 FROM advisory_ranges) AS ranges, EXISTS (SELECT 1 FROM kev) AS kev, EXISTS (SELECT 1 FROM epss) AS epss
            """).first
        let (ranges, kev, epss): (Bool, Bool, Bool) = (present?["ranges"] ?? false, present?["kev"] ?? false, present?["epss"] ?? false)
        guard ranges || kev || epss else { return nil }
        return AdvisoryIndex(store: store, hasEPSS: epss)
    }

    /// Matches one host's findings (the platform's scan, its installed packages) in place: each
    /// update's `cves`, and `unfixedCVEs`. A host of an OS no feed speaks of keeps the CVEs its
    /// endpoint named, with KEV and EPSS added.
    public func match(_ findings: inout ScanFindings, os: OSInfo) throws {
        let (names, scheme) = Ecosystem.of(os)
        let ecosystem = names.joined(separator: "|")
        let endpointCVEs = Set(findings.updates.flatMap { $0.cves.map(\.id) })
        let data = try data(names: names, scheme: scheme, extra: endpointCVEs)
        let result = AdvisoryMatcher.match(updates: findings.updates, installed: findings.installedBinaries, data: data) { package, version, candidate in
            self.verdict(ecosystem: ecosystem, package: package, version: version, candidate: candidate, data: data)
        }
        findings.updates = result.updates
        findings.unfixedCVEs = result.unfixed
    }

    /// The ecosystems loaded so far (tests: only those of the hosts matched).
    var loadedEcosystems: [String] { lock.withLock { ecosystems.keys.sorted() } }

    private func verdict(ecosystem: String, package: String, version: String, candidate: String?, data: AdvisoryData) -> AdvisoryMatcher.Verdict {
        let key = [ecosystem, package, version, candidate ?? ""].joined(separator: "\u{0}")
        if let known = lock.withLock({ verdicts[key] }) { return known }
        let verdict = AdvisoryMatcher.verdict(data.vulnerabilities[package] ?? [], installed: version, candidate: candidate, scheme: data.scheme)
        lock.withLock {
            if verdicts.count < Self.maxCachedVerdicts { verdicts[key] = verdict }
        }
        return verdict
    }

    /// The data for a host of these ecosystems, loading what is not loaded yet.
    func data(names: [String], scheme: VersionComparison.Scheme, extra: Set<String>) throws -> AdvisoryData {
        try lock.withLock {
            let key = names.joined(separator: "|")
            if merged[key] == nil {
                var combined: [String: [PackageVulnerability]] = [:]
                for name in names {
                    if ecosystems[name] == nil { ecosystems[name] = try load(ecosystem: name) }
                    if combined.isEmpty { combined = ecosystems[name]!; continue }
                    // The first (most specific) ecosystem's word stands for a vulnerability both name.
                    for (package, vulnerabilities) in ecosystems[name]! {
                        if combined[package] == nil { combined[package] = vulnerabilities; continue }
                        let known = Set(combined[package]!.map(\.id))
                        combined[package]! += vulnerabilities.filter { !known.contains($0.id) }
                    }
                }
                // Built once per set of ecosystems: hosts share it (copy-on-write, never copied).
                merged[key] = combined
            }
            if kev == nil { kev = Set(try store.rows("SELECT cve FROM kev").map { $0["cve"] as String }) }
            if hasEPSS {
                let missing = extra.subtracting(epssLooked)
                if !missing.isEmpty { try lookUpEPSS(missing) }
            }
            return AdvisoryData(scheme: scheme, vulnerabilities: merged[key]!, kev: kev ?? [], epss: epss)
        }
    }

    /// One ecosystem's ranges by package, each (vulnerability, package) from its winning feed, and
    /// the EPSS scores of its vulnerabilities.
    private func load(ecosystem: String) throws -> [String: [PackageVulnerability]] {
        let rows = try store.rows("""
            SELECT r.vulnerability, r.package, r.introduced, r.fixed, r.vendor_severity, r.severity, r.cvss, r.advisory, f.kind
            FROM advisory_ranges r JOIN advisory_feeds f ON f.id = r.feed_id
            WHERE r.ecosystem = ? ORDER BY r.package, r.vulnerability, f.id
            """, [ecosystem.databaseValue])
        var byPackage: [String: [PackageVulnerability]] = [:]
        for row in rows {
            guard let kind = AdvisoryFeedKind(rawValue: row["kind"]), let priority = kind.rangePriority else { continue }
            let severity: String = row["severity"]
            let range = AdvisoryRange(vulnerability: row["vulnerability"], ecosystem: ecosystem, package: row["package"],
                                      introduced: row["introduced"], fixed: row["fixed"], vendorSeverity: row["vendor_severity"],
                                      severity: Severity(name: severity) ?? .unknown, cvss: row["cvss"], advisory: row["advisory"])
            // Rows come sorted by package and vulnerability: the one to join is the last.
            Self.add(range, from: kind, priority: priority, to: &byPackage[range.package, default: []])
        }
        if hasEPSS {
            let scores = try store.rows("""
                SELECT cve, score FROM epss WHERE cve IN (SELECT DISTINCT vulnerability FROM advisory_ranges WHERE ecosystem = ?)
                """, [ecosystem.databaseValue])
            for row in scores { epss[row["cve"]] = row["score"] }
            epssLooked.formUnion(byPackage.values.joined().map(\.id))
        }
        return byPackage
    }

    private static func add(_ range: AdvisoryRange, from kind: AdvisoryFeedKind, priority: Int, to list: inout [PackageVulnerability]) {
        guard let last = list.indices.last, list[last].id == range.vulnerability else {
            list.append(PackageVulnerability(id: range.vulnerability, feed: kind, ranges: [range]))
            return
        }
        let current = list[last].feed.rangePriority ?? Int.max
        if priority < current {
            list[last] = PackageVulnerability(id: range.vulnerability, feed: kind, ranges: [range])
        } else if priority == current {
            list[last].ranges.append(range)
        }
    }

    private func lookUpEPSS(_ cves: Set<String>) throws {
        let list = Array(cves)
        for start in stride(from: 0, to: list.count, by: 500) {
            let chunk = Array(list[start..<min(start + 500, list.count)])
            let rows = try store.rows("SELECT cve, score FROM epss WHERE cve IN (\(databaseQuestionMarks(count: chunk.count)))",
                                      chunk.map(\.databaseValue))
            for row in rows { epss[row["cve"]] = row["score"] }
        }
        epssLooked.formUnion(cves)
    }
}
