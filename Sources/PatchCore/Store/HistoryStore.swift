import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// The local history: every run, every host's outcome and every finding, so later commands can
/// answer "first seen", "new since last scan" and compliance age from facts, not memory.
/// SQLite in WAL mode, created 0600, schema made by named migrations.
///
/// Two ways in: `init(path:)` for commands that record (creates the file, migrates under a lock
/// beside the database, imports the fallback journal) and `init(readOnly:)` for commands that only
/// read (never creates, migrates or writes a byte, and refuses files that are not patchctl's).
public final class HistoryStore: Sendable {
    /// The database file, or a PostgreSQL history's location (never with a password).
    public let path: String
    /// Where the history lives: an SQLite file, or a PostgreSQL database shared by controllers.
    enum Backend: Sendable {
        /// A DatabasePool (WAL) when writable; a read-only DatabaseQueue otherwise.
        case sqlite(any DatabaseWriter)
        case postgres(PostgresHistory)
    }
    let backend: Backend
    /// A writable SQLite history's checkpoints, off the writer (nil for a reader and for PostgreSQL).
    let checkpointer: WALCheckpointer?
    /// The fallback journal of records the database would not take.
    public let journalPath: String
    public let isReadOnly: Bool
    /// Recorded with every run this store begins (`runs.controller_host`, `runs.controller`).
    public let controller: RunController
    /// The first write that failed, for callers that must stop starting work (deploy).
    let writeFailures = WriteFailureLatch()
    /// Runs whose records this open imported from the fallback journal (now state `incomplete`).
    public let recoveredRuns: [String]
    /// Read-only opens: this history's fallback journal (beside the file, or this controller's for a PostgreSQL history) when it holds records not yet imported.
    public let pendingJournal: String?

    /// Opens (creating it if needed) for recording. Migrations and the journal import run under an
    /// exclusive lock on `<path>.lock`, so concurrent first opens never race on the schema.
    public convenience init(path: String, controller: RunController = .thisMachine) throws {
        try self.init(writablePath: path, importJournal: true, controller: controller)
    }

