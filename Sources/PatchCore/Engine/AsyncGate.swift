/// Admits at most `limit` callers at once; the rest wait in arrival order.
/// Used to bound connection setups in flight, not hosts in flight.
actor AsyncGate {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        available = max(1, limit)
    }

    func enter() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Callers waiting to enter.
    var waiting: Int { waiters.count }

    func leave() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }

    /// Runs `body` inside the gate, leaving it however `body` ends.
    func pass<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        await enter()
        do {
            let value = try await body()
            leave()
            return value
        } catch {
            leave()
            throw error
        }
    }
}
