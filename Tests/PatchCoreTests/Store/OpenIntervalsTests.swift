import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Open intervals reach the host's latest scan (migration v15, `FindingIntervals.openEnd`): a scan
/// that sees a finding unchanged writes nothing for it, closing sets the true last sighting, pruning
/// judges an open interval by its host's latest scan, and a v14 history migrates to the same answers.
@Suite("Open intervals", .serialized)
struct OpenIntervalsTests {
    typealias G = GeneratedHistory

    static let tables = ["finding_intervals", "cve_lists", "unfixed_cve_intervals"]

    /// Every stored interval and interval CVE, by column name (a PostgreSQL row's columns come in no particular order).
    static func intervals(_ store: HistoryStore) throws -> [String: [[String: DatabaseValue]]] {
        var result: [String: [[String: DatabaseValue]]] = [:]
        for table in tables {
            result[table] = try store.rows("SELECT * FROM \(table) ORDER BY 1, 2").map { row in
                Dictionary(row.map { ($0, $1) }, uniquingKeysWith: { first, _ in first })
            }
        }
        return result
    }

    /// The same scans, `days` later.
    static func later(_ scans: [HostScan], days: Double) -> [HostScan] {
        scans.map { scan in
            var copy = scan
            copy.startedAt += days * 86_400
            copy.finishedAt += days * 86_400
            return copy
        }
    }

