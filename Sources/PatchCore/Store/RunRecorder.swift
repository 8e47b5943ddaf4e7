import Foundation

/// Writes finished hosts to history on its own queue, so a slow disk never holds up the hosts
/// still in flight: in batches of `batchSize`, and at the latest `flushInterval` after the first
/// unwritten host, so a run that is killed loses at most that much. When the database refuses a
/// write (disk full, I/O error), that batch and every later record go to the journal beside it
/// instead; `finish()` then throws `HistoryWriteFailure`, after the run's end is journaled too.
public final class RunRecorder<Record: HistoryRecord>: @unchecked Sendable {
    public let runId: String
    /// The database this run records into (advisory feeds are read from it too).
    public let store: HistoryStore
    private let queue = DispatchQueue(label: "patchctl.history")
    /// Prepares each full batch (`HistoryRecord.prepare`, on every core) in the order they filled, while the
    /// history queue writes the batch before: the writer never waits for a batch's digests and identity rows.
    private let preparing = DispatchQueue(label: "patchctl.history.prepare")
    /// Batches whose preparation has started and whose write has not ended: the preparing queue waits
    /// at `preparedAhead`, so a slow disk holds a few batches' digests and identity rows, not a fleet's.
    let ahead = AheadGate(limit: RunRecorder.preparedAhead)
    /// Enough to keep the writer from ever waiting for a preparation (preparing takes a fraction of a write).
    static var preparedAhead: Int { 4 }
    private let lock = NSLock()
    private var pending: [Record] = []
    private var timerArmed = false
    private var firstError: (any Error)?
    private let batchSize: Int
    private let flushInterval: TimeInterval
    public let journal: HistoryJournal
    public var databasePath: String { store.path }

    public init(store: HistoryStore, runId: String, batchSize: Int = 64, flushInterval: TimeInterval = 1) {
        self.store = store
        self.runId = runId
        self.batchSize = max(1, batchSize)
        self.flushInterval = flushInterval
        journal = HistoryJournal(path: store.journalPath)
    }

    /// Waits until every host added so far is in the database or, after a write failure, in the journal.
    public func flush() throws {
        try drain {}
    }

    public func add(_ host: Record) {
        lock.lock()
        pending.append(host)
        var batch: [Record]?
        var arm = false
        if pending.count >= batchSize {
            batch = takePending()
        } else if !timerArmed {
            timerArmed = true
            arm = true
        }
        lock.unlock()
        if let batch {
            let prepared = PreparedBatch<Record>()
            preparing.async { [ahead] in
                ahead.enter()
                prepared.fill(HistoryStore.prepare(batch))
            }
            queue.async {
                self.write(batch, prepared: prepared)
                self.ahead.leave()
            }
        }
        if arm {
            // Weakly: a finished recorder must not keep its store (and the database's connections) open until the
            // timer fires, or the process ends first with the write-ahead log still beside the database. Hosts are
            // pending only until `flush` or `finish`, which every run calls.
            queue.asyncAfter(deadline: .now() + flushInterval) { [weak self] in
                guard let self else { return }
                self.lock.lock()
                self.timerArmed = false
                let batch = self.takePending()
                self.lock.unlock()
                self.write(batch)
            }
        }
    }

    /// Records an audit event after the hosts added so far, in the database or, after a failure, the journal.
    public func record(event: EventRecord) {
        let batch = lock.withLock { takePending() }
        queue.async {
            self.write(batch)
            if self.firstError == nil {
                do {
                    try self.store.recordEvents([event])
                    return
                } catch {
                    self.firstError = error
                }
            }
            var entry = HistoryJournal.Entry(type: .event, runId: self.runId)
            entry.event = event
            do { try self.journal.append([entry]) } catch { self.journalError = error }
        }
    }

    /// Flushes, marks the run `state`, and throws `HistoryWriteFailure` if any record could not be
    /// written to the database (the records and the run's end are in the journal then).
    public func finish(at date: Date, state: RunState = .finished, report: String? = nil) throws {
        try drain {
            if firstError == nil {
                do {
                    try store.finishRun(runId: runId, finishedAt: date, state: state, report: report)
                } catch {
                    firstError = error
                }
            }
            if let firstError {
                var entry = HistoryJournal.Entry(type: .finish, runId: runId)
                entry.state = state
                entry.finishedAt = date
                entry.report = report
                try? journal.append([entry])
                journal.close()
                throw HistoryWriteFailure(database: store.path, journal: journal.path, cause: "\(firstError)", journaled: journal.written,
                                          journalProblem: journalError.map { "\($0)" })
            }
            journal.close()
        }
    }

