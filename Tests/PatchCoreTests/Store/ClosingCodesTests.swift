import Foundation
import GRDB
import Testing
@testable import PatchCore

/// An interval's closing reason is stored as a code (migration v20), and a v19 history, whose
/// reasons are names, migrates to the same answers.
@Suite("Interval closing codes", .serialized)
struct ClosingCodesTests {
    typealias G = GeneratedHistory

    /// The codes as stored histories hold them, spelled out here so that a renumbering fails.
    static let names: [(code: Int64, name: String)] = [(0, "superseded"), (1, "deployed"), (2, "fixed_elsewhere"), (3, "resolved")]

    /// Statements that store the interval tables' closing reasons by name again, as v19 did (a TEXT column).
    static func reasonNames(kind: StoreKind) -> [String] {
        let named = { (column: String) in "CASE \(column) " + names.map { "WHEN \($0.code) THEN '\($0.name)'" }.joined(separator: " ") + " END" }
        return ["finding_intervals", "unfixed_cve_intervals"].flatMap { table in
            kind == .postgres
                ? ["ALTER TABLE \(table) ALTER COLUMN closed_reason TYPE TEXT USING \(named("closed_reason"))"]
                : ["ALTER TABLE \(table) RENAME COLUMN closed_reason TO closed_code",
                   "ALTER TABLE \(table) ADD COLUMN closed_reason TEXT",
                   "UPDATE \(table) SET closed_reason = \(named("closed_code"))",
                   "ALTER TABLE \(table) DROP COLUMN closed_code"]
        }
    }

    static func reasons(_ store: HistoryStore, _ table: String) throws -> [String: Int] {
        var counted: [String: Int] = [:]
        for row in try store.rows("SELECT CAST(closed_reason AS TEXT) AS reason, COUNT(*) AS n FROM \(table) WHERE closed_seq IS NOT NULL GROUP BY 1") {
            counted[row["reason"] ?? "NULL"] = row["n"]
        }
        return counted
    }

    @Test(arguments: StoreKind.all) func reasonsAreStoredAsTheirCodes(kind: StoreKind) async throws {
        let (made, _, _, _) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 9)
        let declared = try kind.names(made.store, sqlite: "SELECT type AS name FROM pragma_table_info('finding_intervals') WHERE name = 'closed_reason'",
                                      postgres: """
                                          SELECT data_type::text AS name FROM information_schema.columns
                                          WHERE table_name = 'finding_intervals' AND column_name = 'closed_reason'
                                          """)
        #expect(declared == [kind == .postgres ? "bigint" : "INTEGER"])
        let findings = try Self.reasons(made.store, "finding_intervals")
        #expect(Set(findings.keys).isSubset(of: ["0", "1", "2"]) && findings["0", default: 0] > 0 && findings["2", default: 0] > 0, "\(findings)")
        #expect(try Self.reasons(made.store, "unfixed_cve_intervals").keys.sorted() == ["3"])
        // Read back as the enum by code.
        let read = try made.store.rows("SELECT closed_reason FROM finding_intervals WHERE closed_seq IS NOT NULL")
            .map { $0["closed_reason"] as IntervalCloseReason? }
        #expect(!read.isEmpty && !read.contains(nil))
        #expect(IntervalCloseReason.allCases.map(\.code) == Self.names.map(\.code))
        #expect(IntervalCloseReason.allCases.map(\.rawValue) == Self.names.map(\.name))
    }

    @Test(arguments: StoreKind.all) func aVersion19HistoryMigratesToTheSameAnswers(kind: StoreKind) async throws {
        let (made, _, _, ids) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 11)
        let answers = try HistoryAnswers(made.store, location: made.location, runs: ids)
        let all = "SELECT * FROM %@ ORDER BY id"
        let tables = ["finding_intervals", "unfixed_cve_intervals"]
        let stored = try tables.map { try CVEListsTests.named(made.store, String(format: all, $0)) }
        let codes = try tables.map { try Self.reasons(made.store, $0) }

        try await made.rewind(Self.reasonNames(kind: kind), forgetting: HistoryStore.closingCodesMigration)
        let spelled = try tables.map { try Self.reasons(made.store, $0) }
        for (byCode, byName) in zip(codes, spelled) {
            #expect(byName == Dictionary(uniqueKeysWithValues: byCode.map { code, count in
                (Self.names.first { String($0.code) == code }?.name ?? "?", count)
            }), "v19 stored names")
        }

        let migrated = try await made.reopen()
        if kind == .sqlite {
            #expect(try migrated.rows("PRAGMA freelist_count").first?[0] == 0)
            let typed: Int = try migrated.rows("SELECT COUNT(*) AS n FROM finding_intervals WHERE typeof(closed_reason) NOT IN ('integer', 'null')")
                .first?["n"] ?? -1
            #expect(typed == 0)
        }
        #expect(try tables.map { try Self.reasons(migrated, $0) } == codes)
        #expect(try tables.map { try CVEListsTests.named(migrated, String(format: all, $0)) } == stored)
        // history show for every run, report cves, the compliance JSON.
        #expect(try HistoryAnswers(migrated, location: made.location, runs: ids) == answers)
    }
}
