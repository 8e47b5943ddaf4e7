import Foundation
import Testing
@testable import PatchCore

@Suite("AsyncGate")
struct AsyncGateTests {
    actor Counter {
        var inside = 0
        var peak = 0
        func enter() { inside += 1; peak = max(peak, inside) }
        func leave() { inside -= 1 }
    }

    /// Opened once; every task waiting on it then goes on.
    actor Latch {
        private var open = false
        private var waiters: [CheckedContinuation<Void, Never>] = []
        func wait() async {
            if open { return }
            await withCheckedContinuation { waiters.append($0) }
        }
        func release() {
            open = true
            for waiter in waiters { waiter.resume() }
            waiters.removeAll()
        }
    }

    /// The limit catches a gate that never admits the queued callers; it is generous because the
    /// whole suite can keep the shared pool busy for a long time.
    @Test(.timeLimit(.minutes(10))) func neverAdmitsMoreThanTheLimitAndAdmitsEveryone() async {
        let gate = AsyncGate(limit: 3)
        let counter = Counter()
        let latch = Latch()
        let finished = await withTaskGroup(of: Int.self) { group in
            for index in 0..<40 {
                group.addTask {
                    await gate.pass {
                        await counter.enter()
                        await latch.wait()  // held inside until every caller has arrived
                        await counter.leave()
                        return index
                    }
                }
            }
            // Every caller is either inside (held) or queued: then exactly the limit is inside.
            while await gate.waiting + counter.inside < 40 { await Task.yield() }
            #expect(await counter.inside == 3)
            #expect(await gate.waiting == 37)
            await latch.release()
            var count = 0
            for await _ in group { count += 1 }
            return count
        }
        #expect(finished == 40)
        #expect(await counter.peak <= 3)
        #expect(await counter.inside == 0)
    }

    @Test func leavesOnError() async {
        struct Boom: Error {}
        let gate = AsyncGate(limit: 1)
        for _ in 0..<3 {
            await #expect(throws: Boom.self) { try await gate.pass { () async throws -> Int in throw Boom() } }
        }
        #expect(await gate.pass { 7 } == 7)
    }
}
