import Foundation
import GRDB

/// An approval decision (or request) for one package version under one policy.
public struct ApprovalRecord: Codable, Sendable, Equatable {
    public var policy: String
    public var package: String
    public var version: String
    public var state: ApprovalState
    /// The ring that first asked for it.
    public var ring: String?
    public var requestedAt: Date?
    public var requestedRun: String?
    public var decidedAt: Date?
    public var decidedBy: String?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case policy, package, version, state, ring
        case requestedAt = "requested_at"
        case requestedRun = "requested_run"
        case decidedAt = "decided_at"
        case decidedBy = "decided_by"
        case note
    }
}

/// A manual deferral made with `patchctl defer`.
public struct DeferralRecord: Codable, Sendable, Equatable {
    public var id: Int64
    public var host: String
    /// Nil: applies to every policy.
    public var policy: String?
    public var until: Date
    public var reason: String
    public var createdBy: String
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, host, policy, until, reason
        case createdBy = "created_by"
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        // `policy` is null for "every policy", never absent.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(host, forKey: .host)
        try c.encode(policy, forKey: .policy)
        try c.encode(until, forKey: .until)
        try c.encode(reason, forKey: .reason)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// One line of the audit trail.
public struct EventRecord: Codable, Sendable, Equatable {
    public var at: Date
    public var user: String
    public var action: EventAction
    public var policy: String?
    public var host: String?
    public var package: String?
    public var version: String?
    public var runId: String?
    public var detail: String?

    public init(at: Date, user: String, action: EventAction, policy: String? = nil, host: String? = nil, package: String? = nil,
                version: String? = nil, runId: String? = nil, detail: String? = nil) {
        self.at = at
        self.user = user
        self.action = action
        self.policy = policy
        self.host = host
        self.package = package
        self.version = version
        self.runId = runId
        self.detail = detail
    }

    enum CodingKeys: String, CodingKey {
        case at, user, action, policy, host, package, version
        case runId = "run_id"
        case detail
    }
}

// Rows map to these records by their coding keys (the column names); an unknown state or
// action in a row is a decoding error naming its column, not a default.
extension ApprovalRecord: FetchableRecord, TableRecord {
    public static let databaseTableName = "approvals"
}

extension DeferralRecord: FetchableRecord, TableRecord {
    public static let databaseTableName = "deferrals"
}

extension EventRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "events"
}

/// What an earlier ring did with one package version: the evidence `after_test` promotes on.
public struct RingEvidence: Sendable, Equatable {
    public var installedHosts: Int
    public var failedHosts: Int
    public var lastInstalledAt: Date?
}

/// The latest deployment of a ring: whether the next ring may follow.
public struct RingHealth: Sendable, Equatable {
    public var runId: String
    public var hosts: Int
    public var failed: Int
    public var finishedAt: Date
    public var halted: Bool
}

/// A deploy run as `--resume` needs it.
public struct ResumableRun: Sendable, Equatable {
    public var runId: String
    public var state: RunState
    public var policy: String?
    public var inventory: String?
    public var hostPattern: String?
    /// The options JSON the run was started with.
    public var options: String?
    /// Hosts with a final outcome: everything except interrupted ones.
    public var doneHosts: Set<String>
    public var hosts: [DeployHostRecord]
}