    @Test(arguments: StoreKind.all) func anUnchangedScanWritesNoIntervalAndClosingRecordsTheTrueLastSighting(kind: StoreKind) async throws {
        let (made, history, nights, ids) = try await FindingIntervalsTests.recorded(kind, nights: 12, hosts: 5, seed: 5)
        let before = try Self.intervals(made.store)
        #expect((before["finding_intervals"]?.count ?? 0) > 20 && (before["unfixed_cve_intervals"]?.count ?? 0) > 0)

        // The last night again, a day later: every host as it was.
        let again = Self.later(nights[11].scans, days: 1)
        let rerun = try history.scan(at: G.day(12), again)
        #expect(try Self.intervals(made.store) == before, "an unchanged scan rewrote intervals")
        let previous = try made.store.run(id: ids[11]), current = try made.store.run(id: rerun)
        for scan in again where scan.status == .ok {
            let seen = try #require(current.hosts.first { $0.name == scan.name })
            #expect(seen.updates == previous.hosts.first { $0.name == scan.name }?.updates && seen.updates == FindingIntervalsTests.normalized(scan).updates)
            #expect(seen.unfixedCVEs == FindingIntervalsTests.normalized(scan).unfixedCVEs)
        }

        // One host's findings all go: they close at its next scan, last seen by the rerun.
        let host = try #require(again.first { $0.status == .ok && !$0.updates.isEmpty }).name
        var cleared = Self.later(again, days: 1)
        for index in cleared.indices where cleared[index].name == host {
            cleared[index].updates = []
            cleared[index].unfixedCVEs = []
        }
        let third = try history.scan(at: G.day(13), cleared)
        let seq: Int64 = try #require(try made.store.rows("SELECT scan_seq FROM run_hosts WHERE run_id = ? AND host = ?",
                                                          [rerun.databaseValue, host.databaseValue]).first?["scan_seq"])
        let rerunStart = try #require(again.first { $0.name == host }).startedAt
        // An interval names its last sighting and its closing by the host's sequence numbers (v19): the runs are run_hosts'.
        let closed = try made.store.rows("""
            SELECT i.last_seq, i.closed_seq, l.run_id AS last_run, l.started_at AS last_at FROM finding_intervals i
            JOIN run_hosts c ON c.host = i.host AND c.scan_seq = i.closed_seq JOIN run_hosts l ON l.host = i.host AND l.scan_seq = i.last_seq
            WHERE i.host = ? AND c.run_id = ?
            """, [host.databaseValue, third.databaseValue])
        #expect(!closed.isEmpty)
        for row in closed {
            #expect(row["last_seq"] as Int64 == seq && row["closed_seq"] as Int64 == seq + 1)
            #expect(row["last_run"] as String == rerun && row["last_at"] as Date == rerunStart)
        }
        #expect(try made.store.run(id: third).hosts.first { $0.name == host }?.updates == [])
        #expect(try made.store.run(id: rerun).hosts.first { $0.name == host }?.updates == previous.hosts.first { $0.name == host }?.updates)
        // Still open: no other host's interval moved.
        let open: [Int64] = try made.store.rows("SELECT DISTINCT last_seq FROM finding_intervals WHERE closed_seq IS NULL").map { $0["last_seq"] }
        #expect(open == [FindingIntervals.openEnd])
    }

    /// Stores intervals as v14 did: each with the runs and times of its last sighting and its closing
    /// (v19 keeps sequence numbers only) and every version's first sighting spelled out, open ones
    /// with `last_*` moved to the host's latest scan, with its `last_run` indexes; and forgets
    /// migrations v15, v19 and v20.
    static func asVersion14(_ made: TestStore, kind: StoreKind) async throws {
        // v14 kept an open interval's `last_*` at the host's latest scan.
        var statements = IdentityKeysTests.version21Shape + IntervalSequencesTests.version18Columns(kind: kind)
        for table in ["finding_intervals", "unfixed_cve_intervals"] {
            statements.append("""
                UPDATE \(table) SET last_seq = (SELECT s.last_seq FROM scan_hosts s WHERE s.host = \(table).host),
                    last_run = (SELECT s.last_run FROM scan_hosts s WHERE s.host = \(table).host),
                    last_at = (SELECT s.last_at FROM scan_hosts s WHERE s.host = \(table).host)
                WHERE closed_seq IS NULL
                """)
        }
        statements += ["CREATE INDEX finding_intervals_by_last_run ON finding_intervals(last_run)",
                       "CREATE INDEX unfixed_cve_intervals_by_last_run ON unfixed_cve_intervals(last_run)"]
        try await made.rewind(statements, forgetting: HistoryStore.openIntervalsMigration, HistoryStore.intervalSequencesMigration,
                              HistoryStore.closingCodesMigration, HistoryStore.identityKeysMigration)
    }

    @Test(arguments: StoreKind.all) func aVersion14HistoryMigratesToTheSameAnswers(kind: StoreKind) async throws {
        let (made, _, _, ids) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 9)
        let runs = try ids.map { try made.store.run(id: $0) }
        let exposures = try made.store.cveExposures()
        let stored = try Self.intervals(made.store)

        try await Self.asVersion14(made, kind: kind)
        // Every closed interval's runs were found, and no version's first sighting is left NULL.
        #expect(try made.store.rows("""
            SELECT COUNT(*) AS n FROM finding_intervals WHERE last_run IS NULL OR (closed_seq IS NOT NULL AND closed_run IS NULL) OR version_first_run IS NULL
            """).first?["n"] == 0)
        let old: [Int64] = try made.store.rows("SELECT DISTINCT last_seq FROM finding_intervals WHERE closed_seq IS NULL ORDER BY 1").map { $0["last_seq"] }
        #expect(!old.isEmpty && !old.contains(FindingIntervals.openEnd), "the v14 shape: \(old)")

        let migrated = try await made.reopen()
        #expect(try migrated.rows("SELECT COUNT(*) AS n FROM finding_intervals WHERE closed_seq IS NULL AND last_seq <> \(FindingIntervals.openEnd)")
                    .first?["n"] == 0)
        for (id, run) in zip(ids, runs) { #expect(try migrated.run(id: id) == run, "history show \(id)") }
        #expect(try migrated.cveExposures() == exposures)
        // Closed intervals are as they were (the columns v19 drops gone again); open ones differ only in the `last_seq` v14 moved.
        // Keys (v22) are made as hosts change, not by the migration.
        let after = try Self.intervals(migrated)
        for table in Self.tables {
            let strip = { (rows: [[String: DatabaseValue]]) in
                rows.map { row in ((row["closed_seq"]?.isNull ?? false) ? row.filter { $0.key != "last_seq" } : row).filter { $0.key != "identity_key" } }
            }
            #expect(strip(after[table] ?? []) == strip(stored[table] ?? []), "\(table)")
        }
        #expect(try kind.names(migrated, sqlite: "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%by_last_run'",
                               postgres: "SELECT indexname::text AS name FROM pg_indexes WHERE indexname LIKE '%by_last_run'").isEmpty)
    }

    @Test(arguments: StoreKind.all) func pruneJudgesAnOpenIntervalByItsHostsLatestScan(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let curl = G.update("curl", "7.88.1-10", "7.88.1-10+deb12u8"), bash = G.update("bash", "5.2.15-2", "5.2.15-2+b7")
        // "kept": scanned every day, its findings open since day 0; "gone": scanned on day 0 only.
        try history.scan(at: G.day(0), [G.host("kept", at: G.day(0), [curl]), G.host("gone", at: G.day(0), [bash])])
        for day in 1..<10 { try history.scan(at: G.day(Double(day)), [G.host("kept", at: G.day(Double(day)), [curl])]) }
        let pruned = try made.store.prune(before: G.day(5, hour: 0), dryRun: false, user: "tester", now: G.day(10))
        #expect(pruned.findingIntervals == 1)
        let left: [String] = try made.store.rows("SELECT host FROM finding_intervals").map { $0["host"] }
        #expect(left == ["kept"])
        let latest = try #require(try made.store.runs(limit: 1).first)
        #expect(try made.store.run(id: latest.runId).hosts.first?.updates.map(\.name) == ["curl"])
        // "gone" comes back seeing what it saw before the cut: its findings open again, though its
        // latest sighting (pruned with them) saw the same.
        let back = try history.scan(at: G.day(11), [G.host("gone", at: G.day(11), [bash]), G.host("kept", at: G.day(11), [curl])])
        let read = try made.store.run(id: back).hosts
        #expect(read.first { $0.name == "gone" }?.updates.map(\.name) == ["bash"] && read.first { $0.name == "kept" }?.updates.map(\.name) == ["curl"])
    }

    @Test(arguments: StoreKind.all) func aClosingWhoseLastSightingWasPrunedKeepsItsFirstSightingAndALaterPruneTakesIt(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let curl = G.update("curl", "7.88.1-10", "7.88.1-10+deb12u8")
        // The cut falls inside day 5's run: the run (begun 3 s before) goes, the host's scan in it (2 s before) is after the cut.
        let first = try history.scan(at: G.day(0), [G.host("edge", at: G.day(0), [curl])])
        let straddling = try history.scan(at: G.day(5), [G.host("edge", at: G.day(5), [curl])])
        _ = try made.store.prune(before: G.day(5).addingTimeInterval(-2.5), dryRun: false, user: "tester", now: G.day(6))
        #expect(throws: PatchError.self) { try made.store.run(id: straddling) }
        let closing = try history.scan(at: G.day(11), [G.host("edge", at: G.day(11), [])])
        let run = { (seq: String) in "(SELECT h.run_id FROM run_hosts h WHERE h.host = i.host AND h.scan_seq = i.\(seq))" }
        let rows = try made.store.rows("""
            SELECT first_run, last_seq, \(run("last_seq")) AS last_run, closed_seq, \(run("closed_seq")) AS closed_run, closed_reason FROM finding_intervals i
            """)
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        // Sequence numbers still count the pruned scan, whose run is gone; the first sighting stays.
        #expect(row["last_seq"] as Int64 == 2 && row["closed_seq"] as Int64 == 3 && row["closed_run"] as String == closing)
        #expect(row["first_run"] as String == first && (row["last_run"] as DatabaseValue).isNull && row["closed_reason"] as IntervalCloseReason == .fixedElsewhere)
        #expect(try made.store.run(id: closing).hosts.first?.updates == [])
        // A cut after the closing takes it: the host's scans are cut at the latest one a deleted run holds.
        let later = try made.store.prune(before: G.day(11).addingTimeInterval(1), dryRun: false, user: "tester", now: G.day(12))
        #expect(later.findingIntervals == 1)
        #expect(try made.store.rows("SELECT COUNT(*) AS n FROM finding_intervals").first?["n"] == 0)
    }

    @Test(arguments: StoreKind.all) func aSightingDigestCoversEveryPartOfAFindingsIdentity(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        var update = G.update("openssl", "3.0.11-1", "3.0.13-1")
        update.cves = [CVEReference(id: "CVE-2026-1001", severity: .high, fixedVersion: "3.0.13-1", source: "debian-tracker")]
        let unfixed = UnfixedCVE(id: "CVE-2026-2002", package: "openssl", packages: ["openssl"], source: "openssl", severity: .medium, feed: "debian-tracker")
        var scan = G.host("web1", at: G.day(0), [update])
        scan.unfixedCVEs = [unfixed]
        // Each night changes one thing only a finding's identity holds, then repeats it unchanged.
        var changes: [(String, (inout HostScan) -> Void)] = [
            ("severity", { $0.updates[0].severity = "Important" }),
            ("source", { $0.updates[0].source = "Debian-Security:12/stable-security" }),
            ("security", { $0.updates[0].security = false }),
            ("CVE severity", { $0.updates[0].cves[0].severity = .critical }),
            ("CVE kev", { $0.updates[0].cves[0].kev = true }),
            ("unfixed CVE severity", { $0.unfixedCVEs[0].severity = .high }),
            ("unfixed CVE packages", { $0.unfixedCVEs[0].packages = ["openssl", "libssl3"] }),
            ("unfixed CVE gone", { $0.unfixedCVEs = [] }),
        ]
        changes.insert(("first", { _ in }), at: 0)
        var day = 0.0
        for (what, change) in changes {
            change(&scan)
            for _ in 0..<2 {
                scan.startedAt = G.day(day).addingTimeInterval(-2)
                scan.finishedAt = G.day(day)
                let id = try history.scan(at: G.day(day), [scan])
                let read = try #require(try made.store.run(id: id).hosts.first)
                #expect(read.updates == FindingIntervalsTests.normalized(scan).updates, "\(what), day \(day)")
                #expect(read.unfixedCVEs == FindingIntervalsTests.normalized(scan).unfixedCVEs, "\(what), day \(day)")
                day += 1
            }
        }
        let intervals: Int = try made.store.rows("SELECT COUNT(*) AS n FROM finding_intervals").first?["n"] ?? 0
        let unfixedIntervals: Int = try made.store.rows("SELECT COUNT(*) AS n FROM unfixed_cve_intervals").first?["n"] ?? 0
        #expect(intervals == 6 && unfixedIntervals == 3, "one interval per change: \(intervals) and \(unfixedIntervals)")
    }
}
