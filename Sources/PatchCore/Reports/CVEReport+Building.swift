import Foundation

extension CVEReport {
    /// A CVE id as MITRE writes it (`CVE-2024-3094`), upper-cased; nil when `text` is not one.
    public static func normalizedID(_ text: String) -> String? { PolicyParser.cveID(text) }

    /// Reads each host's latest successful scan and pivots it by CVE. Order: KEV first, then
    /// severity (highest first), then hosts affected (most first), then id.
    public static func build(store: HistoryStore, filter: Filter, at now: Date) throws -> CVEReport {
        let exposures = try store.cveExposures(cves: filter.cves)
        let glob = filter.host.map(GlobPattern.init)
        var byCVE: [String: [HistoryStore.CVEExposure]] = [:]
        for exposure in exposures where glob?.matches(exposure.host) ?? true {
            byCVE[exposure.cve, default: []].append(exposure)
        }
        var entries = byCVE.map { id, rows in entry(id: id, rows) }.filter { entry in
            (!filter.kevOnly || entry.kev) && filter.minSeverity.map { entry.severity != .unknown && entry.severity >= $0 } ?? true
        }
        entries.sort { a, b in
            if a.kev != b.kev { return a.kev }
            if a.severity != b.severity { return a.severity > b.severity }
            if a.hostCount != b.hostCount { return a.hostCount > b.hostCount }
            return a.id < b.id
        }
        var omitted = 0
        if let limit = filter.limit, entries.count > limit {
            omitted = entries.count - limit
            entries = Array(entries.prefix(limit))
        }
        var bySeverity = Dictionary(uniqueKeysWithValues: Severity.allCases.map { ($0.name, 0) })
        for entry in entries { bySeverity[entry.severity.name, default: 0] += 1 }
        let summary = Summary(cves: entries.count, kev: entries.filter(\.kev).count,
                              hosts: Set(entries.flatMap { $0.hosts.map(\.host) }).count,
                              unfixed: entries.filter { $0.unfixedHosts > 0 }.count, bySeverity: bySeverity, omitted: omitted)
        return CVEReport(generatedAt: now, database: store.path, warnings: try AdvisoryWarnings.current(store: store, at: now),
                         cves: entries, summary: summary)
    }

    /// One CVE's rows (sorted by host, fixable first) as an entry: one exposure per host.
    static func entry(id: String, _ rows: [HistoryStore.CVEExposure]) -> Entry {
        var hosts: [Exposure] = []
        for (host, mine) in Dictionary(grouping: rows, by: \.host).sorted(by: { $0.key < $1.key }) {
            // A host with both a fixing update and an unfixed package (two source packages) needs both:
            // it is fixable only when nothing is left open.
            let fixing = mine.filter(\.fixable)
            let open = mine.filter { !$0.fixable }
            let shown = open.isEmpty ? fixing : open
            let top = mine.max { $0.severity < $1.severity } ?? mine[0]
            hosts.append(Exposure(
                host: host, packages: Array(Set(shown.map(\.package))).sorted(), installedVersion: shown.compactMap(\.installedVersion).first,
                fixedVersion: open.isEmpty ? (fixing.compactMap(\.availableVersion).first ?? fixing.compactMap(\.fixedVersion).first) : open.compactMap(\.fixedVersion).first,
                fixable: open.isEmpty, severity: top.severity, vendorSeverity: top.vendorSeverity,
                firstSeen: mine[0].firstSeen, firstRun: mine[0].firstRun, scanRun: mine[0].runId, scannedAt: mine[0].scannedAt))
        }
        let fixes = Set(rows.filter(\.fixable).map { Fix(package: $0.package, version: $0.fixedVersion ?? $0.availableVersion) })
        return Entry(
            id: id, severity: rows.map(\.severity).max() ?? .unknown,
            vendorSeverities: Array(Set(rows.compactMap(\.vendorSeverity))).sorted(), cvss: rows.compactMap(\.cvss).max(),
            kev: rows.contains(where: \.kev), hostCount: hosts.count, hosts: hosts,
            fixes: fixes.sorted { ($0.package, $0.version ?? "") < ($1.package, $1.version ?? "") },
            unfixedHosts: hosts.filter { !$0.fixable }.count, firstSeen: hosts.map(\.firstSeen).min() ?? rows[0].firstSeen)
    }
}
