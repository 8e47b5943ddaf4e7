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
        try write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, kind, started_at, state, inventory, host_pattern, options, patchctl_version, policy, user, controller_host, controller)
                VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, kind, startedAt, inventory, hostPattern, options, version, policy, user, controller.host, controller.name])
        }
        return id
    }

    /// Stores finished hosts (with their findings or command output) in one transaction.
    public func record<Record: HistoryRecord>(runId: String, hosts: [Record]) throws {
        guard !hosts.isEmpty else { return }
        try write { db in
            for host in hosts { try host.insert(into: db, runId: runId) }
        }
    }

    /// `report` is kind-specific JSON.
    public func finishRun(runId: String, finishedAt: Date, state: RunState = .finished, report: String? = nil) throws {
        try write { db in
            try db.execute(sql: "UPDATE runs SET finished_at = ?, state = ?, report = COALESCE(?, report) WHERE id = ?",
                           arguments: [finishedAt, state.rawValue, report, runId])
            try db.execute(sql: Self.summarizeRunsSQL(where: "id = ?"), arguments: [runId])
        }
    }

    /// Called once, with the first write to this database that fails (deploy stops starting hosts then).
    public func onWriteFailure(_ observer: @escaping @Sendable (any Error) -> Void) {
        writeFailures.observe(observer)
    }

    /// Most recent first; with `controller`, only the runs of the controller with that label.
    public func runs(limit: Int = 20, controller: String? = nil) throws -> [RunListing] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT r.id, r.kind, r.state, r.started_at, r.finished_at, r.inventory, r.host_pattern, r.policy, r.user,
                    r.host_count AS hosts, r.ok_count AS ok, r.failed_count AS failures, r.updates_count AS updates, r.security_count AS security,
                    (SELECT COUNT(*) FROM deploy_packages p WHERE p.run_id = r.id AND p.outcome = 'installed') AS installed,
                    NULLIF(COALESCE(r.controller, r.controller_host), '') AS controller_label
                FROM runs r \(controller == nil ? "" : "WHERE " + Self.controllerCondition("r")) ORDER BY r.started_at DESC, r.id DESC LIMIT ?
                """, arguments: StatementArguments(controller.map { [$0] } ?? []) + [limit]).map { stored in
                // A run still running (or written to since it finished) is counted from its hosts.
                let row = stored["hosts"] != nil ? stored : try Row.fetchOne(db, sql: """
                    SELECT r.*, COUNT(h.host) AS hosts, COALESCE(SUM(h.status = 'ok'), 0) AS ok,
                           (SELECT COUNT(*) FROM deploy_packages p WHERE p.run_id = r.id AND p.outcome = 'installed') AS installed,
                           COALESCE(SUM(h.status IN (\(HostStatus.failureSQLList))), 0) AS failures,
                           COALESCE(SUM(h.updates_count), 0) AS updates, COALESCE(SUM(h.security_count), 0) AS security
                    FROM runs r LEFT JOIN run_hosts h ON h.run_id = r.id WHERE r.id = ? GROUP BY r.id
                    """, arguments: [stored["id"] as String]) ?? stored
                let kind = try row.decode(RunKind.self, forColumn: "kind")
                let state = try row.decode(RunState.self, forColumn: "state")
                let hosts: Int = row["hosts"]
                let ok: Int = row["ok"]
                let failures: Int = row["failures"]
                return RunListing(runId: row["id"], kind: kind, state: state, startedAt: row["started_at"],
                                  finishedAt: row["finished_at"], inventory: row["inventory"], hostPattern: row["host_pattern"],
                                  hosts: hosts, ok: ok, failed: failures, updates: row["updates"], securityUpdates: row["security"],
                                  policy: row["policy"], user: row["user"], installed: kind.isDeployment ? row["installed"] : nil,
                                  controller: stored["controller_label"])
            }
        }
    }

    /// The full id and kind of a run given by id or unique id prefix.
    public func resolveRun(_ id: String) throws -> (id: String, kind: RunKind) {
        try read { db in
            let run = try Self.findRun(db, id, path: path)
            return (run["id"], try run.decode(RunKind.self, forColumn: "kind"))
        }
    }

    static func findRun(_ db: Database, _ id: String, path: String) throws -> Row {
        let matches = try Row.fetchAll(db, sql: "SELECT id, kind, started_at, finished_at, options FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 2",
                                       arguments: [id, likePrefix(id)])
        let exact = matches.first { ($0["id"] as String) == id }
        guard let run = exact ?? (matches.count == 1 ? matches.first : nil) else {
            if matches.count > 1 { throw PatchError.store(path: path, message: "run id prefix '\(id)' is ambiguous") }
            // A run id starts with its UTC start time: one before the pruned boundary was deleted on purpose.
            if try db.tableExists("history_meta"), let before = try Date.fetchOne(db, sql: "SELECT value FROM history_meta WHERE key = 'pruned_before'"),
               id < makeRunID(before).prefix(16) {
                throw PatchError.store(path: path, message: "run '\(id)' is older than \(JSONOutput.timestamp(before)): history before then was pruned (`patchctl history events` shows when)")
            }
            throw PatchError.runNotFound(id)
        }
        return run
    }

    /// An exec run with every host's output.
    public func execRun(id: String) throws -> ExecRun {
        try read { db in
            let run = try Self.findRun(db, id, path: path)
            let runId: String = run["id"]
            let hosts = try Row.fetchAll(db, sql: """
                SELECT h.*, c.exit_code, c.stdout, c.stderr, c.duration_ms FROM run_hosts h
                LEFT JOIN command_results c ON c.run_id = h.run_id AND c.host = h.host
                WHERE h.run_id = ? ORDER BY h.started_at, h.host
                """, arguments: [runId]).map { row in
                ExecResult(name: row["host"], address: row["address"], port: row["port"],
                           status: HostStatus(rawValue: row["status"]) ?? .error, error: row["error"], exitCode: row["exit_code"],
                           stdout: row["stdout"] ?? "", stderr: row["stderr"] ?? "", durationMs: row["duration_ms"] ?? 0,
                           startedAt: row["started_at"], finishedAt: row["finished_at"])
            }
            return ExecRun(runId: runId, command: run["options"] ?? "", startedAt: run["started_at"], finishedAt: run["finished_at"], hosts: hosts)
        }
    }

    /// A whole scan run by id or unique id prefix.
    public func run(id: String) throws -> ScanRun {
        try read { db in
            let run = try Self.findRun(db, id, path: path)
            let runId: String = run["id"]
            let cves = try Self.findingCVEs(db, runId: runId)
            var findings: [String: [PendingUpdate]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM findings WHERE run_id = ? ORDER BY host, package, architecture", arguments: [runId]) {
                let key = FindingKey(host: row["host"], package: row["package"], architecture: row["architecture"])
                findings[row["host"], default: []].append(PendingUpdate(
                    name: row["package"], installedVersion: row["installed_version"], availableVersion: row["available_version"],
                    source: row["source"], security: row["security"], architecture: Self.architecture(row["architecture"]), severity: row["severity"],
                    advisories: (row["advisories"] as String).split(separator: "\n").map(String.init), cves: cves[key] ?? []))
            }
            let unfixed = try Self.unfixedCVEs(db, runId: runId)
            let hosts = try Row.fetchAll(db, sql: "SELECT * FROM run_hosts WHERE run_id = ? ORDER BY started_at, host", arguments: [runId]).map { row in
                let name: String = row["host"]
                var os: OSInfo?
                if let family: String = row["os_family"] {
                    os = OSInfo(family: OSFamily(rawValue: family) ?? .unknown, id: row["os_id"] ?? "", name: row["os_name"] ?? "",
                                version: row["os_version"] ?? "", codename: row["os_codename"], kernel: row["kernel"], architecture: row["architecture"])
                }
                let packages: String? = row["reboot_packages"]
                return HostScan(
                    name: name, address: row["address"], port: row["port"],
                    status: HostStatus(rawValue: row["status"]) ?? .error, error: row["error"], os: os,
                    rebootRequired: row["reboot_required"], rebootPackages: packages.map { $0.split(separator: "\n").map(String.init) } ?? [],
                    installedCount: row["installed_count"], updates: findings[name] ?? [],
                    startedAt: row["started_at"], finishedAt: row["finished_at"])
                    .with(unfixedCVEs: unfixed[name] ?? [])
            }
            return ScanRun(runId: runId, kind: try run.decode(RunKind.self, forColumn: "kind"), startedAt: run["started_at"], finishedAt: run["finished_at"], hosts: hosts)
        }
    }

    func write<T>(_ body: (Database) throws -> T) throws -> T {
        guard !isReadOnly else { throw PatchError.store(path: path, message: "opened read-only") }
        do {
            return try pool.write(body)
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
