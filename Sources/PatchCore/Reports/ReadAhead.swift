import Foundation

/// Reads the next batch on another thread while the caller works on the one it has: a report of a
/// large fleet reads its history in batches of hosts, and reading and judging then overlap (two
/// cores) with at most two batches held at once.
enum ReadAhead {
    /// Calls `use` with `read(0)`, `read(1)`, … `read(count - 1)` in order, each read while the
    /// previous one is used. The first error, of a read or a use, is thrown once the reading thread
    /// has stopped: nothing reads on after this returns.
    static func run<Batch: Sendable>(_ count: Int, read: @escaping @Sendable (Int) throws -> Batch, use: (Batch) throws -> Void) throws {
        let channel = Channel<Batch>()
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            defer { reader.leave() }
            for index in 0..<count {
                // Not before the caller has taken the previous batch: one in use, one being read.
                guard channel.waitForRoom() else { return }
                let batch = Result { try read(index) }
                guard channel.put(batch) else { return }
                if case .failure = batch { return }
            }
        }
        defer {
            channel.stop()
            reader.wait()
        }
        for _ in 0..<count {
            try use(try channel.take().get())
        }
    }

    /// One slot between the reading thread and the caller.
    private final class Channel<Batch: Sendable>: @unchecked Sendable {
        private let condition = NSCondition()
        private var slot: Result<Batch, any Error>?
        private var stopped = false

        /// Waits for the slot to be free; false when the caller has stopped taking.
        func waitForRoom() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while slot != nil, !stopped { condition.wait() }
            return !stopped
        }

        /// Fills the free slot; false when the caller has stopped taking.
        func put(_ batch: Result<Batch, any Error>) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            guard !stopped else { return false }
            slot = batch
            condition.broadcast()
            return true
        }

        func take() -> Result<Batch, any Error> {
            condition.lock()
            defer { condition.unlock() }
            while slot == nil { condition.wait() }
            let batch = slot!
            slot = nil
            condition.broadcast()
            return batch
        }

        func stop() {
            condition.lock()
            stopped = true
            slot = nil
            condition.broadcast()
            condition.unlock()
        }
    }
}
