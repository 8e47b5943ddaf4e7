/// One stage of a rolling deploy: its hosts are patched in batches, and the next ring starts
/// only when this one stayed within its failure limit (and, for the next ring, after its soak).
public struct Ring: Sendable, Equatable {
    public var name: String
    /// Host pattern, intersected with the policy's targets; nil takes every policy host not in
    /// an earlier ring (only the last ring may leave it out).
    public var targets: String?
    /// nil: the whole ring at once.
    public var batch: BatchSize?
    /// Hosts worked on at once inside a batch; nil: no limit beyond the run's own.
    public var maxParallel: Int?
    /// The ring halts when failures / hosts * 100 exceeds this; 0 halts on any failure.
    public var maxFailPercent: Double
    /// Seconds the previous ring must have been healthy before this one starts.
    public var soak: Double

    /// Documented ranges (docs/policies.md "Ranges of numbers").
    public static let maxParallelRange = 1...10_000
    public static let batchCountRange = 1...100_000
    /// Seconds.
    public static let soakRange: ClosedRange<Double> = 0...(90 * 86_400)

    public init(name: String, targets: String? = nil, batch: BatchSize? = nil, maxParallel: Int? = nil,
                maxFailPercent: Double = 0, soak: Double = 0) {
        self.name = name
        self.targets = targets
        self.batch = batch
        self.maxParallel = maxParallel
        self.maxFailPercent = maxFailPercent
        self.soak = soak
    }

    /// The ring's hosts split into rolling batches, in order. A percentage is of the ring's
    /// hosts, rounded up, and never less than one host; a batch larger than the ring is the
    /// whole ring.
    public func batches<T>(of hosts: [T]) -> [[T]] {
        guard !hosts.isEmpty else { return [] }
        let size: Int
        switch batch {
        case nil:
            size = hosts.count
        case let .count(count):
            size = max(1, count)
        case let .percent(percent):
            // The small tolerance keeps 10% of 30 at 3 hosts despite binary rounding (3.0000000000000004).
            let exact = Double(hosts.count) * percent / 100
            size = max(1, Int((exact - 1e-9).rounded(.up)))
        }
        return stride(from: 0, to: hosts.count, by: size).map { start in
            Array(hosts[start..<min(start + size, hosts.count)])
        }
    }

    /// Whether `failures` out of `hosts` exceed `maxFailPercent`.
    public func shouldHalt(failures: Int, hosts: Int) -> Bool {
        guard failures > 0 else { return false }
        guard hosts > 0 else { return true }
        return Double(failures) / Double(hosts) * 100 > maxFailPercent
    }
}

/// How many hosts of a ring are patched together.
public enum BatchSize: Sendable, Equatable {
    /// A fixed number of hosts, 1 or more.
    case count(Int)
    /// A share of the ring's hosts, above 0 and at most 100.
    case percent(Double)
}
