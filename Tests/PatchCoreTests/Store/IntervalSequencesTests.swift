import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Intervals name their last sighting and their closing by the host's sequence numbers (migration
/// v19): those scans' runs and times are `run_hosts`', every run still reads back what it saw, a
/// version's first sighting is stored only where it is not the interval's own, and a v18 history
/// migrates to the same answers.
@Suite("Interval sequences", .serialized)
struct IntervalSequencesTests {
    typealias G = GeneratedHistory

    static let dropped = ["last_run", "last_at", "closed_run", "closed_at"]

    /// Statements that give the interval tables v18's columns back, filled as v18 filled them: the
    /// runs and times of a closed interval's last sighting and closing (from `run_hosts`, by sequence
    /// number), an open one's `last_*` left at its opening, every version's first sighting spelled
    /// out, and closing reasons stored by name (v20 stores codes): forget v20 with v19.
    static func version18Columns(kind: StoreKind) -> [String] {
        let time = kind == .postgres ? "TEXT" : "DATETIME"
        var statements = ClosingCodesTests.reasonNames(kind: kind)
        for table in ["finding_intervals", "unfixed_cve_intervals"] {
            statements += ["last_run TEXT", "last_at \(time)", "closed_run TEXT", "closed_at \(time)"].map { "ALTER TABLE \(table) ADD COLUMN \($0)" }
            let scan = { (column: String, seq: String) in
                "(SELECT h.\(column) FROM run_hosts h WHERE h.host = \(table).host AND h.scan_seq = \(table).\(seq))"
            }
            statements.append("""
                UPDATE \(table) SET last_run = \(scan("run_id", "last_seq")), last_at = \(scan("started_at", "last_seq")),
                    closed_run = \(scan("run_id", "closed_seq")), closed_at = \(scan("started_at", "closed_seq"))
                WHERE closed_seq IS NOT NULL
                """)
            statements.append("UPDATE \(table) SET last_run = first_run, last_at = first_at WHERE closed_seq IS NULL")
        }
        statements.append("""
            UPDATE finding_intervals SET version_first_run = COALESCE(version_first_run, first_run), version_first_at = COALESCE(version_first_at, first_at)
            """)
        return statements
    }

    static func columns(_ store: HistoryStore, _ table: String, kind: StoreKind) throws -> Set<String> {
        try kind.names(store, sqlite: "SELECT name FROM pragma_table_info('\(table)')",
                       postgres: "SELECT column_name::text AS name FROM information_schema.columns WHERE table_name = '\(table)'")
    }

    @Test(arguments: StoreKind.all) func theScansAnIntervalNamesAreTheRunsThatSawItAndTheOneThatDidNot(kind: StoreKind) async throws {
        let (made, _, _, _) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 9)
        let closed = try made.store.rows("""
            SELECT i.host, i.package, i.architecture, i.available_version, l.run_id AS last_run, c.run_id AS closed_run, i.closed_reason
            FROM finding_intervals i JOIN run_hosts l ON l.host = i.host AND l.scan_seq = i.last_seq
            JOIN run_hosts c ON c.host = i.host AND c.scan_seq = i.closed_seq
            """)
        let count: Int = try made.store.rows("SELECT COUNT(*) AS n FROM finding_intervals WHERE closed_seq IS NOT NULL").first?["n"] ?? -1
        #expect(closed.count == count && count > 10, "every closed interval's scans are recorded")
        var runs: [String: ScanRun] = [:]
        let read = { (id: String) throws -> ScanRun in
            if let run = runs[id] { return run }
            let run = try made.store.run(id: id)
            runs[id] = run
            return run
        }
        for row in closed {
            let host: String = row["host"], package: String = row["package"], version: String = row["available_version"]
            let architecture = HistoryStore.architecture(row["architecture"])
            let seen = { (id: String) throws -> [PendingUpdate] in
                (try read(id).hosts.first { $0.name == host }?.updates ?? []).filter { $0.name == package && $0.architecture == architecture }
            }
            #expect(try seen(row["last_run"]).contains { $0.availableVersion == version }, "\(host) \(package): its last sighting lists it")
            let after = try seen(row["closed_run"])
            // Closed as superseded: the same package is still pending, with another version or other attributes.
            let reason: IntervalCloseReason = row["closed_reason"]
            #expect((reason == .superseded) == !after.isEmpty, "\(host) \(package) \(reason)")
        }
        // A version's first sighting is stored only where it is another interval's.
        let own: Int = try made.store.rows("""
            SELECT COUNT(*) AS n FROM finding_intervals WHERE version_first_run = first_run OR version_first_at = first_at
            """).first?["n"] ?? -1
        #expect(own == 0)
    }

    @Test(arguments: StoreKind.all) func aVersion18HistoryMigratesToTheSameAnswers(kind: StoreKind) async throws {
        let (made, _, _, ids) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 9)
        let answers = try HistoryAnswers(made.store, location: made.location, runs: ids)
        let all = "SELECT * FROM %@ ORDER BY id"
        let stored = try ["finding_intervals", "unfixed_cve_intervals"].map { try CVEListsTests.named(made.store, String(format: all, $0)) }
        #expect(stored[0].contains { $0["version_first_run"]?.isNull == false } && stored[0].contains { $0["version_first_run"]?.isNull == true })

        try await made.rewind(IdentityKeysTests.version21Shape + Self.version18Columns(kind: kind),
                              forgetting: HistoryStore.intervalSequencesMigration, HistoryStore.closingCodesMigration, HistoryStore.identityKeysMigration)
        #expect(try Self.columns(made.store, "finding_intervals", kind: kind).isSuperset(of: Self.dropped))
        let spelled: Int = try made.store.rows("SELECT COUNT(*) AS n FROM finding_intervals WHERE version_first_run IS NULL OR last_run IS NULL")
            .first?["n"] ?? -1
        #expect(spelled == 0)

        let migrated = try await made.reopen()
        if kind == .sqlite {
            // The rebuilt tables' old pages went back to the file system.
            #expect(try migrated.rows("PRAGMA freelist_count").first?[0] == 0)
        }
        for table in ["finding_intervals", "unfixed_cve_intervals"] {
            #expect(try Self.columns(migrated, table, kind: kind).isDisjoint(with: Self.dropped), "\(table)")
        }
        // Keys (v22) are made as hosts change, not by the migration.
        let unkeyed = { (rows: [[[String: DatabaseValue]]]) in rows.map { $0.map { row in row.filter { $0.key != "identity_key" } } } }
        #expect(unkeyed(try ["finding_intervals", "unfixed_cve_intervals"].map { try CVEListsTests.named(migrated, String(format: all, $0)) }) == unkeyed(stored))
        // history show for every run, report cves, the compliance JSON.
        #expect(try HistoryAnswers(migrated, location: made.location, runs: ids) == answers)
    }
}