extension DeployHostRecord: HistoryRecord {
    public func insert(into db: any HistoryWriter, runId: String, prepared: Void) throws {
        // A resumed run records a host again: replace every trace of the earlier attempt.
        for table in ["deploy_packages", "deploy_hosts"] {
            try db.execute("DELETE FROM \(table) WHERE run_id = ? AND host = ?", arguments: [runId, name])
        }
        try HistoryStore.putRunHost(db, [
            "run_id": runId, "host": name, "address": address, "port": port, "status": status.rawValue, "error": error,
            "os_family": os?.family.rawValue, "os_id": os?.id, "os_name": os?.name, "os_version": os?.version, "os_codename": os?.codename,
            "kernel": os?.kernel, "architecture": os?.architecture, "reboot_required": rebootRequired,
            "started_at": startedAt, "finished_at": finishedAt,
        ])
        try db.execute("INSERT INTO deploy_hosts (run_id, host, ring, batch, document) VALUES (?, ?, ?, ?, ?)",
                       arguments: [runId, name, ring, batch, try StoreCodec.encode(self)])
        // The deleted rows above leave no conflict but the same package listed twice (the last wins, as REPLACE made it).
        let package = """
            INSERT INTO deploy_packages (run_id, host, ring, package, from_version, target_version, to_version, outcome, reason, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_id, host, package) DO UPDATE SET ring = excluded.ring, from_version = excluded.from_version,
                target_version = excluded.target_version, to_version = excluded.to_version, outcome = excluded.outcome,
                reason = excluded.reason, at = excluded.at
            """
        for item in installed {
            try db.execute(package, arguments: [runId, name, ring, item.name, item.fromVersion, item.toVersion, item.toVersion, "installed", nil, finishedAt])
        }
        for item in failed {
            try db.execute(package, arguments: [runId, name, ring, item.name, item.fromVersion, item.targetVersion, item.actualVersion, "failed",
                                                item.reason, finishedAt])
        }
        for item in skipped {
            let outcome = item.awaitingApproval ? "awaiting_approval" : "skipped"
            let from = planned.first { $0.name == item.name }?.fromVersion ?? ""
            try db.execute(package, arguments: [runId, name, ring, item.name, from, item.version, nil, outcome, item.reason, finishedAt])
        }
        // The deployment read the host's packages (its own scan): the host is in the fleet.
        if os != nil, rebootRequired != nil { try HistoryStore.reappeared(db, host: name, runId: runId, startedAt: startedAt, at: finishedAt) }
    }
}

extension HistoryStore {
    // MARK: Approvals

    public func approval(policy: String, package: String, version: String) throws -> ApprovalRecord? {
        try reading { db in
            try db.rows("SELECT * FROM approvals WHERE policy = ? AND package = ? AND version = ?", arguments: [policy, package, version])
                .first.map { try ApprovalRecord(row: $0) }
        }
    }

