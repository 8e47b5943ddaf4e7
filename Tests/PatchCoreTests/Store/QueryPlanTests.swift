import Foundation
import GRDB
import Testing
@testable import PatchCore

/// History's main queries never scan a table that grows with history (runs' hosts, finding
/// intervals and their CVEs, deployments' packages, events): each statement the store runs while
/// recording a scan and while answering `history`, `history show`, the compliance family of
/// reports, `diff`, `report cves` and `hosts list` is captured and its plan checked with EXPLAIN QUERY PLAN, so
/// a full scan cannot come back unnoticed.
@Suite("History query plans")
struct QueryPlanTests {
    typealias G = GeneratedHistory

    /// Tables whose size follows history's length; `runs` (one row per run) and `scan_hosts` (one
    /// per host) may be scanned.
    static let historySized: Set<String> = [
        "run_hosts", "finding_intervals", "cve_lists", "unfixed_cve_intervals", "deploy_packages", "deploy_hosts",
        "command_results", "events", "discovered_hosts", "discovered_keys",
    ]

    final class Captured: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func add(_ sql: String) { lock.withLock { list.append(sql) } }
        var statements: [String] { lock.withLock { Array(Set(list)).sorted() } }
    }

    /// Alias → table, from every `FROM x [AS] y` and `JOIN x [AS] y` in `sql`.
    static func aliases(_ sql: String) -> [String: String] {
        var result: [String: String] = [:]
        let pattern = try! NSRegularExpression(pattern: #"\b(?:FROM|JOIN)\s+([A-Za-z_]+)(?:\s+(?:AS\s+)?([A-Za-z_]+))?"#, options: [.caseInsensitive])
        let keywords: Set<String> = ["WHERE", "ON", "JOIN", "LEFT", "INNER", "GROUP", "ORDER", "LIMIT", "UNION", "USING", "AND", "WITH"]
        for match in pattern.matches(in: sql, range: NSRange(sql.startIndex..., in: sql)) {
            guard let table = Range(match.range(at: 1), in: sql).map({ String(sql[$0]) }) else { continue }
            result[table] = table
            if let alias = Range(match.range(at: 2), in: sql).map({ String(sql[$0]) }), !keywords.contains(alias.uppercased()) {
                result[alias] = table
            }
        }
        return result
    }

    /// Every full scan of a history-sized table in the plans of `statements`.
    static func fullScans(_ statements: [String], in db: Database, historySized: Set<String> = QueryPlanTests.historySized) throws -> [String] {
        // The views' own aliases (h, i, u, f, c) appear in the plans of statements that read them.
        var views: [String: String] = [:]
        for sql in try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'view'") {
            views.merge(aliases(sql)) { first, _ in first }
        }
        var found: [String] = []
        for sql in statements {
            let trimmed = sql.trimmingCharacters(in: .whitespacesAndNewlines)
            guard trimmed.uppercased().hasPrefix("SELECT") || trimmed.uppercased().hasPrefix("WITH") || trimmed.uppercased().hasPrefix("UPDATE")
                    || trimmed.uppercased().hasPrefix("DELETE") else { continue }
            let names = views.merging(aliases(trimmed)) { _, statement in statement }
            let statement = try db.makeStatement(sql: "EXPLAIN QUERY PLAN " + trimmed)
            // Unbound parameters are NULL: the plan does not depend on their values.
            statement.setUncheckedArguments(StatementArguments(Array(repeating: DatabaseValue.null, count: trimmed.filter { $0 == "?" }.count)))
            for row in try Row.fetchAll(statement) {
                let detail: String = row["detail"]
                guard detail.hasPrefix("SCAN ") else { continue }
                let target = String(detail.dropFirst(5).prefix { $0 != " " })
                if let table = names[target] ?? (historySized.contains(target) ? target : nil), historySized.contains(table) {
                    found.append("\(detail)\n  in: \(trimmed.replacingOccurrences(of: "\n", with: " "))")
                }
            }
        }
        return found
    }

    @Test func recordingAndReportingNeverScanAHistorySizedTable() throws {
        let history = try G.fresh()
        let nights = FindingIntervalsTests.nights(12, hosts: 4, seed: 5)
        let ids = try FindingIntervalsTests.record(nights, into: history)

        // Recording: the writer connection's statements while one more night is recorded.
        let writes = Captured()
        try history.store.pool.writeWithoutTransaction { db in db.trace { writes.add(String(describing: $0)) } }
        var night = FindingIntervalsTests.nights(13, hosts: 4, seed: 5).last!
        night.deploys = []
        try history.scan(at: G.day(12), night.scans)

        // Reading: a read-only store is one connection.
        let store = try HistoryStore(readOnly: history.store.path)
        let reads = Captured()
        try store.pool.read { db in db.trace { reads.add(String(describing: $0)) } }
        _ = try store.runs(limit: 20)
        _ = try store.run(id: ids[3])
        _ = try store.reportHistory(upTo: G.day(12, hour: 20), detailFrom: G.day(5))
        _ = try store.cveExposures()
        _ = try store.cveExposures(cves: ["CVE-2026-1001"])
        _ = try store.latestScannedFamilies()
        _ = try store.openCVEs([(ids[2], "host1"), (ids[3], "host2")])
        // `hosts list` and the absent rule: one index search per host, not a pass over every contact.
        _ = try store.knownHosts()
        _ = try store.retirements(upTo: G.day(12))
        // `approve`'s check of a package and version (and its hints): the fleet's versions, not every interval.
        _ = try store.hasPackage("libssl3", version: "9.9")
        _ = try store.availableVersions(of: "libssl3")
        _ = try store.packageNames()
        #expect(try store.hostNames() == ["host1", "host2", "host3", "host4"])
        #expect(reads.statements.count > 8 && writes.statements.count > 5, "statements were captured")

        let scans = try store.pool.read { db in try Self.fullScans(reads.statements, in: db) }
            + history.store.pool.read { db in try Self.fullScans(writes.statements, in: db) }
        #expect(scans.isEmpty, "full scans of history-sized tables:\n\(scans.joined(separator: "\n"))")
    }

    /// `history show` reads, of each host in the run, only the intervals that reach the run: by host and
    /// sequence number. Searched by host alone (in package order, say), a host's every interval of a year is read.
    @Test func aRunsHostsAreReadThroughTheSequenceIndexes() throws {
        let history = try G.fresh()
        // More hosts than a batch (`ScanRunOutline.batch`): the plan SQLite picks depends on how many hosts a query names.
        let ids = try FindingIntervalsTests.record(FindingIntervalsTests.nights(4, hosts: ScanRunOutline.batch + 10, seed: 3), into: history)
        let store = try HistoryStore(readOnly: history.store.path)
        let reads = Captured()
        try store.pool.read { db in db.trace { reads.add(String(describing: $0)) } }
        let run = try store.run(id: ids[2])
        #expect(run.hosts.count > ScanRunOutline.batch && run.hosts.contains { !$0.updates.isEmpty })
        let searches = try store.pool.read { db in
            try reads.statements.filter { $0.contains("finding") || $0.contains("unfixed") }.flatMap { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: StatementArguments(Array(repeating: DatabaseValue.null, count: sql.filter { $0 == "?" }.count)))
                    .map { $0["detail"] as String }.filter { $0.contains("_intervals") }
            }
        }
        #expect(searches.count >= 3, "\(reads.statements)")
        let other = searches.filter { !$0.contains("_intervals_by_seq (host=? AND last_seq>?)") }
        #expect(other.isEmpty, "\(other)")
    }

    @Test func theCheckSeesAFullScan() throws {
        let history = try G.fresh()
        try FindingIntervalsTests.record(FindingIntervalsTests.nights(2, hosts: 2, seed: 1), into: history)
        let scans = try history.store.pool.read { db in
            try Self.fullScans(["SELECT COUNT(*) FROM findings f WHERE f.security", "SELECT * FROM run_hosts h WHERE h.error LIKE 'x%'"], in: db)
        }
        #expect(scans.count >= 2, "\(scans)")
    }
}
