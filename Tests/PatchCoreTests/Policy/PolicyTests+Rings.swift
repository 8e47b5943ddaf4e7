import Testing
@testable import PatchCore

extension PolicyTests {
    @Suite("Rings and batches")
    struct Rings {
        let hosts = Array(1...10)

        @Test func wholeRingWithoutBatch() {
            #expect(Ring(name: "all").batches(of: hosts) == [hosts])
            #expect(Ring(name: "all").batches(of: [Int]()).isEmpty)
        }

        @Test func countBatches() {
            #expect(Ring(name: "r", batch: .count(3)).batches(of: hosts) == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]])
            #expect(Ring(name: "r", batch: .count(1)).batches(of: [7, 8]) == [[7], [8]])
        }

        @Test func ringSmallerThanBatch() {
            #expect(Ring(name: "r", batch: .count(50)).batches(of: [1, 2, 3]) == [[1, 2, 3]])
            #expect(Ring(name: "r", batch: .percent(100)).batches(of: [1, 2, 3]) == [[1, 2, 3]])
        }

        @Test func percentRoundsUp() {
            // 25% of 10 is 2.5 hosts: batches of 3.
            #expect(Ring(name: "r", batch: .percent(25)).batches(of: hosts) == [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10]])
            #expect(Ring(name: "r", batch: .percent(50)).batches(of: hosts).map(\.count) == [5, 5])
            // 10% of 30 is exactly 3, despite 30 * 10 / 100 being 3.0000000000000004 in binary.
            #expect(Ring(name: "r", batch: .percent(10)).batches(of: Array(1...30)).map(\.count) == Array(repeating: 3, count: 10))
        }

        @Test func percentIsAtLeastOneHost() {
            #expect(Ring(name: "r", batch: .percent(1)).batches(of: [1, 2, 3]) == [[1], [2], [3]])
            #expect(Ring(name: "r", batch: .percent(0.5)).batches(of: ["a"]) == [["a"]])
        }

        @Test func haltingNeedsMoreThanTheLimit() {
            let strict = Ring(name: "r")
            #expect(!strict.shouldHalt(failures: 0, hosts: 10))
            #expect(strict.shouldHalt(failures: 1, hosts: 100))
            let tolerant = Ring(name: "r", maxFailPercent: 10)
            #expect(!tolerant.shouldHalt(failures: 1, hosts: 10))   // exactly 10%
            #expect(tolerant.shouldHalt(failures: 2, hosts: 10))
        }

        @Test func batchFromYAML() throws {
            let policy = try parsePolicy("""
                name: n
                targets: all
                rings:
                  - {name: one, targets: a, batch: 1}
                  - {name: quoted, targets: b, batch: "2"}
                  - {name: share, targets: c, batch: "12.5%"}
                  - {name: rest, max_fail_percent: "5%"}
                """)
            #expect(policy.rings.map(\.batch) == [.count(1), .count(2), .percent(12.5), nil])
            #expect(policy.rings.last?.maxFailPercent == 5)
        }
    }
}
