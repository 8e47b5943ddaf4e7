import Foundation
import GRDB
import Testing
@testable import PatchCore

/// The versions the fleet has seen (migration v23): a new interval's first sighting is looked up
/// only where a scan before may have seen its version (`FindingIntervals.versionReads`), and what
/// is stored is what looking up every one would store.
@Suite("Versions the fleet has seen")
struct FindingVersionsTests {
    typealias G = GeneratedHistory

    /// Every (package, available version) the intervals hold, and the earliest run that opened one of each.
    static func versionsInIntervals(_ store: HistoryStore) throws -> [String: String] {
        var first: [String: String] = [:]
        for row in try store.rows("SELECT package, available_version, first_run FROM finding_intervals") {
            let key = (row["package"] as String) + "\n" + (row["available_version"] as String), run: String = row["first_run"]
            first[key] = min(first[key] ?? run, run)
        }
        return first
    }

    static func versions(_ store: HistoryStore) throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try store.rows("SELECT package, available_version, first_run FROM finding_versions").map { row in
            ((row["package"] as String) + "\n" + (row["available_version"] as String), row["first_run"] as String)
        })
    }

    /// A run that records a host twice (two batches, or one batch naming it twice) may have seen the
    /// version it first recorded on that host: the second scan's new interval of it keeps the first
    /// scan's sighting. A host the run had not recorded cannot have, nor can any host a version
    /// no scan recorded before.
    @Test(arguments: StoreKind.all) func aVersionThisRunRecordedIsLookedUpOnlyOnHostsItRecordedBefore(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let run = try store.beginRun(kind: .scan, startedAt: G.day(0), inventory: "inventory.yml", hostPattern: nil, options: nil, version: "test")
        let low = G.update("libssl3", "3.0.11-1", "3.0.13-1", security: false)
        var high = low
        high.security = true
        try store.record(runId: run, hosts: [G.host("web2", at: G.day(0, hour: 1), [low])])
        // web1: first recorded by this run in a later batch (nothing to look up), then again with another identity.
        try store.record(runId: run, hosts: [G.host("web1", at: G.day(0, hour: 2), [low])])
        try store.record(runId: run, hosts: [G.host("web1", at: G.day(0, hour: 3), [high])])
        // web3: twice in one batch, written one after the other.
        try store.record(runId: run, hosts: [G.host("web3", at: G.day(0, hour: 4), [low]), G.host("web3", at: G.day(0, hour: 5), [high])])
        try store.finishRun(runId: run, finishedAt: G.day(0, hour: 6))

        let rows = try store.rows("""
            SELECT host, version_first_run, version_first_at, version_first_security, first_at FROM finding_intervals ORDER BY id
            """)
        #expect(rows.map { $0["host"] as String } == ["web2", "web1", "web1", "web3", "web3"])
        // Each host's first interval is its version's first sighting; the second carries it.
        for (index, row) in rows.enumerated() {
            let carried = index == 2 || index == 4
            #expect((row["version_first_run"] as String?) == (carried ? run : nil), "interval \(index + 1)")
            #expect((row["version_first_at"] as Date?) == (carried ? rows[index - 1]["first_at"] as Date : nil), "interval \(index + 1)")
            #expect((row["version_first_security"] as Bool) == false, "interval \(index + 1): the first sighting's")
        }
        #expect(try Self.versions(store) == ["libssl3\n3.0.13-1": run])
    }

    /// Over a history of deployments, gaps, attribute changes and failed contacts, the table holds
    /// every version any interval holds, with the run that first recorded it; pruning keeps its
    /// rows, and a version seen before the cut keeps its first sighting after it.
    @Test(arguments: StoreKind.all) func theTableHoldsEveryVersionWithTheRunThatFirstRecordedIt(kind: StoreKind) async throws {
        let (made, history, nights, _) = try await FindingIntervalsTests.recorded(kind, nights: 30, hosts: 6, seed: 23)
        defer { withExtendedLifetime(made) {} }
        let expected = try Self.versionsInIntervals(history.store)
        #expect(expected.count > 20)
        #expect(try Self.versions(history.store) == expected)

        _ = try history.store.prune(before: G.day(20), dryRun: false, user: "tester", now: G.day(29))
        #expect(try Self.versionsInIntervals(history.store).count < expected.count, "the prune removed intervals")
        #expect(try Self.versions(history.store) == expected)
        let more = nights.map { night in
            var later = night
            for index in later.scans.indices {
                later.scans[index].startedAt.addTimeInterval(30 * 86_400)
                later.scans[index].finishedAt.addTimeInterval(30 * 86_400)
            }
            return later
        }
        for (index, night) in more.prefix(5).enumerated() { try history.scan(at: G.day(Double(30 + index)), night.scans) }
        // The table still holds every version of every interval; those new since are this run's or later.
        let now = try Self.versions(history.store)
        for (version, run) in try Self.versionsInIntervals(history.store) {
            #expect(now[version] == expected[version] ?? run, "\(version)")
        }
    }

    /// A v22 history: the migration records every version its intervals hold as seen before any run,
    /// and the history then records as one that was never v22.
    @Test(arguments: StoreKind.all) func aVersion22HistoryRecordsItsVersionsAsSeenBeforeAnyRun(kind: StoreKind) async throws {
        let nights = FindingIntervalsTests.nights(24, hosts: 5, seed: 31)
        let upgraded = try await TestStore.make(kind), always = try await TestStore.make(kind)
        let before = try IdentityKeysTests.record(nights[0..<14], into: G(store: upgraded.store, folder: FileManager.default.temporaryDirectory))
        try await upgraded.rewind(["DROP TABLE finding_versions"], forgetting: HistoryStore.findingVersionsMigration)
        let migrated = try await upgraded.reopen()
        let held = try Self.versions(migrated)
        #expect(held.count > 10 && Set(held.values) == [""])
        #expect(Set(held.keys) == Set(try Self.versionsInIntervals(migrated).keys))

        let after = try IdentityKeysTests.record(nights[14...], into: G(store: migrated, folder: FileManager.default.temporaryDirectory))
        let whole = try IdentityKeysTests.record(nights[...], into: G(store: always.store, folder: FileManager.default.temporaryDirectory))
        for (mine, theirs) in zip(before + after, whole) {
            #expect(try migrated.run(id: mine).hosts == always.store.run(id: theirs).hosts, "run \(mine)")
        }
        // Runs are named by their start and a random part: intervals compare by which run of the list they name.
        func intervals(_ store: HistoryStore, _ runs: [String]) throws -> [[String: DatabaseValue]] {
            try CVEListsTests.named(store, "SELECT * FROM finding_intervals ORDER BY id").map { row in
                row.mapValues { value in (String.fromDatabaseValue(value)).flatMap { runs.firstIndex(of: $0) }.map { Int64($0).databaseValue } ?? value }
            }
        }
        #expect(try intervals(migrated, before + after) == intervals(always.store, whole))
    }

    /// What `approve` checks a package against: every version a scan found pending, pruned or not,
    /// those the fleet saw first most recently first.
    @Test(arguments: StoreKind.all) func approveKnowsEveryVersionScansFoundPendingPrunedOrNot(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [G.update("libssl3", "3.0.11-1", "3.0.13-1")])])
        try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), [G.update("libssl3", "3.0.11-1", "3.0.14-1")])])
        try history.scan(at: G.day(40), [G.host("web1", at: G.day(40), [G.update("libssl3", "3.0.11-1", "3.0.14-1")])])
        let store = history.store
        #expect(try store.availableVersions(of: "libssl3") == ["3.0.14-1", "3.0.13-1"])
        #expect(try store.packageNames() == ["libssl3"])
        #expect(try store.hasPackage("libssl3", version: "3.0.13-1") && store.hasPackage("libssl3", version: nil))
        #expect(try !store.hasPackage("libssl3", version: "9.9") && !store.hasPackage("libssl", version: nil))

        _ = try store.prune(before: G.day(20), dryRun: false, user: "tester", now: G.day(40))
        #expect(try Self.versionsInIntervals(store).keys.sorted() == ["libssl3\n3.0.14-1"], "the prune removed the first interval")
        #expect(try store.hasPackage("libssl3", version: "3.0.13-1"))
        #expect(try store.availableVersions(of: "libssl3") == ["3.0.14-1", "3.0.13-1"])
    }

    @Test func aBatchsVersionsAreEachOneSearchOfThePrimaryKey() async throws {
        let (made, _, _, _) = try await FindingIntervalsTests.recorded(.sqlite, nights: 3, hosts: 3, seed: 5)
        let plan = try made.store.rows("""
            EXPLAIN QUERY PLAN SELECT f.package, f.available_version, f.first_run FROM (VALUES ('curl', '1'), ('zlib1g', '2')) AS q
            JOIN finding_versions AS f ON f.package = q.column1 AND f.available_version = q.column2
            """).map { $0["detail"] as String }
        #expect(plan.contains { $0.contains("SEARCH f USING PRIMARY KEY (package=? AND available_version=?)") }, "\(plan)")
        #expect(!plan.contains { $0.contains("SCAN f") }, "\(plan)")
    }
}
