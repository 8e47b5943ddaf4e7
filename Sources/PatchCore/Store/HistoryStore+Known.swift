import Foundation
import GRDB

extension HistoryStore {
    /// Whether any run recorded this host.
    public func hasHost(_ name: String) throws -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM run_hosts WHERE host = ?)", arguments: [name]) ?? false }
    }

    /// Every host name history has (for "did you mean").
    public func hostNames() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT host FROM run_hosts ORDER BY host") }
    }

    /// Whether a scan ever found `package` pending (at `version`, when given), or a deployment
    /// planned or awaited it: what `approve` may decide on.
    public func hasPackage(_ package: String, version: String?) throws -> Bool {
        try read { db in
            let decided = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM approvals WHERE package = ? AND (? IS NULL OR version = ?))
                """, arguments: [package, version, version]) ?? false
            if decided { return true }
            let planned = try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM deploy_packages WHERE package = ? AND (? IS NULL OR target_version = ?))
                """, arguments: [package, version, version]) ?? false
            if planned { return true }
            return try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM finding_intervals WHERE package = ? AND (? IS NULL OR available_version = ?))
                """, arguments: [package, version, version]) ?? false
        }
    }

    /// Every package name scans found pending, and the versions of `package` (newest seen first).
    public func packageNames() throws -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT package FROM finding_intervals ORDER BY package") }
    }

    public func availableVersions(of package: String) throws -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT available_version FROM finding_intervals WHERE package = ? GROUP BY available_version ORDER BY MAX(last_seq) DESC LIMIT 10
                """, arguments: [package])
        }
    }
}
