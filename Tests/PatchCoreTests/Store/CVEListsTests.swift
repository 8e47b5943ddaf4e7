import Foundation
import GRDB
import Testing
@testable import PatchCore

/// CVE lists are stored once by digest (migration v18, `cve_lists`): hosts and packages that share
/// a list share its rows, every reader sees the same CVEs as when each interval held its own, a
/// prune drops the lists no interval names any more, and a v17 history migrates to the same answers.
@Suite("CVE lists by digest", .serialized)
struct CVEListsTests {
    typealias G = GeneratedHistory

    /// Rows of `sql` by column name (a PostgreSQL row's columns come in no particular order).
    static func named(_ store: HistoryStore, _ sql: String) throws -> [[String: DatabaseValue]] {
        try store.rows(sql).map { row in Dictionary(row.map { ($0, $1) }, uniquingKeysWith: { first, _ in first }) }
    }

    static func count(_ store: HistoryStore, _ table: String) throws -> Int {
        try store.rows("SELECT COUNT(*) AS n FROM \(table)").first?["n"] ?? -1
    }

    /// Stores CVE rows as v17 did, one per interval (`finding_interval_cves`, with its index, the
    /// view over it and the wider first-sighting index), and forgets migration v18.
    static func asVersion17(_ made: TestStore, kind: StoreKind) async throws {
        let statements = [
            """
            CREATE TABLE finding_interval_cves (
                interval_id BIGINT NOT NULL REFERENCES finding_intervals(id) ON DELETE CASCADE,
                cve TEXT NOT NULL, severity TEXT NOT NULL, vendor_severity TEXT, cvss DOUBLE PRECISION, kev BOOLEAN NOT NULL,
                epss DOUBLE PRECISION, fixed_version TEXT, source TEXT NOT NULL,
                PRIMARY KEY (interval_id, cve)
            )
            """,
            "CREATE INDEX finding_interval_cves_by_cve ON finding_interval_cves(cve)",
            """
            INSERT INTO finding_interval_cves (interval_id, cve, severity, vendor_severity, cvss, kev, epss, fixed_version, source)
            SELECT i.id, c.cve, c.severity, c.vendor_severity, c.cvss, c.kev, c.epss, c.fixed_version, c.source
            FROM finding_intervals i JOIN cve_lists c ON c.digest = i.cves_digest
            """,
            "DROP VIEW finding_cves",
            """
            CREATE VIEW finding_cves AS
                SELECT f.run_id, f.host, f.package, f.architecture, c.cve, c.severity, c.vendor_severity, c.cvss, c.kev, c.epss,
                       c.fixed_version, c.source, f.interval_id
                FROM findings f JOIN finding_interval_cves c ON c.interval_id = f.interval_id
            """,
            "DROP TABLE cve_lists",
            "DROP INDEX finding_intervals_by_package",
            "CREATE INDEX finding_intervals_first_seen ON finding_intervals(host, package, available_version, version_first_run)",
        ]
        // On PostgreSQL, what the administrator made belongs to the history's own user, as the v17 schema's objects did.
        let owned = kind == .postgres ? ["ALTER TABLE finding_interval_cves OWNER TO patchctl", "ALTER VIEW finding_cves OWNER TO patchctl"] : []
        try await made.rewind(statements + owned, forgetting: HistoryStore.cveListsMigration)
    }

    static func indexes(_ store: HistoryStore, kind: StoreKind) throws -> Set<String> {
        try kind.names(store, sqlite: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'finding_intervals'",
                       postgres: "SELECT indexname::text AS name FROM pg_indexes WHERE tablename = 'finding_intervals'")
    }

    @Test(arguments: StoreKind.all) func aVersion17HistoryMigratesToTheSameAnswers(kind: StoreKind) async throws {
        let (made, _, _, ids) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 9)
        let runs = try ids.map { try made.store.run(id: $0) }
        let exposures = try made.store.cveExposures()
        let lists = "SELECT * FROM cve_lists ORDER BY digest, cve"
        let stored = try Self.named(made.store, lists)
        let intervals = try Self.named(made.store, "SELECT * FROM finding_intervals ORDER BY id")
        let cves = "SELECT run_id, host, package, architecture, cve, severity, kev, interval_id FROM finding_cves ORDER BY 1, 2, 3, 4, 5"
        let viewed = try Self.named(made.store, cves)
        #expect(exposures.contains { $0.fixable } && runs.contains { $0.hosts.contains { $0.updates.contains { !$0.cves.isEmpty } } })

