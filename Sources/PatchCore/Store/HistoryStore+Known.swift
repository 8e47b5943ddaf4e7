import Foundation
import GRDB

extension HistoryStore {
    /// Whether any run recorded this host.
    public func hasHost(_ name: String) throws -> Bool {
        try reading { db in try db.rows("SELECT EXISTS (SELECT 1 FROM run_hosts WHERE host = ?) AS found", arguments: [name]).first?["found"] ?? false }
    }

    /// Every host name history has (for "did you mean"), in order: one search of `run_hosts_by_host`
    /// per host, each for the next name after the last (DISTINCT read every contact of a year of
    /// 10,000 hosts, 3.65 million index entries: 14 s from a cold cache, 0.03 s this way).
    public func hostNames() throws -> [String] {
        try reading { db in
            try db.rows("""
                WITH RECURSIVE names(host) AS (
                    SELECT MIN(host) FROM run_hosts
                    UNION ALL SELECT (SELECT MIN(host) FROM run_hosts WHERE host > names.host) FROM names WHERE names.host IS NOT NULL
                )
                SELECT host FROM names WHERE host IS NOT NULL
                """, []).map { $0["host"] as String }
        }
    }

    /// Whether a scan ever found `package` pending (at `version`, when given), or a deployment
    /// planned or awaited it: what `approve` may decide on. Scans' versions are read from
    /// `finding_versions` (v23), which keeps every version any interval held, pruned or not: the
    /// intervals have no index that starts with the package, and a year of them is gigabytes.
    public func hasPackage(_ package: String, version: String?) throws -> Bool {
        try reading { db in
            let arguments: [DatabaseValue] = [package.databaseValue] + (version.map { [$0.databaseValue] } ?? [])
            for (table, column) in [("approvals", "version"), ("deploy_packages", "target_version"), ("finding_versions", "available_version")] {
                let found: Bool = try db.rows("""
                    SELECT EXISTS (SELECT 1 FROM \(table) WHERE package = ?\(version == nil ? "" : " AND \(column) = ?")) AS found
                    """, arguments).first?["found"] ?? false
                if found { return true }
            }
            return false
        }
    }

    /// Every package name scans found pending, and ten versions of `package`: those the fleet saw
    /// first most recently first (versions seen before v23 last, by their text, newest-looking first).
    public func packageNames() throws -> [String] {
        try reading { db in try db.rows("SELECT DISTINCT package FROM finding_versions ORDER BY package", []).map { $0["package"] as String } }
    }

    public func availableVersions(of package: String) throws -> [String] {
        try reading { db in
            try db.rows("""
                SELECT available_version FROM finding_versions WHERE package = ? ORDER BY first_run DESC, available_version DESC LIMIT 10
                """, arguments: [package]).map { $0["available_version"] as String }
        }
    }
}
