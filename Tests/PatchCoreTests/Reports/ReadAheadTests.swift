import Foundation
import Testing
@testable import PatchCore

/// `ReadAhead`: a compliance report reads the next batch of hosts' history while it judges one.
@Suite("Reading the next batch while one is used")
struct ReadAheadTests {
    /// Counts kept across the reading thread and the caller.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var alive = 0
        private(set) var most = 0
        private(set) var reads: [Int] = []

        func read(_ index: Int) {
            lock.withLock {
                reads.append(index)
                alive += 1
                most = max(most, alive)
            }
        }

        func used() { lock.withLock { alive -= 1 } }
    }

    struct Failure: Error, Equatable {
        var index: Int
    }

    @Test func batchesArriveInOrderAndTheNextIsReadWhileOneIsUsed() throws {
        let tally = Tally()
        // Batch 1's read starting is what the use of batch 0 waits for: proof that they overlap.
        let secondRead = DispatchSemaphore(value: 0)
        var used: [Int] = []
        try ReadAhead.run(6, read: { index in
            tally.read(index)
            if index == 1 { secondRead.signal() }
            return index * 10
        }, use: { batch in
            if batch == 0 { #expect(secondRead.wait(timeout: .now() + 30) == .success, "batch 1 was not read while batch 0 was in use") }
            used.append(batch)
            tally.used()
        })
        #expect(used == [0, 10, 20, 30, 40, 50])
        #expect(tally.reads == Array(0..<6))
        // One in use and one read ahead, never more.
        #expect(tally.most == 2)
    }

    /// Two readers (a compliance report on an SQLite file: two connections): both read ahead while
    /// a batch is in use, each reads its own batches one at a time, and the batches come in order.
    @Test func twoReadersReadTwoBatchesAheadEachOneAtATime() throws {
        let tally = Tally()
        let busy = Tally()
        let thirdRead = DispatchSemaphore(value: 0)
        var used: [Int] = []
        try ReadAhead.run(9, readers: 2, read: { index in
            tally.read(index)
            // Per reader: `most` counts its reads in flight at once.
            if index % 2 == 0 { busy.read(index) }
            defer { if index % 2 == 0 { busy.used() } }
            if index == 2 { thirdRead.signal() }
            return index
        }, use: { batch in
            if batch == 0 { #expect(thirdRead.wait(timeout: .now() + 30) == .success, "batch 2 was not read while batch 0 was in use") }
            used.append(batch)
            tally.used()
        })
        #expect(used == Array(0..<9))
        #expect(Set(tally.reads) == Set(0..<9) && tally.reads.count == 9)
        // One in use and two read ahead, never more; one reader never reads two batches at once.
        #expect(tally.most <= 3 && busy.most == 1)
    }

    @Test func aFailedReadIsThrownAfterTheBatchesBeforeIt() {
        var used: [Int] = []
        #expect(throws: Failure(index: 2)) {
            try ReadAhead.run(5, read: { index in
                if index == 2 { throw Failure(index: 2) }
                return index
            }, use: { used.append($0) })
        }
        #expect(used == [0, 1])
    }

    @Test func aFailedUseStopsTheReadingBeforeItReturns() {
        let tally = Tally()
        #expect(throws: Failure(index: 1)) {
            try ReadAhead.run(100, read: { index in
                tally.read(index)
                return index
            }, use: { batch in
                if batch == 1 { throw Failure(index: 1) }
            })
        }
        // Batch 2 may have been read while batch 1 was in use; nothing after it, and nothing reads on.
        let reads = tally.reads
        #expect(reads == [0, 1] || reads == [0, 1, 2], "\(reads)")
        #expect(tally.reads == reads)
    }

    @Test func noBatchesNoCalls() throws {
        try ReadAhead.run(0, read: { _ -> Int in Issue.record("read"); return 0 }, use: { _ in Issue.record("use") })
    }
}