    /// Records that a deployment wanted this version and could not have it yet (kept if already known).
    public func requestApproval(policy: String, package: String, version: String, ring: String, runId: String, at: Date) throws {
        try recording { db in
            try db.execute("""
                INSERT INTO approvals (policy, package, version, state, ring, requested_at, requested_run)
                VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [policy, package, version, ApprovalState.pending, ring, at, runId])
        }
    }

    /// Approves or rejects (also ahead of any request), and writes the audit event in the same transaction.
    public func decide(policy: String, package: String, version: String, state: ApprovalState, by user: String, note: String?, at: Date) throws {
        try recording { db in
            try db.execute("""
                INSERT INTO approvals (policy, package, version, state, decided_at, decided_by, note) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (policy, package, version) DO UPDATE SET state = excluded.state, decided_at = excluded.decided_at,
                    decided_by = excluded.decided_by, note = excluded.note
                """, arguments: [policy, package, version, state, at, user, note])
            try Self.insert(EventRecord(at: at, user: user, action: state == .approved ? .approve : .reject, policy: policy,
                                        package: package, version: version, detail: note), into: db)
        }
    }

    /// Pending requests (or every record with `all`), oldest first.
    public func approvals(policy: String?, all: Bool) throws -> [ApprovalRecord] {
        try reading { db in
            var sql = "SELECT * FROM approvals WHERE 1 = 1"
            var arguments: [DatabaseValue] = []
            if let policy {
                sql += " AND policy = ?"
                arguments.append(policy.databaseValue)
            }
            if !all {
                sql += " AND state = ?"
                arguments.append(ApprovalState.pending.databaseValue)
            }
            sql += " ORDER BY COALESCE(requested_at, decided_at), package, version"
            return try db.rows(sql, arguments).map { try ApprovalRecord(row: $0) }
        }
    }

    /// The versions of `package` awaiting a decision under `policy` (for `approve NAME` without a version).
    public func pendingVersions(policy: String, package: String) throws -> [String] {
        try reading { db in
            try db.rows("SELECT version FROM approvals WHERE policy = ? AND package = ? AND state = ? ORDER BY requested_at",
                        arguments: [policy, package, ApprovalState.pending]).map { $0["version"] as String }
        }
    }

    // MARK: Ring evidence

    /// How `ring` of `policy` fared with `package` at `version` across all real (non-dry) deployments.
    public func ringEvidence(policy: String, ring: String, package: String, version: String) throws -> RingEvidence {
        try reading { db in
            let row = try db.rows("""
                SELECT COUNT(DISTINCT CASE WHEN p.outcome = 'installed' THEN p.host END) AS installed,
                       COUNT(DISTINCT CASE WHEN p.outcome = 'failed' THEN p.host END) AS failed,
                       MAX(CASE WHEN p.outcome = 'installed' THEN p.at END) AS last
                FROM deploy_packages p JOIN runs r ON r.id = p.run_id
                WHERE r.policy = ? AND p.ring = ? AND p.package = ? AND p.target_version = ?
                """, arguments: [policy, ring, package, version]).first
            return RingEvidence(installedHosts: row?["installed"] ?? 0, failedHosts: row?["failed"] ?? 0,
                                lastInstalledAt: row?["last"])
        }
    }

    /// The most recent real deployment that included `ring`: how many of its hosts failed, and when it ended.
    public func ringHealth(policy: String, ring: String) throws -> RingHealth? {
        try reading { db in
            guard let row = try db.rows("""
                SELECT r.id, r.state, COUNT(*) AS hosts,
                       SUM(CASE WHEN h.status IN (\(HostStatus.failureSQLList)) THEN 1 ELSE 0 END) AS failed,
                       MAX(h.finished_at) AS finished
                FROM runs r JOIN deploy_hosts d ON d.run_id = r.id JOIN run_hosts h ON h.run_id = d.run_id AND h.host = d.host
                WHERE r.policy = ? AND r.kind = ? AND d.ring = ?
                GROUP BY r.id, r.state, r.started_at ORDER BY r.started_at DESC, r.id DESC LIMIT 1
                """, arguments: [policy, RunKind.deploy, ring]).first else { return nil }
            let runId: String = row["id"]
            let report: String? = try db.rows("SELECT report FROM runs WHERE id = ?", arguments: [runId]).first?["report"]
            let decoded = try report.map { try deployReport($0, runId: runId) }
            let halted = decoded?.rings.contains { $0.name == ring && $0.state == .halted } ?? false
            return RingHealth(runId: row["id"], hosts: row["hosts"], failed: row["failed"] ?? 0, finishedAt: row["finished"], halted: halted)
        }
    }

    // MARK: Deferrals

    /// Automatic deferrals (users logged in) of `host` under `policy` since its last successful deployment there.
    public func automaticDeferrals(policy: String, host: String) throws -> (count: Int, first: Date?) {
        try reading { db in
            let lastOK: Date? = try db.rows("""
                SELECT MAX(h.finished_at) AS last FROM run_hosts h JOIN runs r ON r.id = h.run_id
                WHERE r.policy = ? AND r.kind = ? AND h.host = ? AND h.status = 'ok'
                """, arguments: [policy, RunKind.deploy, host]).first?["last"]
            let row = try db.rows("""
                SELECT COUNT(*) AS n, MIN(at) AS first FROM events
                WHERE action = ? AND policy = ? AND host = ? AND at > ?
                """, arguments: [EventAction.deferred, policy, host, lastOK ?? Date(timeIntervalSince1970: 0)]).first
            return (row?["n"] ?? 0, row?["first"])
        }
    }

    public func addDeferral(host: String, policy: String?, until: Date, reason: String, by user: String, at: Date) throws -> Int64 {
        try recording { db in
            let id = try db.insertReturningID("INSERT INTO deferrals (host, policy, until, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                              arguments: [host, policy, until, reason, user, at])
            try Self.insert(EventRecord(at: at, user: user, action: .defer, policy: policy, host: host,
                                        detail: "until \(JSONOutput.timestamp(until)): \(reason)"), into: db)
            return id
        }
    }

    /// Cancels the host's active manual deferrals; returns how many there were.
    public func cancelDeferrals(host: String, policy: String?, by user: String, at: Date) throws -> Int {
        try recording { db in
            let changed = try db.rows("""
                UPDATE deferrals SET cancelled_at = ?, cancelled_by = ?
                WHERE host = ? AND cancelled_at IS NULL AND until > ?\(policy == nil ? "" : " AND (policy IS NULL OR policy = ?)") RETURNING id
                """, [at.databaseValue, user.databaseValue, host.databaseValue, at.databaseValue] + (policy.map { [$0.databaseValue] } ?? [])).count
            if changed > 0 { try Self.insert(EventRecord(at: at, user: user, action: .undefer, policy: policy, host: host), into: db) }
            return changed
        }
    }

    /// The manual deferral holding `host` back under `policy` at `date`, latest ending first.
    public func activeDeferral(host: String, policy: String, at date: Date) throws -> DeferralRecord? {
        try reading { db in
            try db.rows("""
                SELECT * FROM deferrals WHERE host = ? AND (policy IS NULL OR policy = ?) AND cancelled_at IS NULL
                    AND until > ? AND created_at <= ? ORDER BY until DESC LIMIT 1
                """, arguments: [host, policy, date, date]).first.map { try DeferralRecord(row: $0) }
        }
    }

    public func deferrals(activeAt date: Date?) throws -> [DeferralRecord] {
        try reading { db in
            var sql = "SELECT * FROM deferrals WHERE cancelled_at IS NULL"
            var arguments: [DatabaseValue] = []
            if let date {
                sql += " AND until > ?"
                arguments.append(date.databaseValue)
            }
            return try db.rows(sql + " ORDER BY until, host", arguments).map { try DeferralRecord(row: $0) }
        }
    }

    // MARK: Events

    public func recordEvents(_ events: [EventRecord]) throws {
        guard !events.isEmpty else { return }
        try recording { db in
            for event in events { try Self.insert(event, into: db) }
        }
    }

    /// Most recent first.
    public func events(limit: Int = 50, host: String? = nil, policy: String? = nil) throws -> [EventRecord] {
        try withView { try $0.events(limit: limit, host: host, policy: policy) }
    }

    static func insert(_ event: EventRecord, _ db: Database) throws {
        try insert(event, into: SQLiteConnection(db: db, source: "history"))
    }

    /// One audit event, on either store.
    static func insert(_ event: EventRecord, into db: any HistoryWriter) throws {
        try db.execute("""
            INSERT INTO events (at, "user", action, policy, host, package, version, run_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [event.at, event.user, event.action, event.policy, event.host, event.package, event.version, event.runId, event.detail])
    }

    // MARK: Deploy runs

    /// A deploy run's recorded hosts and how it was started, for `--resume` and `history show`.
    public func deployRun(id: String) throws -> ResumableRun {
        try withView { try $0.deployRun(id: id) }
    }

    /// The stored report JSON of a run (deploy: outcome, rings, notes).
    public func runReport(id: String) throws -> String? {
        try reading { db in try db.rows("SELECT report FROM runs WHERE id = ?", arguments: [id]).first?["report"] }
    }

    /// Marks a run as running again (resume).
    public func reopenRun(id: String) throws {
        try recording { db in
            try db.execute("UPDATE runs SET state = ?, finished_at = NULL WHERE id = ?", arguments: [RunState.running, id])
        }
    }

    /// A host's intent, written before its first change (install, bundle, reboot): the host as
    /// planned (packages, exact commands) with status `interrupted`, so a run killed or unable to
    /// record afterwards still shows what was sent, and `--resume` redoes the host. Its outcome
    /// replaces it when the host finishes.
    public func recordIntent(runId: String, host: DeployHostRecord) throws {
        var intent = host
        intent.status = .interrupted
        intent.error = "install sent at \(JSONOutput.timestamp(host.finishedAt)); no outcome recorded (the run was killed or could not write history); --resume redoes the host"
        try record(runId: runId, hosts: [intent])
    }
}

extension HistoryStore {
    /// When `ring` of `policy` last installed anything (the start of its soak).
    public func lastInstall(policy: String, ring: String) throws -> Date? {
        try reading { db in
            try db.rows("""
                SELECT MAX(p.at) AS last FROM deploy_packages p JOIN runs r ON r.id = p.run_id
                WHERE r.policy = ? AND p.ring = ? AND p.outcome = 'installed'
                """, arguments: [policy, ring]).first?["last"]
        }
    }
}

extension HistoryStore {
    /// A recorded deployment or plan, as `deploy --output json` printed it.
    public func deployRunReport(id: String) throws -> DeployRunRecord {
        try withView { try $0.deployRunReport(id: id) }
    }
}

extension HistoryStore {
    /// A deploy run's stored report; one this version cannot read (an unknown ring state or
    /// outcome) is an error naming the run, not a run without rings.
    func deployReport(_ text: String, runId: String) throws -> DeployRunSummary {
        try Self.deployReport(text, runId: runId, location: path)
    }

    static func deployReport(_ text: String, runId: String, location: String) throws -> DeployRunSummary {
        do {
            return try StoreCodec.decode(DeployRunSummary.self, from: text)
        } catch {
            throw PatchError.store(path: location, message: "run \(runId): its recorded report cannot be read: \(error)")
        }
    }
}
