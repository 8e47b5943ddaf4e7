import Foundation
import GRDB
import Testing
@testable import PatchCore

/// A writable history's log is copied into the database file by a connection of its own, not in
/// the writer's commits: the database file, read alone (`immutable`, which ignores the log), holds
/// what was recorded once the checkpoint has run, though the writer never reached its backstop.
@Suite("WAL checkpoints off the writer")
struct WALCheckpointerTests {
    /// `hosts` hosts of `findings` findings each, all new on this night: a log of a few MB.
    static func night(_ index: Int, hosts: Int, findings: Int) -> [HostScan] {
        let at = Date(timeIntervalSince1970: 1_700_000_000 + Double(index) * 86_400)
        return (0..<hosts).map { host in
            let updates = (0..<findings).map { n in
                PendingUpdate(name: "package-\(n)-with-a-realistic-name", installedVersion: "1.\(index).\(n)-1", availableVersion: "1.\(index).\(n)-2",
                              source: "Debian-Security:12/oldstable-security", security: n % 3 == 0, architecture: "amd64")
            }
            return StoreTestHosts.debian("host-\(host).example.net", address: "10.0.\(host / 250).\(host % 250)", updates: updates, at: at)
        }
    }

    /// Runs in the database file itself, without the log.
    static func runsInTheFile(_ path: String) throws -> Int {
        try DatabaseQueue(path: HistoryStore.immutableURI(path), configuration: {
            var configuration = Configuration()
            configuration.readonly = true
            return configuration
        }()).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") ?? 0 }
    }

    @Test func aLargeLogIsCheckpointedByTheCheckpointerAndTheWriterKeepsTheBackstop() throws {
        let path = try StoreTestHosts.folder("checkpoint").appendingPathComponent("h.db").path
        let store = try HistoryStore(path: path)
        let checkpointer = try #require(store.checkpointer)
        #expect(try store.write { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == WALCheckpointer.backstopPages)
        var recorded = 0
        var walPages = 0
        // Nights until the log has passed the threshold: then a commit has asked for a checkpoint.
        for _ in 0..<40 where walPages < WALCheckpointer.thresholdPages + 200 {
            let id = try store.beginRun(kind: .scan, startedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(recorded) * 86_400),
                                        inventory: nil, hostPattern: nil, options: nil, version: "test")
            try store.record(runId: id, hosts: Self.night(recorded, hosts: 200, findings: 20))
            try store.finishRun(runId: id, finishedAt: Date(timeIntervalSince1970: 1_700_000_100 + Double(recorded) * 86_400))
            recorded += 1
            let size = (try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
            walPages = max(walPages, size / 4120)
        }
        try #require(walPages >= WALCheckpointer.thresholdPages + 200, "the log never reached the threshold")
        #expect(walPages < WALCheckpointer.backstopPages, "the writer's own checkpoint would have run")
        // The last night's commit asked for a checkpoint of a log past the threshold; one more records after it.
        let id = try store.beginRun(kind: .scan, startedAt: Date(timeIntervalSince1970: 1_800_000_000), inventory: nil, hostPattern: nil,
                                    options: nil, version: "test")
        try store.record(runId: id, hosts: Self.night(recorded, hosts: 200, findings: 20))
        checkpointer.drain()
        #expect(try Self.runsInTheFile(path) == recorded + 1, "the file holds every run, the last one included, without the log")
        #expect(try store.runs(limit: 100).count == recorded + 1)
    }

    @Test func closingTheStoreLeavesNoLog() throws {
        let path = try StoreTestHosts.folder("checkpoint").appendingPathComponent("h.db").path
        do {
            let store = try HistoryStore(path: path)
            for night in 0..<3 {
                let id = try store.beginRun(kind: .scan, startedAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(night) * 86_400),
                                            inventory: nil, hostPattern: nil, options: nil, version: "test")
                try store.record(runId: id, hosts: Self.night(night, hosts: 200, findings: 20))
                try store.finishRun(runId: id, finishedAt: Date(timeIntervalSince1970: 1_700_000_100 + Double(night) * 86_400))
            }
        }
        // Both connections closed, a queued checkpoint's first: the last checkpointed what was left and removed the log.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(try Self.runsInTheFile(path) == 3)
    }
}
