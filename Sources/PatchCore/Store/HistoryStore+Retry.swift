import GRDB

extension HistoryStore {
    /// The run `--retry-failed` retries and its failed hosts. `run` is an id or unique prefix, nil
    /// for the latest run of `kind` (for deploy: of `policy`, when given). An unknown run, a run of
    /// another kind and an empty history are errors; a run without failures is not (no hosts).
    public func failedRun(retrying kind: RetryKind, run: String?, policy: String? = nil) throws -> FailedRun {
        try read { db in
            let id: String
            let runKind: RunKind
            if let run {
                let found = try Self.findRun(db, run, path: path)
                id = found["id"]
                runKind = try found.decode(RunKind.self, forColumn: "kind")
                guard kind.acceptedRunKinds.contains(runKind) else {
                    throw PatchError.retry(message: "run \(id) is of kind \(runKind.rawValue); \(kind.rawValue) --retry-failed retries \(kind.acceptedRunKinds.map(\.rawValue).joined(separator: " or ")) runs")
                }
            } else {
                var sql = "SELECT id, kind FROM runs WHERE kind = ?"
                var arguments: StatementArguments = [kind.defaultRunKind]
                if let policy {
                    sql += " AND policy = ?"
                    arguments += [policy]
                }
                guard let latest = try Row.fetchOne(db, sql: sql + " ORDER BY started_at DESC, id DESC LIMIT 1", arguments: arguments) else {
                    throw PatchError.retry(message: "history has no \(kind.defaultRunKind.rawValue) run\(policy.map { " of policy \($0)" } ?? "") to retry")
                }
                id = latest["id"]
                runKind = try latest.decode(RunKind.self, forColumn: "kind")
            }
            let hosts = try String.fetchAll(db, sql: """
                SELECT host FROM run_hosts WHERE run_id = ? AND status IN (\(HostStatus.failureSQLList)) ORDER BY started_at, host
                """, arguments: [id])
            return FailedRun(runId: id, kind: runKind, hosts: hosts)
        }
    }
}
