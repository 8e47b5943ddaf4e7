import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Each interval's identity key (migration v22): a night's write matches what a scan saw with the
/// host's open intervals by key, read from the open intervals' index alone. A history from before
/// v22 has none: each host's open intervals are keyed from their identity the first time a scan of
/// the host changes something, and from then on the history is the one v22 would have written.
@Suite("Interval identity keys")
struct IdentityKeysTests {
    typealias G = GeneratedHistory
    static let tables = ["finding_intervals", "unfixed_cve_intervals"]

    /// The v21 shape: no key column, the open intervals' index on the host alone. With
    /// `identityKeysMigration` forgotten, `reopen()` applies v22 again.
    static let version21Shape = tables.flatMap { table in
        ["DROP INDEX \(table)_open_keys", "ALTER TABLE \(table) DROP COLUMN identity_key",
         "CREATE INDEX \(table)_open ON \(table)(host) WHERE closed_seq IS NULL"]
    }

    /// Every interval without the columns that name runs (random in each history), by id.
    static func intervals(_ store: HistoryStore, _ table: String) throws -> [[String: DatabaseValue]] {
        try CVEListsTests.named(store, "SELECT * FROM \(table) ORDER BY id").map { row in
            row.filter { !["first_run", "version_first_run"].contains($0.key) }
        }
    }

    static func indexes(_ kind: StoreKind, _ store: HistoryStore) throws -> Set<String> {
        try kind.names(store, sqlite: "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE '%intervals_open%'",
                       postgres: "SELECT indexname::text AS name FROM pg_indexes WHERE indexname LIKE '%intervals_open%'")
    }

    static func record(_ nights: ArraySlice<FindingIntervalsTests.Night>, into history: GeneratedHistory) throws -> [String] {
        var ids: [String] = []
        for (index, night) in zip(nights.indices, nights) {
            ids.append(try history.scan(at: G.day(Double(index)), night.scans))
            for deploy in night.deploys where !deploy.installed.isEmpty {
                try history.deploy(at: G.day(Double(index), hour: 12), policy: "security", host: deploy.host, installed: deploy.installed)
            }
        }
        return ids
    }

    @Test(arguments: StoreKind.all) func aVersion21HistoryIsKeyedAsItsHostsChangeAndWritesAsV22Would(kind: StoreKind) async throws {
        let nights = FindingIntervalsTests.nights(30, hosts: 6, seed: 21)
        // Two histories of the same nights: `upgraded` was a v21 history for its first 20, `always` never was.
        let upgraded = try await TestStore.make(kind), always = try await TestStore.make(kind)
        let before = try Self.record(nights[0..<20], into: G(store: upgraded.store, folder: FileManager.default.temporaryDirectory))
        let answers = try HistoryAnswers(upgraded.store, location: upgraded.location, runs: before)
        try await upgraded.rewind(Self.version21Shape, forgetting: HistoryStore.identityKeysMigration)
        #expect(try Self.indexes(kind, upgraded.store) == ["finding_intervals_open", "unfixed_cve_intervals_open"], "the v21 shape")

        let migrated = try await upgraded.reopen()
        #expect(try Self.indexes(kind, migrated) == ["finding_intervals_open_keys", "unfixed_cve_intervals_open_keys"])
        for table in Self.tables {
            #expect(try CVEListsTests.count(migrated, "\(table) WHERE identity_key IS NOT NULL") == 0, "no data step: \(table)")
        }
        #expect(try HistoryAnswers(migrated, location: upgraded.location, runs: before) == answers)

        let after = try Self.record(nights[20...], into: G(store: migrated, folder: FileManager.default.temporaryDirectory))
        let whole = try Self.record(nights[...], into: G(store: always.store, folder: FileManager.default.temporaryDirectory))
        // Every scan reads back the same from both.
        for (mine, theirs) in zip(before + after, whole) {
            #expect(try migrated.run(id: mine).hosts == always.store.run(id: theirs).hosts, "run \(mine)")
        }
        for table in Self.tables {
            let keyed = try Self.intervals(migrated, table), reference = try Self.intervals(always.store, table)
            #expect(keyed.count == reference.count && keyed.count > 20, "\(table)")
            var unkeyed = 0
            for (row, other) in zip(keyed, reference) {
                if row["identity_key"]?.isNull == true {
                    // Only an interval that closed before its host's first changed scan since v22 keeps no key.
                    #expect(row["closed_seq"]?.isNull == false, "\(table) \(row["id"] ?? .null) is open without a key")
                    unkeyed += 1
                    #expect(row.filter { $0.key != "identity_key" } == other.filter { $0.key != "identity_key" }, "\(table) \(row["id"] ?? .null)")
                } else {
                    #expect(row == other, "\(table) \(row["id"] ?? .null)")
                }
            }
            #expect(unkeyed > 0, "\(table): the intervals closed before v22 were not keyed by a data step")
        }
    }

