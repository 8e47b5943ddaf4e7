import Foundation
import GRDB

/// The local history: every run, every host's outcome and every finding, so later commands can
/// answer "first seen", "new since last scan" and compliance age from facts, not memory.
/// SQLite in WAL mode, created 0600, schema made by named migrations.
public final class HistoryStore: Sendable {
    public let path: String
    let pool: DatabasePool

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let files = FileManager.default
        do {
            if !files.fileExists(atPath: folder) {
                try files.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            // Created before SQLite opens it, so it never exists with looser permissions.
            if !files.fileExists(atPath: path) {
                guard files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw PatchError.store(path: path, message: "cannot create file")
                }
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            for sidecar in [path + "-wal", path + "-shm"] where files.fileExists(atPath: sidecar) {
                try? files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: sidecar)
            }
            try Self.migrator.migrate(pool)
        } catch let error as PatchError {
            throw error
        } catch {
            throw PatchError.store(path: path, message: String(describing: error))
        }
    }

    /// Default location: `$XDG_STATE_HOME/patchctl/patchctl.db`, else `~/.local/state/patchctl/patchctl.db`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let explicit = environment["PATCHCTL_DB"], !explicit.isEmpty { return explicit }
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        return state + "/patchctl/patchctl.db"
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs, run hosts and findings") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    kind TEXT NOT NULL,
                    started_at DATETIME NOT NULL,
                    finished_at DATETIME,
                    -- running until finished; a run left running was interrupted
                    state TEXT NOT NULL DEFAULT 'running',
                    inventory TEXT,
                    host_pattern TEXT,
                    options TEXT,
                    patchctl_version TEXT
                );
                CREATE TABLE run_hosts (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    host TEXT NOT NULL,
                    address TEXT NOT NULL,
                    port INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    error TEXT,
                    os_family TEXT,
                    os_id TEXT,
                    os_name TEXT,
                    os_version TEXT,
                    os_codename TEXT,
                    kernel TEXT,
                    architecture TEXT,
                    reboot_required BOOLEAN,
                    reboot_packages TEXT,
                    installed_count INTEGER,
                    started_at DATETIME NOT NULL,
                    finished_at DATETIME NOT NULL,
                    PRIMARY KEY (run_id, host)
                );
                CREATE INDEX run_hosts_by_host ON run_hosts(host, run_id);
                CREATE TABLE findings (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    package TEXT NOT NULL,
                    installed_version TEXT NOT NULL,
                    available_version TEXT NOT NULL,
                    source TEXT NOT NULL,
                    security BOOLEAN NOT NULL,
                    architecture TEXT,
                    PRIMARY KEY (run_id, host, package),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                -- "first seen" and "new since last scan" look findings up by host and package version
                CREATE INDEX findings_by_package ON findings(host, package, available_version);
                """)
        }
        migrator.registerMigration("v2: command results") { db in
            try db.execute(sql: """
                CREATE TABLE command_results (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    exit_code INTEGER,
                    stdout TEXT NOT NULL,
                    stderr TEXT NOT NULL,
                    duration_ms INTEGER NOT NULL,
                    PRIMARY KEY (run_id, host),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                """)
        }
        migrator.registerMigration("v3: deployments, approvals, deferrals and events") { db in
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN policy TEXT;
                -- who started the run (the local user)
                ALTER TABLE runs ADD COLUMN user TEXT;
                -- deploy: outcome, rings and notes as JSON
                ALTER TABLE runs ADD COLUMN report TEXT;
                CREATE INDEX runs_by_policy ON runs(policy, started_at);
                CREATE TABLE deploy_hosts (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    ring TEXT NOT NULL,
                    batch INTEGER NOT NULL,
                    -- the whole DeployHost as JSON, so history reprints exactly what the run printed
                    document TEXT NOT NULL,
                    PRIMARY KEY (run_id, host),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                -- one row per package touched or left alone: after_test promotion, mean time to patch
                CREATE TABLE deploy_packages (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    ring TEXT NOT NULL,
                    package TEXT NOT NULL,
                    from_version TEXT NOT NULL,
                    target_version TEXT NOT NULL,
                    to_version TEXT,
                    -- installed | failed | skipped | awaiting_approval
                    outcome TEXT NOT NULL,
                    reason TEXT,
                    at DATETIME NOT NULL,
                    PRIMARY KEY (run_id, host, package),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                CREATE INDEX deploy_packages_by_package ON deploy_packages(package, target_version, ring);
                CREATE TABLE approvals (
                    policy TEXT NOT NULL,
                    package TEXT NOT NULL,
                    version TEXT NOT NULL,
                    -- pending | approved | rejected
                    state TEXT NOT NULL,
                    ring TEXT,
                    requested_at DATETIME,
                    requested_run TEXT,
                    decided_at DATETIME,
                    decided_by TEXT,
                    note TEXT,
                    PRIMARY KEY (policy, package, version)
                );
                CREATE TABLE deferrals (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    host TEXT NOT NULL,
                    -- NULL: every policy
                    policy TEXT,
                    until DATETIME NOT NULL,
                    reason TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    cancelled_at DATETIME,
                    cancelled_by TEXT
                );
                CREATE INDEX deferrals_by_host ON deferrals(host, until);
                -- the audit trail: approvals, rejections, deferrals (manual and automatic), deploy runs
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at DATETIME NOT NULL,
                    user TEXT NOT NULL,
                    action TEXT NOT NULL,
                    policy TEXT,
                    host TEXT,
                    package TEXT,
                    version TEXT,
                    run_id TEXT,
                    detail TEXT
                );
                CREATE INDEX events_by_host ON events(host, policy, action, at);
                """)
        }
        migrator.registerMigration("v4: compliance exceptions") { db in
            try db.execute(sql: """
                -- an accepted risk: this host (a name or glob) may miss this CVE or package (NAME or NAME@VERSION) until a date
                CREATE TABLE compliance_exceptions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    host TEXT NOT NULL,
                    target TEXT NOT NULL,
                    until DATETIME NOT NULL,
                    reason TEXT NOT NULL,
                    owner TEXT NOT NULL,
                    created_by TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    -- removed exceptions stay, so a report as of an earlier date still sees them
                    removed_at DATETIME,
                    removed_by TEXT
                );
                CREATE INDEX compliance_exceptions_by_host ON compliance_exceptions(host, until);
                """)
        }
        registerRepositoryMigration(&migrator)
        migrator.registerMigration("v6: first-seen index for compliance reports") { db in
            // "First seen" of every pending version at once: MIN(run_id) per host, package and version from the index alone.
            // IF NOT EXISTS: for a few hours v4 created it.
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS findings_first_seen ON findings(host, package, available_version, run_id)")
        }
        migrator.registerMigration("v7: finding severity") { db in
            // RHEL, SUSE and Windows scans report a vendor severity; compliance rules key on it.
            try db.execute(sql: "ALTER TABLE findings ADD COLUMN severity TEXT")
        }
        return migrator
    }
}
