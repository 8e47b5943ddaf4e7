import Foundation
import GRDB

extension HistoryStore {
    /// Whether any run recorded this host.
    public func hasHost(_ name: String) throws -> Bool {
        try reading { db in try db.rows("SELECT EXISTS (SELECT 1 FROM run_hosts WHERE host = ?) AS found", arguments: [name]).first?["found"] ?? false }
    }

    /// Every host name history has (for "did you mean").
    public func hostNames() throws -> [String] {
        try reading { db in try db.rows("SELECT DISTINCT host FROM run_hosts ORDER BY host", []).map { $0["host"] as String } }
    }

    /// Whether a scan ever found `package` pending (at `version`, when given), or a deployment
    /// planned or awaited it: what `approve` may decide on.
    public func hasPackage(_ package: String, version: String?) throws -> Bool {
        try reading { db in
            let arguments: [DatabaseValue] = [package.databaseValue] + (version.map { [$0.databaseValue] } ?? [])
            for (table, column) in [("approvals", "version"), ("deploy_packages", "target_version"), ("finding_intervals", "available_version")] {
                let found: Bool = try db.rows("""
                    SELECT EXISTS (SELECT 1 FROM \(table) WHERE package = ?\(version == nil ? "" : " AND \(column) = ?")) AS found
                    """, arguments).first?["found"] ?? false
                if found { return true }
            }
            return false
        }
    }

    /// Every package name scans found pending, and the versions of `package` (newest seen first).
    public func packageNames() throws -> [String] {
        try reading { db in try db.rows("SELECT DISTINCT package FROM finding_intervals ORDER BY package", []).map { $0["package"] as String } }
    }

    public func availableVersions(of package: String) throws -> [String] {
        try reading { db in
            try db.rows("""
                SELECT available_version FROM finding_intervals WHERE package = ? GROUP BY available_version ORDER BY MAX(last_seq) DESC LIMIT 10
                """, arguments: [package]).map { $0["available_version"] as String }
        }
    }
}