        try await Self.asVersion17(made, kind: kind)
        // The v17 shape holds a list once per interval that names it: more rows than lists.
        let perInterval = try Self.count(made.store, "finding_interval_cves")
        #expect(perInterval > stored.count, "\(perInterval) interval rows for \(stored.count) list rows")

        let migrated = try await made.reopen()
        #expect(try Self.named(migrated, lists) == stored)
        #expect(try Self.named(migrated, "SELECT * FROM finding_intervals ORDER BY id") == intervals)
        #expect(try Self.named(migrated, cves) == viewed)
        for (id, run) in zip(ids, runs) { #expect(try migrated.run(id: id) == run, "history show \(id)") }
        #expect(try migrated.cveExposures() == exposures)
        #expect(try kind.names(migrated, sqlite: "SELECT name FROM sqlite_master WHERE name = 'finding_interval_cves'",
                               postgres: "SELECT to_regclass('finding_interval_cves')::text AS name WHERE to_regclass('finding_interval_cves') IS NOT NULL")
            .isEmpty)
        let left = try Self.indexes(migrated, kind: kind)
        #expect(left.contains("finding_intervals_by_package") && !left.contains("finding_intervals_first_seen"), "\(left.sorted())")
    }

    @Test(arguments: StoreKind.all) func hostsAndPackagesShareAListAndPruneDropsTheListsNoIntervalNames(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let advisory = [CVEReference(id: "CVE-2026-1001", severity: .high, fixedVersion: "3.0.13-1", source: "debian-tracker"),
                        CVEReference(id: "CVE-2026-1002", severity: .medium, kev: true, fixedVersion: "3.0.13-1", source: "debian-tracker")]
        var openssl = G.update("openssl", "3.0.11-1", "3.0.13-1"), libssl = G.update("libssl3", "3.0.11-1", "3.0.13-1")
        openssl.cves = advisory
        libssl.cves = advisory
        var curl = G.update("curl", "7.88.1-10", "7.88.1-10+deb12u8")
        curl.cves = [CVEReference(id: "CVE-2026-3003", severity: .low, fixedVersion: "7.88.1-10+deb12u8", source: "debian-tracker")]
        // Day 0: two hosts, both packages of one advisory, and curl on "old" only.
        let first = try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [openssl, libssl]), G.host("old", at: G.day(0), [openssl, curl])])
        #expect(try Self.count(made.store, "cve_lists") == 3, "one list of two CVEs, one of one")
        #expect(try Self.count(made.store, "finding_intervals") == 4)
        // Every interval reads its list back.
        for host in try made.store.run(id: first).hosts {
            for update in host.updates {
                #expect(update.cves == (update.name == "curl" ? curl.cves : advisory).sorted { $0.id < $1.id }, "\(host.name) \(update.name)")
            }
        }
        // A changed list (the feed now knows CVE-2026-1001 is exploited) is another list; the old one stays while "old" names it.
        var exploited = advisory
        exploited[0].kev = true
        openssl.cves = exploited
        libssl.cves = exploited
        for day in 1...9 {
            try history.scan(at: G.day(Double(day)), [G.host("web1", at: G.day(Double(day)), [openssl, libssl])])
        }
        #expect(try Self.count(made.store, "cve_lists") == 5)
        // "old" was last scanned on day 0: its intervals go with the prune, and so do the lists only they named
        // (the first advisory list, web1's closed intervals aside, and curl's).
        _ = try made.store.prune(before: G.day(5, hour: 0), dryRun: false, user: "tester", now: G.day(10))
        let digests = Set(try made.store.rows("SELECT DISTINCT cves_digest FROM finding_intervals").map { $0["cves_digest"] as String })
        let kept = Set(try made.store.rows("SELECT DISTINCT digest FROM cve_lists").map { $0["digest"] as String })
        #expect(kept == digests && kept.count == 1)
        let latest = try #require(try made.store.runs(limit: 1).first)
        #expect(try made.store.run(id: latest.runId).hosts.first?.updates.map(\.cves) == [exploited, exploited])
        #expect(try made.store.cveExposures().map(\.kev) == [true, true, true, true])
    }
}
