import Foundation

/// Reads the next batches on other threads while the caller works on the one it has: a report of a
/// large fleet reads its history in batches of hosts, and reading and judging then overlap.
enum ReadAhead {
    /// Calls `use` with `read(0)`, `read(1)`, … `read(count - 1)` in order, while `readers` threads
    /// read the batches after it: reader `r` reads batches `r`, `r + readers`, … one after the other,
    /// so whatever `read` uses for `index % readers` is used by one thread at a time. At most
    /// `readers` batches are read ahead of the one in use. The first error, of a read or a use, is
    /// thrown once every reading thread has stopped: nothing reads on after this returns.
    static func run<Batch: Sendable>(_ count: Int, readers: Int = 1, read: @escaping @Sendable (Int) throws -> Batch,
                                     use: (Batch) throws -> Void) throws {
        precondition(readers > 0)
        let channel = Channel<Batch>(ahead: readers)
        let reading = DispatchGroup()
        for reader in 0..<min(readers, count) {
            reading.enter()
            DispatchQueue.global(qos: .userInitiated).async {
                defer { reading.leave() }
                for index in stride(from: reader, to: count, by: readers) {
                    guard channel.waitForTurn(index) else { return }
                    let batch = Result { try read(index) }
                    guard channel.put(batch, at: index) else { return }
                    if case .failure = batch { return }
                }
            }
        }
        defer {
            channel.stop()
            reading.wait()
        }
        for index in 0..<count {
            try use(try channel.take(index).get())
        }
    }

    /// The batches read and not yet taken, between the reading threads and the caller.
    private final class Channel<Batch: Sendable>: @unchecked Sendable {
        private let condition = NSCondition()
        private let ahead: Int
        private var ready: [Int: Result<Batch, any Error>] = [:]
        /// Batches the caller has taken (the last of them is the one in use).
        private var taken = 0
        private var stopped = false

        init(ahead: Int) { self.ahead = ahead }

        /// Waits until batch `index` may be read: no more than `ahead` batches past the one in use.
        /// False when the caller has stopped taking.
        func waitForTurn(_ index: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while index >= taken + ahead, !stopped { condition.wait() }
            return !stopped
        }

        /// False when the caller has stopped taking.
        func put(_ batch: Result<Batch, any Error>, at index: Int) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            guard !stopped else { return false }
            ready[index] = batch
            condition.broadcast()
            return true
        }

        func take(_ index: Int) -> Result<Batch, any Error> {
            condition.lock()
            defer { condition.unlock() }
            while ready[index] == nil { condition.wait() }
            let batch = ready.removeValue(forKey: index)!
            taken = index + 1
            condition.broadcast()
            return batch
        }

        func stop() {
            condition.lock()
            stopped = true
            ready = [:]
            condition.broadcast()
            condition.unlock()
        }
    }
}
