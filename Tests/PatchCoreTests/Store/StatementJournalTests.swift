import Foundation
import GRDB
import Testing
@testable import PatchCore

/// A batch of hosts is written with SQLite's statement journals in memory (`temp_store = MEMORY`
/// for that transaction): each multi-row statement journals the pages it changes, and past 64 KiB
/// SQLite wrote them to a temporary file, 77 MB a night of 10,000 hosts. Other writes (a prune, a
/// migration, whose one statement may change most of the file) keep the default, and so does the
/// connection after a batch, even one that failed.
@Suite("Statement journals of a batch")
struct StatementJournalTests {
    /// What `PRAGMA temp_store` said while each probe was written.
    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int64] = []
        func add(_ value: Int64) { lock.withLock { values.append(value) } }
        var all: [Int64] { lock.withLock { values } }
    }

    /// A record whose insert reads the connection's temp_store instead of writing (and can fail).
    struct Probe: HistoryRecord {
        nonisolated(unsafe) static var seen = Seen()
        var name = "probe"
        var status = HostStatus.ok
        var startedAt = Date(timeIntervalSince1970: 1_700_000_000)
        var fails = false

        func insert(into db: any HistoryWriter, runId: String, prepared: Void) throws {
            Self.seen.add(try db.rows("PRAGMA temp_store", []).first?[0] ?? -1)
            if fails { throw PatchError.store(path: db.source, message: "the probe fails") }
        }
    }

    static func temporaryStorage(_ store: HistoryStore) throws -> Int64 {
        try store.write { db in try Int64.fetchOne(db, sql: "PRAGMA temp_store") ?? -1 }
    }

    @Test func aBatchKeepsItsStatementJournalsInMemoryAndOnlyIt() throws {
        let folder = try StoreTestHosts.folder("statement-journal")
        let store = try HistoryStore(path: folder.appendingPathComponent("history.db").path)
        let run = try store.beginRun(kind: .exec, startedAt: Date(timeIntervalSince1970: 1_700_000_000), inventory: nil, hostPattern: nil,
                                     options: nil, version: "test")
        // SQLite's default (0: as compiled, a file) outside a batch.
        #expect(try Self.temporaryStorage(store) == 0)
        try store.record(runId: run, hosts: [Probe(), Probe(name: "other")])
        #expect(Probe.seen.all == [2, 2], "a batch's transaction keeps them in memory (2)")
        #expect(try Self.temporaryStorage(store) == 0, "the setting outlived the batch")
        #expect(throws: PatchError.self) { try store.record(runId: run, hosts: [Probe(fails: true)]) }
        #expect(Probe.seen.all == [2, 2, 2])
        #expect(try Self.temporaryStorage(store) == 0, "a failed batch left the setting behind")
        // Other portable writes keep the default.
        #expect(try store.recording { db in try db.rows("PRAGMA temp_store", []).first?[0] as Int64? } == 0)
    }
}