    @Test func theOpenIntervalsAreReadFromTheIndexAlone() async throws {
        let (made, _, _, _) = try await FindingIntervalsTests.recorded(.sqlite, nights: 3, hosts: 3, seed: 5)
        for table in Self.tables {
            let plan = try made.store.rows("""
                EXPLAIN QUERY PLAN SELECT id, host, identity_key FROM \(table) WHERE closed_seq IS NULL AND host IN ('host1', 'host2')
                """).map { $0["detail"] as String }
            #expect(plan.contains { $0.contains("USING COVERING INDEX \(table)_open_keys") }, "\(plan)")
        }
    }

    @Test func aScansKeysAreMadeFromTheBytesItsDigestHashes() {
        let values: [DatabaseValue] = [
            .null, "openssl".databaseValue, "".databaseValue, "grüße ✓ \u{1F}\u{1E}".databaseValue, Int64(0).databaseValue,
            Int64(7).databaseValue, 7.0.databaseValue, 7.5.databaseValue, (-0.0).databaseValue, 1e300.databaseValue, true.databaseValue,
            Data([0, 1, 0xFF]).databaseValue,
        ]
        var random = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let rows = (0..<Int.random(in: 0...6, using: &random)).map { _ in (0..<8).map { _ in values.randomElement(using: &random)! } }
            let unfixed = (0..<Int.random(in: 0...3, using: &random)).map { _ in (0..<10).map { _ in values.randomElement(using: &random)! } }
            let made = FindingIntervals.Prepared.digested(rows, unfixed: unfixed)
            #expect(made.keys == rows.map(FindingIntervals.identityKey) && made.unfixedKeys == unfixed.map(FindingIntervals.identityKey))
            #expect(made.digest == SightingDigestTests.sightingReference(rows, unfixed: unfixed))
        }
        // The bytes hashed by hand (Python hashlib: the first 8 bytes of sha256(b"scurl\x1fi1\x1f\x00\x1e"), big-endian, signed).
        #expect(FindingIntervals.identityKey(["curl".databaseValue, Int64(1).databaseValue, .null]) == -7_334_794_544_908_777_109)
    }

    @Test func aKeyIsTheSameForEqualValuesOfEitherNumericType() {
        let row: [DatabaseValue] = ["CVE-2026-1000".databaseValue, "openssl".databaseValue, 7.0.databaseValue, 1.databaseValue]
        let integral: [DatabaseValue] = ["CVE-2026-1000".databaseValue, "openssl".databaseValue, 7.databaseValue, 1.databaseValue]
        #expect(FindingIntervals.identityKey(row) == FindingIntervals.identityKey(integral))
        #expect(FindingIntervals.identityKey(row) != FindingIntervals.identityKey(["CVE-2026-1000".databaseValue, "openssl".databaseValue,
                                                                                    7.5.databaseValue, 1.databaseValue]))
        // NULL is not the empty text, and a value does not run into the next.
        #expect(FindingIntervals.identityKey([.null, "a".databaseValue]) != FindingIntervals.identityKey(["".databaseValue, "a".databaseValue]))
        #expect(FindingIntervals.identityKey(["ab".databaseValue, "c".databaseValue]) != FindingIntervals.identityKey(["a".databaseValue, "bc".databaseValue]))
    }
}
