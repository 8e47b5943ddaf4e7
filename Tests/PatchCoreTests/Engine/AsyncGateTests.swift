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

    @Test func neverAdmitsMoreThanTheLimitAndAdmitsEveryone() async {
        let gate = AsyncGate(limit: 3)
        let counter = Counter()
        let finished = await withTaskGroup(of: Int.self) { group in
            for index in 0..<40 {
                group.addTask {
                    await gate.pass {
                        await counter.enter()
                        try? await Task.sleep(nanoseconds: 2_000_000)
                        await counter.leave()
                        return index
                    }
                }
            }
            var count = 0
            for await _ in group { count += 1 }
            return count
        }
        #expect(finished == 40)
        #expect(await counter.peak == 3)
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
