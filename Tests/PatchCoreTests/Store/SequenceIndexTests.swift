import Foundation
import GRDB
import Testing
@testable import PatchCore

/// `run_hosts_by_seq` is gone (migration v21): a closing's "deployed since the previous scan" finds
/// that scan by walking the host's contacts back, past failed contacts and deployments.
@Suite("Run hosts without a sequence index")
struct SequenceIndexTests {
    typealias G = GeneratedHistory

    static func indexes(_ kind: StoreKind, _ store: HistoryStore) throws -> Set<String> {
        try kind.names(store, sqlite: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'run_hosts'",
                       postgres: "SELECT indexname::text AS name FROM pg_indexes WHERE tablename = 'run_hosts'")
    }

    @Test(arguments: StoreKind.all) func aClosingCountsOnlyDeploymentsSinceTheHostsPreviousScan(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        #expect(!(try Self.indexes(kind, made.store)).contains("run_hosts_by_seq"))
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let curl = G.update("curl", "7.88.1-10", "7.88.1-10+deb12u5")
        let zlib = G.update("zlib1g", "1:1.2.13", "1:1.2.13.dfsg-1")
        let bash = G.update("bash", "5.2.15-2", "5.2.15-2+b7")
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [curl, zlib, bash])])
        // Installed, yet the next scans still list it (a held package, a failed postinst): that
        // deployment is not why it goes later.
        try history.deploy(at: G.day(0, hour: 12), policy: "security", host: "web1", installed: [curl])
        try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), [curl, zlib, bash])])
        try history.scan(at: G.day(2), [G.host("web1", at: G.day(2), [curl, zlib, bash])])
        // Between the previous scan and the next: a failed contact and a deployment of zlib.
        try history.scan(at: G.day(3), [G.host("web1", at: G.day(3), status: .timeout)])
        try history.deploy(at: G.day(3, hour: 12), policy: "security", host: "web1", installed: [zlib])
        try history.scan(at: G.day(4), [G.host("web1", at: G.day(4), [])])
        let reasons = try made.store.rows("SELECT package, closed_reason FROM finding_intervals ORDER BY package").map {
            "\($0["package"] as String) " + (($0["closed_reason"] as IntervalCloseReason?)?.rawValue ?? "open")
        }
        #expect(reasons == ["bash fixed_elsewhere", "curl fixed_elsewhere", "zlib1g deployed"])
    }

    @Test(arguments: StoreKind.all) func aVersion20HistoryLosesTheIndexAndKeepsItsAnswers(kind: StoreKind) async throws {
        let (made, _, _, ids) = try await FindingIntervalsTests.recorded(kind, nights: 20, hosts: 6, seed: 13)
        let answers = try HistoryAnswers(made.store, location: made.location, runs: ids)
        try await made.rewind(["CREATE INDEX run_hosts_by_seq ON run_hosts(host, scan_seq) WHERE scan_seq IS NOT NULL"],
                              forgetting: HistoryStore.sequenceIndexMigration)
        #expect(try Self.indexes(kind, made.store).contains("run_hosts_by_seq"), "the v20 shape")
        let migrated = try await made.reopen()
        #expect(!(try Self.indexes(kind, migrated)).contains("run_hosts_by_seq"))
        // history show for every run, report cves, the compliance JSON.
        #expect(try HistoryAnswers(migrated, location: made.location, runs: ids) == answers)
    }
}