    init(writablePath path: String, importJournal: Bool, controller: RunController = .thisMachine) throws {
        self.path = path
        isReadOnly = false
        self.controller = controller
        try Self.refuseURL(path)
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let files = FileManager.default
        do {
            if !files.fileExists(atPath: folder) {
                try files.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            let lock = try FileLock(path: path + ".lock", timeout: 60, what: "history database")
            defer { lock.unlock() }
            // Created before SQLite opens it, so it never exists with looser permissions. An existing
            // empty file is a database being created (or never written): it gets the schema.
            if !files.fileExists(atPath: path) {
                guard files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw PatchError.store(path: path, message: "cannot create file")
                }
            } else if try Self.fileSize(path) > 0 {
                try Self.requireSQLiteHeader(path)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            configuration.prepareDatabase { db in
                // The writer's page cache holds a batch's dirty pages (SQLite's default, 2 MB, spills them
                // to the WAL mid-transaction, again and again on a multi-GB history) and the index pages a
                // night's hosts descend through. Readers keep the default: reports bound their own memory.
                if !db.configuration.readonly { try db.execute(sql: "PRAGMA cache_size = -\(Self.writerCacheKiB)") }
            }
            let pool = try DatabasePool(path: path, configuration: configuration)
            backend = .sqlite(pool)
            checkpointer = WALCheckpointer(for: pool, path: path)
            journalPath = HistoryJournal.path(forDatabase: path)
            for sidecar in [path + "-wal", path + "-shm"] where files.fileExists(atPath: sidecar) {
                try? files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: sidecar)
            }
            try pool.read { db in
                try Self.requirePatchctlSchema(db, path: path, allowEmpty: true)
                // Migrations this version does not know: its writes could break the newer schema.
                if try Self.migrator.hasBeenSuperseded(db) {
                    throw PatchError.store(path: path, message: "written by a newer patchctl (unknown migrations): upgrade patchctl to use it")
                }
            }
            // Set before the first table exists, so pruning can give pages back (IntervalConversion sets it on older files).
            // Opening the pool in WAL mode has already written the file's header: only a VACUUM (of nothing yet) applies it.
            if try pool.read({ try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM sqlite_master") ?? 0 }) == 0 {
                try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL; VACUUM") }
            }
            let upgrading = try pool.read { try !Self.migrator.hasCompletedMigrations($0) }
            try Self.migrator.migrate(pool)
            // A migration that rebuilt a table (v19) leaves its old pages free: the file gives them back.
            if upgrading { try Self.givePagesBack(pool) }
            try IntervalConversion.run(pool)
            recoveredRuns = importJournal ? try HistoryJournal.importPending(journalPath, source: path) { body in
                try pool.write { db in try body(SQLiteConnection(db: db, source: path)) }
            } : []
            pendingJournal = nil
        } catch let error as PatchError {
            throw error
        } catch {
            throw PatchError.store(path: path, message: String(describing: error))
        }
    }

    init(postgres: PostgresHistory, controller: RunController, journal: String, recovered: [String], readOnly: Bool = false,
         pendingJournal: String? = nil) {
        path = postgres.location.description
        backend = .postgres(postgres)
        checkpointer = nil
        isReadOnly = readOnly
        self.controller = controller
        journalPath = journal
        recoveredRuns = recovered
        self.pendingJournal = pendingJournal
    }

    deinit {
        // A PostgreSQL connection is closed with its store (a process's last store closes at exit anyway).
        if case let .postgres(postgres) = backend { postgres.closeNow() }
        // A queued checkpoint holds its connection open: drained, that one closes first, and the pool's, the last
        // to close, checkpoints what is left and removes the WAL.
        checkpointer?.drain()
    }

    /// Opens an existing history for reading only: nothing is created, migrated or written (no
    /// `-wal`/`-shm` files either when none exist). A missing, empty or foreign file is refused.
    /// A history written by an older patchctl is upgraded first when the file is writable (the
    /// only write a reading command makes); otherwise the error says how to upgrade it.
    public init(readOnly path: String) throws {
        self.path = path
        isReadOnly = true
        controller = .thisMachine
        try Self.refuseURL(path)
        recoveredRuns = []
        checkpointer = nil
        let journal = HistoryJournal.path(forDatabase: path)
        journalPath = journal
        pendingJournal = ((try? Self.fileSize(journal)) ?? 0) > 0 ? journal : nil
        do {
            backend = .sqlite(try Self.openReader(path))
        } catch PatchError.store(_, Self.olderSchemaMarker) {
            guard access(path, W_OK) == 0, access(URL(fileURLWithPath: path).deletingLastPathComponent().path, W_OK) == 0 else {
                let applied = (try? Self.lastAppliedMigration(path)) ?? nil
                throw PatchError.store(path: path, message: "written by an older patchctl (schema up to '\(applied ?? "?")'; this version needs "
                                       + "'\(Self.migrator.migrations.last ?? "")') and not writable here: run a recording command "
                                       + "(scan, exec, deploy) with write access once to upgrade it")
            }
            _ = try HistoryStore(writablePath: path, importJournal: false)
            backend = .sqlite(try Self.openReader(path))
        }
    }

    /// A postgres:// URL where a file is expected: said plainly, instead of creating a folder named "postgres:".
    public static func refuseURL(_ path: String) throws {
        guard PostgresLocation.isURL(path) else { return }
        throw PatchError.store(path: PostgresLocation.redacted(path), message: postgresScope)
    }

    private static let olderSchemaMarker = "\u{0}older schema"

    private static func openReader(_ path: String) throws -> DatabaseQueue {
        let files = FileManager.default
        guard files.fileExists(atPath: path) else {
            throw PatchError.store(path: path, message: "no history database here: nothing has been recorded yet (run `patchctl scan` first, or pass --db)")
        }
        do {
            guard try fileSize(path) > 0 else {
                throw PatchError.store(path: path, message: "the file is empty (0 bytes), not a patchctl history database; "
                                       + "the first scan, exec or deploy creates one")
            }
            try requireSQLiteHeader(path)
            var configuration = Configuration()
            configuration.readonly = true
            configuration.busyMode = .timeout(10)
            // Without a `-wal` file no writer is active and every commit is in the main file: open it
            // immutable, so SQLite creates no `-wal`/`-shm` (it would, even read-only, and could not on a
            // read-only file system). With one, read through it like any reader.
            let location = files.fileExists(atPath: path + "-wal") ? path : immutableURI(path)
            let queue = try DatabaseQueue(path: location, configuration: configuration)
            try queue.read { db in
                try requirePatchctlSchema(db, path: path, allowEmpty: false)
                if try migrator.hasBeenSuperseded(db) {
                    throw PatchError.store(path: path, message: "written by a newer patchctl (unknown migrations): upgrade patchctl to read it")
                }
                if try !migrator.hasCompletedMigrations(db) || intervalConversionPending(db) {
                    throw PatchError.store(path: path, message: olderSchemaMarker)
                }
            }
            return queue
        } catch let error as PatchError {
            throw error
        } catch {
            throw PatchError.store(path: path, message: String(describing: error))
        }
    }

    static func immutableURI(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        return "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?mode=ro&immutable=1"
    }

    static func fileSize(_ path: String) throws -> Int {
        ((try FileManager.default.attributesOfItem(atPath: path))[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Every SQLite database starts with these 16 bytes.
    static func requireSQLiteHeader(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PatchError.store(path: path, message: "cannot read the file")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard header == Data("SQLite format 3\u{0}".utf8) else {
            throw PatchError.store(path: path, message: "not an SQLite database, so not a patchctl history database (refusing to touch it)")
        }
    }

    /// A patchctl history has GRDB's migration table with our first migration. An SQLite file with
    /// other tables is someone else's: never add our schema to it.
    static func requirePatchctlSchema(_ db: Database, path: String, allowEmpty: Bool) throws {
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if tables.isEmpty && allowEmpty { return }
        let ours = try tables.contains("grdb_migrations") && migrator.appliedIdentifiers(db).contains(migrator.migrations.first ?? "")
        guard ours else {
            let shown = tables.prefix(5).joined(separator: ", ") + (tables.count > 5 ? ", …" : "")
            throw PatchError.store(path: path, message: "an SQLite database but not a patchctl history database (tables: \(tables.isEmpty ? "none" : shown))")
        }
    }

    /// The last migration applied to this history.
    public func schemaVersion() throws -> String? {
        if isPostgres {
            let applied = Set(try rows("SELECT identifier FROM patchctl_migrations").map { $0["identifier"] as String })
            return Self.migrator.migrations.last { applied.contains($0) }
        }
        return try read { try Self.migrator.appliedMigrations($0).last }
    }

    /// Returns the file's free pages to the file system, where the file vacuums incrementally (every
    /// history since v10's conversion), and empties the WAL a large write left behind.
    static func givePagesBack(_ pool: any DatabaseWriter) throws {
        try pool.writeWithoutTransaction { db in
            guard try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") == 2, try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0 > 0 else { return }
            try db.execute(sql: "PRAGMA incremental_vacuum")
            _ = try? db.checkpoint(.truncate)
        }
    }

    /// The writer connection's page cache (KiB).
    static let writerCacheKiB = 64 * 1024

    static func lastAppliedMigration(_ path: String) throws -> String? {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: FileManager.default.fileExists(atPath: path + "-wal") ? path : immutableURI(path), configuration: configuration)
        return try queue.read { try migrator.appliedMigrations($0).last }
    }

    /// Creates a new history database (0600, WAL) with the migrations up to and including `migration`
    /// only: the schema an older patchctl left, for the history generator (bench/HistoryGen) and
    /// migration tests to fill as that version did. Refuses an existing file and an unknown migration.
    public static func createDatabase(atPath path: String, upTo migration: String) throws {
        guard migrator.migrations.contains(migration) else {
            throw PatchError.store(path: path, message: "no migration named '\(migration)'")
        }
        let files = FileManager.default
        guard !files.fileExists(atPath: path) else { throw PatchError.store(path: path, message: "already exists") }
        guard files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw PatchError.store(path: path, message: "cannot create file")
        }
        do {
            let pool = try DatabasePool(path: path)
            try migrator.migrate(pool, upTo: migration)
        } catch {
            throw PatchError.store(path: path, message: String(describing: error))
        }
    }

    /// Default location (docs/configuration.md): `PATCHCTL_DB`; as root, one history for the
    /// machine, `$STATE_DIRECTORY/patchctl.db` under a systemd unit with `StateDirectory=`, else
    /// `/var/lib/patchctl/patchctl.db`; as anyone else, `$XDG_STATE_HOME/patchctl/patchctl.db`,
    /// else `~/.local/state/patchctl/patchctl.db`.
    public static func defaultPath(environment: [String: String], isRoot: Bool = geteuid() == 0) -> String {
        defaultLocation(environment: environment, isRoot: isRoot).path
    }

    /// The folder patchctl keeps its state in when PATCHCTL_DB does not say: the default history's folder.
    static func stateFolder(environment: [String: String], isRoot: Bool = geteuid() == 0) -> String {
        var environment = environment
        environment["PATCHCTL_DB"] = nil
        return URL(fileURLWithPath: defaultPath(environment: environment, isRoot: isRoot)).deletingLastPathComponent().path
    }

    /// The default and which rule chose it, for `patchctl config show`.
    public static func defaultLocation(environment: [String: String], isRoot: Bool = geteuid() == 0) -> (path: String, rule: String) {
        if let explicit = environment["PATCHCTL_DB"], !explicit.isEmpty { return (explicit, "$PATCHCTL_DB") }
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.local/state"
        let personal = state + "/patchctl/patchctl.db"
        guard isRoot else { return (personal, "the user's state folder") }
        // systemd's StateDirectory= may list several folders, separated by ':'.
        if let folder = environment["STATE_DIRECTORY"]?.split(separator: ":").first, !folder.isEmpty {
            return (folder + "/patchctl.db", "root under systemd: $STATE_DIRECTORY")
        }
        // Root's history from before the machine-wide default stays in use until it is moved.
        if !FileManager.default.fileExists(atPath: systemPath), FileManager.default.fileExists(atPath: personal) {
            return (personal, "root's history from before \(systemPath) was the default: move it there")
        }
        return (systemPath, "root: the machine's history")
    }

    public static let systemPath = "/var/lib/patchctl/patchctl.db"

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
                    -- the whole DeployHostRecord as JSON, so history reprints exactly what the run printed
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
        migrator.registerMigration("v8: finding identity is package and architecture") { db in
            // Multi-arch hosts list libc6 for amd64 and i386: under the old key (run, host, package) one
            // replaced the other. Every existing row is kept; an unknown architecture is ''.
            try db.execute(sql: """
                CREATE TABLE findings_v8 (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    package TEXT NOT NULL,
                    -- '' when the platform names none: part of the key, and NULLs never compare equal
                    architecture TEXT NOT NULL DEFAULT '',
                    installed_version TEXT NOT NULL,
                    available_version TEXT NOT NULL,
                    source TEXT NOT NULL,
                    security BOOLEAN NOT NULL,
                    severity TEXT,
                    PRIMARY KEY (run_id, host, package, architecture),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                INSERT INTO findings_v8 (run_id, host, package, architecture, installed_version, available_version, source, security, severity)
                    SELECT run_id, host, package, COALESCE(architecture, ''), installed_version, available_version, source, security, severity
                    FROM findings;
                DROP TABLE findings;
                ALTER TABLE findings_v8 RENAME TO findings;
                CREATE INDEX findings_by_package ON findings(host, package, available_version);
                CREATE INDEX findings_first_seen ON findings(host, package, available_version, run_id);
                """)
        }
        registerAdvisoryMigration(&migrator)
        registerIntervalMigration(&migrator)
        registerAdvisoriesMigration(&migrator)
        registerRetirementMigration(&migrator)
        registerDiscoveryMigration(&migrator)
        registerControllerMigration(&migrator)
        registerOpenIntervalsMigration(&migrator)
        registerSightingDigestMigration(&migrator)
        registerPackageFilesMigration(&migrator)
        registerCVEListsMigration(&migrator)
        registerIntervalSequencesMigration(&migrator)
        registerClosingCodesMigration(&migrator)
        registerSequenceIndexMigration(&migrator)
        registerIdentityKeysMigration(&migrator)
        registerFindingVersionsMigration(&migrator)
        return migrator
    }
}
