import Foundation
import PatchCore

/// Simulates the nights on a thread of its own, up to `depth` ahead of the writer, so that on two
/// cores the simulation (about a minute for 10,000 hosts × 365 nights) hides behind the writes.
/// The simulation itself stays sequential: the same seed gives the same nights.
final class NightProducer: @unchecked Sendable {
    private let simulation: FleetSimulation
    private let condition = NSCondition()
    private var ready: [[HostScan]] = []
    private let depth = 2

    init(simulation: FleetSimulation, nights: Int, start: Date) {
        self.simulation = simulation
        Thread.detachNewThread { [self] in
            for night in 0..<nights {
                let runStart = start.addingTimeInterval(Double(night) * 86_400)
                self.simulation.advance(to: runStart, night: night)
                let scans = self.simulation.scan(night: night, runStart: runStart)
                condition.lock()
                while ready.count >= depth { condition.wait() }
                ready.append(scans)
                condition.broadcast()
                condition.unlock()
            }
        }
    }

    /// The next night's scans, in order; waits for the simulation when it is behind.
    func next() -> [HostScan] {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty { condition.wait() }
        let scans = ready.removeFirst()
        condition.broadcast()
        return scans
    }
}
