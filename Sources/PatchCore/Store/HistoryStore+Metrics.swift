import Foundation
import GRDB

extension HistoryStore {
    /// The latest finished run of each kind that records hosts (ping records nothing), with its
    /// hosts counted by status: what `patchctl metrics` reports as each kind's last run.
    public func latestRuns() throws -> [RunKind: MetricsReport.Run] {
        try reading { db in
            var runs: [RunKind: MetricsReport.Run] = [:]
            for kind in RunKind.allCases where kind != .ping {
                // runs_by_start, walked from the newest: the latest of a kind is found without a scan of all runs.
                guard let row = try db.rows("""
                    SELECT id, started_at, finished_at FROM runs WHERE kind = ? AND finished_at IS NOT NULL
                    ORDER BY started_at DESC, id DESC LIMIT 1
                    """, arguments: [kind]).first else { continue }
                let id: String = row["id"]
                var hosts: [HostStatus: Int] = [:]
                for count in try db.rows("SELECT status, COUNT(*) AS n FROM run_hosts WHERE run_id = ? GROUP BY status", arguments: [id]) {
                    // A status this version does not know (a newer writer's) is an error, as reports read it.
                    hosts[HostStatus(rawValue: count["status"]) ?? .error, default: 0] += count["n"] as Int
                }
                runs[kind] = MetricsReport.Run(kind: kind, runId: id, startedAt: row["started_at"], finishedAt: row["finished_at"], hosts: hosts)
            }
            return runs
        }
    }
}
