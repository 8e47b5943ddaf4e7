import Foundation
import GRDB

/// The runs of a history as `history`, `history show` and `history events` read them, from either store.
public struct HistoryView {
    let sql: any HistorySQL

    init(_ sql: any HistorySQL) {
        self.sql = sql
    }

    func one(_ query: String, _ arguments: [DatabaseValue]) throws -> Row? {
        try sql.rows(query, arguments).first
    }

    /// Most recent first; with `controller`, only the runs of the controller with that label.
    public func runs(limit: Int = 20, controller: String? = nil) throws -> [RunListing] {
        try sql.rows("""
            SELECT r.id, r.kind, r.state, r.started_at, r.finished_at, r.inventory, r.host_pattern, r.policy, r."user",
                r.host_count AS hosts, r.ok_count AS ok, r.failed_count AS failures, r.updates_count AS updates, r.security_count AS security,
                (SELECT COUNT(*) FROM deploy_packages p WHERE p.run_id = r.id AND p.outcome = 'installed') AS installed,
                NULLIF(COALESCE(r.controller, r.controller_host), '') AS controller_label
            FROM runs r \(controller == nil ? "" : "WHERE " + HistoryStore.controllerCondition("r")) ORDER BY r.started_at DESC, r.id DESC LIMIT ?
            """, (controller.map { [$0.databaseValue] } ?? []) + [limit.databaseValue]).map { stored in
            // A run still running (or written to since it finished) is counted from its hosts.
            let row = stored["hosts"] != nil ? stored : try one("""
                SELECT r.*, COUNT(h.host) AS hosts, COALESCE(SUM(CASE WHEN h.status = 'ok' THEN 1 ELSE 0 END), 0) AS ok,
                       (SELECT COUNT(*) FROM deploy_packages p WHERE p.run_id = r.id AND p.outcome = 'installed') AS installed,
                       COALESCE(SUM(CASE WHEN h.status IN (\(HostStatus.failureSQLList)) THEN 1 ELSE 0 END), 0) AS failures,
                       COALESCE(SUM(h.updates_count), 0) AS updates, COALESCE(SUM(h.security_count), 0) AS security
                FROM runs r LEFT JOIN run_hosts h ON h.run_id = r.id WHERE r.id = ? GROUP BY r.id
                """, [(stored["id"] as String).databaseValue]) ?? stored
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

    /// The full id and kind of a run given by id or unique id prefix.
    public func resolveRun(_ id: String) throws -> (id: String, kind: RunKind) {
        let run = try findRun(id)
        return (run["id"], try run.decode(RunKind.self, forColumn: "kind"))
    }

    func findRun(_ id: String) throws -> Row {
        let matches = try sql.rows("SELECT id, kind, started_at, finished_at, options FROM runs WHERE id = ? OR id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 2",
                                   [id.databaseValue, HistoryStore.likePrefix(id).databaseValue])
        let exact = matches.first { ($0["id"] as String) == id }
        guard let run = exact ?? (matches.count == 1 ? matches.first : nil) else {
            if matches.count > 1 { throw PatchError.store(path: sql.source, message: "run id prefix '\(id)' is ambiguous") }
            // A run id starts with its UTC start time: one before the pruned boundary was deleted on purpose.
            if try hasTable("history_meta"), let before: Date = try one("SELECT value FROM history_meta WHERE key = 'pruned_before'", [])?["value"],
               id < HistoryStore.makeRunID(before).prefix(16) {
                throw PatchError.store(path: sql.source, message: "run '\(id)' is older than \(JSONOutput.timestamp(before)): history before then was pruned (`patchctl history events` shows when)")
            }
            throw PatchError.runNotFound(id)
        }
        return run
    }

    /// Histories converted from before v10 may lack newer tables; PostgreSQL histories never do.
    func hasTable(_ name: String) throws -> Bool {
        guard let reader = sql as? SQLiteConnection else { return true }
        return try reader.db.tableExists(name)
    }

    /// An exec run with every host's output.
    public func execRun(id: String) throws -> ExecRun {
        let run = try findRun(id)
        let runId: String = run["id"]
        let hosts = try sql.rows("""
            SELECT h.*, c.exit_code, c.stdout, c.stderr, c.duration_ms FROM run_hosts h
            LEFT JOIN command_results c ON c.run_id = h.run_id AND c.host = h.host
            WHERE h.run_id = ? ORDER BY h.started_at, h.host
            """, [runId.databaseValue]).map { row in
            ExecResult(name: row["host"], address: row["address"], port: row["port"],
                       status: HostStatus(rawValue: row["status"]) ?? .error, error: row["error"], exitCode: row["exit_code"],
                       stdout: row["stdout"] ?? "", stderr: row["stderr"] ?? "", durationMs: row["duration_ms"] ?? 0,
                       startedAt: row["started_at"], finishedAt: row["finished_at"])
        }
        return ExecRun(runId: runId, command: run["options"] ?? "", startedAt: run["started_at"], finishedAt: run["finished_at"], hosts: hosts)
    }

    /// A whole scan run by id or unique id prefix.
    public func run(id: String) throws -> ScanRun {
        // Read as `history show` reads it: one run, one way of reading it.
        let stream = try ScanRunStream(self, id: id)
        let outline = stream.outline
        var hosts: [HostScan] = []
        hosts.reserveCapacity(outline.hosts.count)
        try stream.forEachBatch { hosts += $0 }
        return ScanRun(runId: outline.runId, kind: outline.kind, startedAt: outline.startedAt, finishedAt: outline.finishedAt, hosts: hosts)
    }

    /// A scan run's own facts, and its hosts' names in the order `run(id:)` lists them: what
    /// `history show` reads first, before it reads the hosts in batches (`runHosts`).
    public func runOutline(id: String) throws -> ScanRunOutline {
        let run = try findRun(id)
        let runId: String = run["id"]
        let hosts = try sql.rows("SELECT host FROM run_hosts WHERE run_id = ? ORDER BY started_at, host", [runId.databaseValue]).map { $0["host"] as String }
        return ScanRunOutline(runId: runId, kind: try run.decode(RunKind.self, forColumn: "kind"), startedAt: run["started_at"],
                              finishedAt: run["finished_at"], hosts: hosts)
    }

    /// Hosts `names` of run `runId` as the run recorded them, with their findings and unfixed CVEs, in
    /// the order of `names` (a host the run did not record is left out). Each query reads only these
    /// hosts' rows: a run of 10,000 hosts read whole held every finding's row, 0.5–1 GB.
    public func runHosts(of runId: String, named names: [String]) throws -> [HostScan] {
        guard !names.isEmpty else { return [] }
        // Rows are grouped by host here, so only the order within a host is asked for. Ordered by host
        // too, SQLite read each host's intervals in package order (`finding_intervals_by_package`): every
        // interval the host ever had, eight times slower on a year's history than those that reach the run.
        let among = "run_id = ? AND host IN (\(databaseQuestionMarks(count: names.count)))"
        let arguments = [runId.databaseValue] + names.map(\.databaseValue)
        var cves: [FindingKey: [CVEReference]] = [:]
        try sql.each("SELECT * FROM finding_cves WHERE \(among) ORDER BY package, architecture, cve", arguments) { row in
            cves[FindingKey(host: row["host"], package: row["package"], architecture: row["architecture"]), default: []]
                .append(HistoryStore.cveReference(row))
        }
        var findings: [String: [PendingUpdate]] = [:]
        try sql.each("SELECT * FROM findings WHERE \(among) ORDER BY package, architecture", arguments) { row in
            let key = FindingKey(host: row["host"], package: row["package"], architecture: row["architecture"])
            findings[row["host"], default: []].append(PendingUpdate(
                name: row["package"], installedVersion: row["installed_version"], availableVersion: row["available_version"],
                source: row["source"], security: row["security"], architecture: HistoryStore.architecture(row["architecture"]), severity: row["severity"],
                advisories: (row["advisories"] as String).split(separator: "\n").map(String.init), cves: cves[key] ?? []))
        }
        var unfixed: [String: [UnfixedCVE]] = [:]
        try sql.each("SELECT * FROM unfixed_cves WHERE \(among) ORDER BY cve, source_package", arguments) { row in
            unfixed[row["host"], default: []].append(HistoryStore.unfixedCVE(row))
        }
        var byName: [String: HostScan] = [:]
        try sql.each("SELECT * FROM run_hosts WHERE \(among)", arguments) { row in
            let name: String = row["host"]
            var os: OSInfo?
            if let family: String = row["os_family"] {
                os = OSInfo(family: OSFamily(rawValue: family) ?? .unknown, id: row["os_id"] ?? "", name: row["os_name"] ?? "",
                            version: row["os_version"] ?? "", codename: row["os_codename"], kernel: row["kernel"], architecture: row["architecture"])
            }
            let packages: String? = row["reboot_packages"]
            byName[name] = HostScan(
                name: name, address: row["address"], port: row["port"],
                status: HostStatus(rawValue: row["status"]) ?? .error, error: row["error"], os: os,
                rebootRequired: row["reboot_required"], rebootPackages: packages.map { $0.split(separator: "\n").map(String.init) } ?? [],
                installedCount: row["installed_count"], updates: findings[name] ?? [],
                startedAt: row["started_at"], finishedAt: row["finished_at"])
                .with(unfixedCVEs: unfixed[name] ?? [])
        }
        return names.compactMap { byName[$0] }
    }

    /// A deploy run's recorded hosts and how it was started, for `--resume` and `history show`.
    public func deployRun(id: String) throws -> ResumableRun {
        let found = try findRun(id)
        let runId: String = found["id"]
        guard let run = try one("SELECT * FROM runs WHERE id = ?", [runId.databaseValue]) else { throw PatchError.runNotFound(id) }
        let kind = try run.decode(RunKind.self, forColumn: "kind")
        guard kind.isDeployment else {
            throw PatchError.store(path: sql.source, message: "run \(runId) is a \(kind.rawValue) run, not a deployment")
        }
        let hosts = try sql.rows("""
            SELECT d.document FROM deploy_hosts d JOIN run_hosts h ON h.run_id = d.run_id AND h.host = d.host
            WHERE d.run_id = ? ORDER BY h.started_at, d.host
            """, [runId.databaseValue]).map { row in
            try StoreCodec.decode(DeployHostRecord.self, from: row["document"] as String)
        }
        return ResumableRun(runId: runId, state: try run.decode(RunState.self, forColumn: "state"), policy: run["policy"], inventory: run["inventory"],
                            hostPattern: run["host_pattern"], options: run["options"],
                            doneHosts: Set(hosts.filter { !$0.status.isLeftForResume }.map(\.name)), hosts: hosts)
    }

    /// A recorded deployment or plan, as `deploy --output json` printed it.
    public func deployRunReport(id: String) throws -> DeployRunRecord {
        let recorded = try deployRun(id: id)
        let row = try one("SELECT started_at, finished_at, policy, report FROM runs WHERE id = ?", [recorded.runId.databaseValue])
        let decoded = try (row?["report"] as String?).map { try HistoryStore.deployReport($0, runId: recorded.runId, location: sql.source) }
        var run = DeployRunRecord(runId: recorded.runId, policy: row?["policy"] ?? "", outcome: decoded?.outcome ?? .interrupted,
                                  dryRun: decoded?.dryRun ?? false, startedAt: row?["started_at"] ?? Date(), finishedAt: row?["finished_at"],
                                  rings: decoded?.rings ?? [], notes: decoded?.notes ?? [], hosts: recorded.hosts)
        // The request the run was started with (and `--resume` repeats) holds its reason.
        run.reason = recorded.options.flatMap { try? StoreCodec.decode(DeployJob.Request.self, from: $0) }?.reason
        return run
    }

    /// A recorded discover run, as it was printed (`history show`).
    public func discoveryRun(id: String) throws -> DiscoveryRun {
        let run = try findRun(id)
        let runId: String = run["id"]
        let sweep = (run["options"] as String?).flatMap { try? StoreCodec.decode(DiscoverySweep.self, from: $0) }
        let changes = (try one("SELECT report FROM runs WHERE id = ?", [runId.databaseValue])?["report"] as String?)
            .flatMap { try? StoreCodec.decode(DiscoveryChanges.self, from: $0) }
        let hosts = try sql.rows("SELECT document FROM discovered_hosts WHERE run_id = ?", [runId.databaseValue])
            .map { try StoreCodec.decode(DiscoveredHost.self, from: $0["document"] as String) }
            .sorted { DiscoveryRunner.addressOrder($0.address, $1.address) }
        let targets = sweep.flatMap { try? DiscoveryTargets.parse($0.targets, allowWidePublic: true, fileReader: { _ in nil }) }
        return DiscoveryRun(runId: runId, startedAt: run["started_at"], finishedAt: run["finished_at"] ?? run["started_at"],
                            targets: sweep?.targets ?? [], ports: sweep?.ports ?? [], addressesSwept: targets?.count ?? 0,
                            hosts: hosts, changes: changes)
    }

    /// Most recent first.
    public func events(limit: Int = 50, host: String? = nil, policy: String? = nil) throws -> [EventRecord] {
        var conditions: [String] = []
        var arguments: [DatabaseValue] = []
        if let host { conditions.append("host = ?"); arguments.append(host.databaseValue) }
        if let policy { conditions.append("policy = ?"); arguments.append(policy.databaseValue) }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try sql.rows("SELECT * FROM events \(filter) ORDER BY at DESC, id DESC LIMIT ?", arguments + [limit.databaseValue])
            .map { try EventRecord(row: $0) }
    }
}

extension HistoryStore {
    /// This history's view for reading runs (inside one read transaction).
    public func withView<T>(_ body: (HistoryView) throws -> T) throws -> T {
        try reading { try body(HistoryView($0)) }
    }
}
