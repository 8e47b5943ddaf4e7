import GRDB

extension HistoryStore {
    /// The run `--retry-failed` retries and its failed hosts. `run` is an id or unique prefix, nil
    /// for the latest run of `kind` (for deploy: of `policy`, when given). An unknown run, a run of
    /// another kind and an empty history are errors; a run without failures is not (no hosts).
    public func failedRun(retrying kind: RetryKind, run: String?, policy: String? = nil) throws -> FailedRun {
        try reading { db in
            let id: String
            let runKind: RunKind
            if let run {
                let found = try HistoryView(db).findRun(run)
                id = found["id"]
                runKind = try found.decode(RunKind.self, forColumn: "kind")
                guard kind.acceptedRunKinds.contains(runKind) else {
                    throw PatchError.retry(message: "run \(id) is of kind \(runKind.rawValue); \(kind.rawValue) --retry-failed retries \(kind.acceptedRunKinds.map(\.rawValue).joined(separator: " or ")) runs")
                }
            } else {
                var sql = "SELECT id, kind FROM runs WHERE kind = ?"
                var arguments: [DatabaseValue] = [kind.defaultRunKind.databaseValue]
                if let policy {
                    sql += " AND policy = ?"
                    arguments.append(policy.databaseValue)
                }
                guard let latest = try db.rows(sql + " ORDER BY started_at DESC, id DESC LIMIT 1", arguments).first else {
                    throw PatchError.retry(message: "history has no \(kind.defaultRunKind.rawValue) run\(policy.map { " of policy \($0)" } ?? "") to retry")
                }
                id = latest["id"]
                runKind = try latest.decode(RunKind.self, forColumn: "kind")
            }
            let hosts = try db.rows("""
                SELECT host FROM run_hosts WHERE run_id = ? AND status IN (\(HostStatus.failureSQLList)) ORDER BY started_at, host
                """, arguments: [id]).map { $0["host"] as String }
            return FailedRun(runId: id, kind: runKind, hosts: hosts)
        }
    }
}
