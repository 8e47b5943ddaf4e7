import Foundation

/// Writes finished hosts to history in batches on its own queue, so a slow disk never holds up
/// the hosts still in flight. `finish()` waits for every pending write and reports the first error.
public final class RunRecorder<Record: HistoryRecord>: @unchecked Sendable {
    public let runId: String
    private let store: HistoryStore
    private let queue = DispatchQueue(label: "patchctl.history")
    private let lock = NSLock()
    private var pending: [Record] = []
    private var firstError: (any Error)?
    private let batchSize: Int

    public init(store: HistoryStore, runId: String, batchSize: Int = 64) {
        self.store = store
        self.runId = runId
        self.batchSize = batchSize
    }

    /// Waits until every host added so far is in the database (deploy reads its own ring's results).
    public func flush() throws {
        try drain {}
    }

    public func add(_ host: Record) {
        lock.lock()
        pending.append(host)
        let batch = pending.count >= batchSize ? takePending() : nil
        lock.unlock()
        if let batch { queue.async { self.write(batch) } }
    }

    /// Flushes, marks the run finished, and rethrows a write failure if there was one.
    public func finish(at date: Date, state: String = "finished", report: String? = nil) throws {
        try drain { try store.finishRun(runId: runId, finishedAt: date, state: state, report: report) }
    }

    /// Writes what is pending, then runs `then` on the history queue unless a write failed.
    private func drain(then: () throws -> Void) throws {
        lock.lock()
        let batch = takePending()
        lock.unlock()
        try queue.sync {
            write(batch)
            if let firstError { throw firstError }
            try then()
        }
    }

    private func takePending() -> [Record] {
        defer { pending = [] }
        return pending
    }

    private func write(_ batch: [Record]) {
        guard firstError == nil else { return }
        do {
            try store.record(runId: runId, hosts: batch)
        } catch {
            firstError = error
        }
    }
}
