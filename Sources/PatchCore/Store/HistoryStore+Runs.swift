import Foundation
import GRDB

/// One line of `patchctl history`.
public struct RunListing: Codable, Sendable, Equatable {
    public var runId: String
    public var kind: RunKind
    public var state: RunState
    public var startedAt: Date
    public var finishedAt: Date?
    public var inventory: String?
    public var hostPattern: String?
    public var hosts: Int
    public var ok: Int
    public var failed: Int
    public var updates: Int
    public var securityUpdates: Int
    /// Deploy runs: the policy and the local user who started it.
    public var policy: String?
    public var user: String?
    /// Deployments and installs: packages installed (nil for the other kinds). `updates` is what
    /// their fresh scans found pending.
    public var installed: Int?
    /// The controller that recorded the run (its name, else its host name); nil for runs recorded
    /// before patchctl kept it.
    public var controller: String?

    enum CodingKeys: String, CodingKey {
        case runId = "run_id"
        case kind, state, policy, user
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case inventory
        case hostPattern = "limit"
        case hosts, ok, failed, updates
        case securityUpdates = "security_updates"
        case installed, controller
    }

    public func encode(to encoder: any Encoder) throws {
        // Every key always present, null where it does not apply (docs/json.md, docs/schema/history-list.json).
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runId, forKey: .runId)
        try c.encode(kind, forKey: .kind)
        try c.encode(state, forKey: .state)
        try c.encode(policy, forKey: .policy)
        try c.encode(user, forKey: .user)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(inventory, forKey: .inventory)
        try c.encode(hostPattern, forKey: .hostPattern)
        try c.encode(hosts, forKey: .hosts)
        try c.encode(ok, forKey: .ok)
        try c.encode(failed, forKey: .failed)
        try c.encode(updates, forKey: .updates)
        try c.encode(securityUpdates, forKey: .securityUpdates)
        try c.encode(installed, forKey: .installed)
        try c.encode(controller, forKey: .controller)
    }
}

extension HistoryStore {
    /// Records the start of a run before any host is contacted, so an interrupted run still shows.
    public func beginRun(kind: RunKind, startedAt: Date, inventory: String?, hostPattern: String?, options: String?, version: String,
                         policy: String? = nil, user: String? = nil) throws -> String {
        let id = Self.makeRunID(startedAt)
        try recording { db in
            try db.execute("""
                INSERT INTO runs (id, kind, started_at, state, inventory, host_pattern, options, patchctl_version, policy, "user", controller_host, controller)
                VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, kind, startedAt, inventory, hostPattern, options, version, policy, user, controller.host, controller.name])
        }
        return id
    }

    /// Stores finished hosts (with their findings or command output) in one transaction.
    public func record<Record: HistoryRecord>(runId: String, hosts: [Record]) throws {
        try record(runId: runId, hosts: hosts, prepared: Self.prepare(hosts))
    }

    /// `record` with each host's preparation made beforehand (`prepare`), in the same order.
    func record<Record: HistoryRecord>(runId: String, hosts: [Record], prepared: [Record.Preparation]) throws {
        guard !hosts.isEmpty else { return }
        precondition(prepared.count == hosts.count, "one preparation per host")
        try recording(boundedStatements: true) { db in
            try Record.insert(hosts, prepared: prepared, into: db, runId: runId)
        }
    }

    /// Each record's preparation, on every core for a batch of any size: the writer then only writes.
    static func prepare<Record: HistoryRecord>(_ hosts: [Record]) -> [Record.Preparation] {
        guard hosts.count >= 16 else { return hosts.map { $0.prepare() } }
        let results = Prepared<Record.Preparation>(count: hosts.count)
        DispatchQueue.concurrentPerform(iterations: hosts.count) { results.set($0, hosts[$0].prepare()) }
        return results.values
    }
}

/// Results filled in from several threads, each slot once.
private final class Prepared<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }

    var values: [Value] { lock.withLock { slots.map { $0! } } }
}

extension HistoryStore {

    /// `report` is kind-specific JSON.
    public func finishRun(runId: String, finishedAt: Date, state: RunState = .finished, report: String? = nil) throws {
        try recording { db in
            try db.execute("UPDATE runs SET finished_at = ?, state = ?, report = COALESCE(?, report) WHERE id = ?",
                           arguments: [finishedAt, state.rawValue, report, runId])
            try db.execute(Self.summarizeRunsSQL(where: "id = ?"), arguments: [runId])
        }
    }

    /// Called once, with the first write to this database that fails (deploy stops starting hosts then).
    public func onWriteFailure(_ observer: @escaping @Sendable (any Error) -> Void) {
        writeFailures.observe(observer)
    }

    /// Most recent first; with `controller`, only the runs of the controller with that label.
    public func runs(limit: Int = 20, controller: String? = nil) throws -> [RunListing] {
        try withView { try $0.runs(limit: limit, controller: controller) }
    }

    /// The full id and kind of a run given by id or unique id prefix.
    public func resolveRun(_ id: String) throws -> (id: String, kind: RunKind) {
        try withView { try $0.resolveRun(id) }
    }

    /// An exec run with every host's output.
    public func execRun(id: String) throws -> ExecRun {
        try withView { try $0.execRun(id: id) }
    }

    /// A whole scan run by id or unique id prefix.
    public func run(id: String) throws -> ScanRun {
        try withView { try $0.run(id: id) }
    }

    /// One write transaction. `boundedStatements`: each of the body's statements changes a bounded
    /// number of rows (a batch's multi-row inserts and updates, a few hundred rows each), so their
    /// statement journals are kept in memory (`temp_store = MEMORY` for the transaction). SQLite
    /// journals each page a multi-row statement changes, to undo that statement alone should it fail,
    /// and past 64 KiB it writes that journal to a temporary file: a night of 10,000 hosts wrote
    /// 77 MB there in 61 files, as much as its log. Not for every write: one statement of a prune
    /// or a migration may change most of a multi-GB file, and would hold its journal in memory.
    func write<T>(boundedStatements: Bool = false, _ body: (Database) throws -> T) throws -> T {
        guard !isReadOnly else { throw PatchError.store(path: path, message: "opened read-only") }
        do {
            defer { checkpointer?.committed() }
            guard boundedStatements else { return try pool.write(body) }
            return try pool.writeWithoutTransaction { db in
                // Set outside the transaction (SQLite refuses to change it within one), for this one.
                try db.execute(sql: "PRAGMA temp_store = MEMORY")
                defer { try? db.execute(sql: "PRAGMA temp_store = DEFAULT") }
                var result: T?
                try db.inTransaction {
                    result = try body(db)
                    return .commit
                }
                guard let result else { throw PatchError.store(path: path, message: "a write transaction ended without its result") }
                return result
            }
        } catch let failure as BodyFailure {
            throw failure.underlying
        } catch let error as PatchError {
            throw error
        } catch {
            let failure = PatchError.store(path: path, message: String(describing: error))
            writeFailures.record(failure)
            throw failure
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(body)
        } catch let error as PatchError {
            throw error
        } catch {
            throw PatchError.store(path: path, message: String(describing: error))
        }
    }

    /// '' in `findings.architecture` (migration v8) is an architecture the platform did not name.
    static func architecture(_ stored: String?) -> String? {
        stored.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sortable and readable: UTC start time plus random bits (runs may start in the same second).
    static func makeRunID(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%06x", UInt32.random(in: 0..<0x1000000))
    }

    static func likePrefix(_ prefix: String) -> String {
        prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }
}