    /// Writes what is pending, then runs `then` on the history queue.
    private func drain(then: () throws -> Void) throws {
        lock.lock()
        let batch = takePending()
        lock.unlock()
        try queue.sync {
            write(batch)
            try then()
        }
    }

    private func takePending() -> [Record] {
        defer { pending = [] }
        return pending
    }

    /// On the history queue; `prepared`, when the batch's preparation was started as it filled.
    private func write(_ batch: [Record], prepared: PreparedBatch<Record>? = nil) {
        guard !batch.isEmpty else { return }
        // Waited for even when the database has failed: the batch leaves the gate only once its preparation is done.
        let preparations = prepared?.wait()
        if firstError == nil {
            do {
                try store.record(runId: runId, hosts: batch, prepared: preparations ?? HistoryStore.prepare(batch))
                return
            } catch {
                firstError = error
            }
        }
        do {
            try journal.append(batch.map { HistoryJournal.entry(for: $0, runId: runId) })
        } catch {
            // Neither the database nor the journal took them: the caller's output is the only record left.
            journalError = error
        }
    }

    private var journalError: (any Error)?
}

/// Counts batches between the start of their preparation and the end of their write, and holds the
/// preparing queue at `limit`. `state` is what a test can see of it, read under the lock.
final class AheadGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var inFlight = 0
    let limit: Int
    /// The most batches ever in flight at once.
    private var mostAhead = 0
    /// A preparation is waiting for a write to end.
    private var waiting = false

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    func enter() {
        condition.lock()
        defer { condition.unlock() }
        while inFlight >= limit {
            waiting = true
            condition.wait()
        }
        waiting = false
        inFlight += 1
        mostAhead = max(mostAhead, inFlight)
    }

    func leave() {
        condition.lock()
        defer { condition.unlock() }
        inFlight -= 1
        condition.broadcast()
    }

    /// `waiting`, `mostAhead`, read under the lock.
    var state: (waiting: Bool, mostAhead: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (waiting, mostAhead)
    }
}

/// A batch's preparations, made on one queue and waited for on another.
private final class PreparedBatch<Record: HistoryRecord>: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var value: [Record.Preparation] = []

    func fill(_ prepared: [Record.Preparation]) {
        value = prepared
        ready.signal()
    }

    /// The semaphore orders the write in `fill` before this read.
    func wait() -> [Record.Preparation] {
        ready.wait()
        return value
    }
}

/// History could not be written; what could not is in the journal (`journaled` lines), which the
/// next recording command imports.
public struct HistoryWriteFailure: Error, CustomStringConvertible, Codable, Sendable, Equatable {
    public var database: String
    public var journal: String
    public var cause: String
    public var journaled: Int
    /// The journal failed too: some records exist only in this command's output.
    public var journalProblem: String?

    public init(database: String, journal: String, cause: String, journaled: Int, journalProblem: String? = nil) {
        self.database = database
        self.journal = journal
        self.cause = cause
        self.journaled = journaled
        self.journalProblem = journalProblem
    }

    // Explicit null: every key of a printed document is always present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(database, forKey: .database)
        try container.encode(journal, forKey: .journal)
        try container.encode(cause, forKey: .cause)
        try container.encode(journaled, forKey: .journaled)
        try container.encode(journalProblem, forKey: .journalProblem)
    }

    enum CodingKeys: String, CodingKey {
        case database, journal, cause, journaled
        case journalProblem = "journal_problem"
    }

    public var description: String {
        var text = "history database \(database): could not be written (\(cause)); \(journaled) record(s) kept in \(journal), "
            + "imported by the next patchctl command that records (its run then reads `incomplete`)"
        if let journalProblem { text += "; some records could not be journaled either (\(journalProblem)): the output above is their only copy" }
        return text
    }
}
