import Foundation
import GRDB

extension HistoryStore {
    /// Migration v10: findings become intervals (see `FindingIntervals`). The per-run tables of v8/v9
    /// are renamed `legacy_*`; `IntervalConversion` turns their rows into intervals host by host,
    /// in batches that each commit, and then drops them and creates the views that stand for them.
    static func registerIntervalMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v10: findings as intervals") { db in
            try db.execute(sql: """
                -- the host's nth recorded successful scan; NULL for failed contacts and other run kinds
                ALTER TABLE run_hosts ADD COLUMN scan_seq INTEGER;
                ALTER TABLE run_hosts ADD COLUMN updates_count INTEGER;
                ALTER TABLE run_hosts ADD COLUMN security_count INTEGER;
                CREATE INDEX run_hosts_by_seq ON run_hosts(host, scan_seq) WHERE scan_seq IS NOT NULL;
                -- each host's latest recorded successful scan
                CREATE TABLE scan_hosts (
                    host TEXT PRIMARY KEY,
                    last_seq INTEGER NOT NULL,
                    last_run TEXT NOT NULL,
                    last_at DATETIME NOT NULL
                );
                CREATE TABLE finding_intervals (
                    id INTEGER PRIMARY KEY,
                    host TEXT NOT NULL,
                    package TEXT NOT NULL,
                    architecture TEXT NOT NULL DEFAULT '',
                    installed_version TEXT NOT NULL,
                    available_version TEXT NOT NULL,
                    source TEXT NOT NULL,
                    security BOOLEAN NOT NULL,
                    severity TEXT,
                    -- identifies the list in finding_interval_cves: a changed list is a new interval
                    cves_digest TEXT NOT NULL DEFAULT '',
                    first_seq INTEGER NOT NULL,
                    last_seq INTEGER NOT NULL,
                    first_run TEXT NOT NULL,
                    last_run TEXT NOT NULL,
                    first_at DATETIME NOT NULL,
                    last_at DATETIME NOT NULL,
                    -- the host's first sighting of this package version, in any interval: "first seen" and
                    -- compliance age, kept when attributes change and when older intervals are pruned
                    version_first_run TEXT NOT NULL,
                    version_first_at DATETIME NOT NULL,
                    version_first_security BOOLEAN NOT NULL,
                    -- the scan that no longer saw it; NULL while open
                    closed_seq INTEGER,
                    closed_run TEXT,
                    closed_at DATETIME,
                    closed_reason TEXT
                );
                CREATE INDEX finding_intervals_open ON finding_intervals(host) WHERE closed_seq IS NULL;
                CREATE INDEX finding_intervals_by_seq ON finding_intervals(host, last_seq, first_seq);
                CREATE INDEX finding_intervals_first_seen ON finding_intervals(host, package, available_version, version_first_run);
                CREATE INDEX finding_intervals_by_last_run ON finding_intervals(last_run);
                CREATE TABLE finding_interval_cves (
                    interval_id INTEGER NOT NULL REFERENCES finding_intervals(id) ON DELETE CASCADE,
                    cve TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    vendor_severity TEXT,
                    cvss REAL,
                    kev BOOLEAN NOT NULL,
                    epss REAL,
                    fixed_version TEXT,
                    source TEXT NOT NULL,
                    PRIMARY KEY (interval_id, cve)
                ) WITHOUT ROWID;
                CREATE INDEX finding_interval_cves_by_cve ON finding_interval_cves(cve);
                CREATE TABLE unfixed_cve_intervals (
                    id INTEGER PRIMARY KEY,
                    host TEXT NOT NULL,
                    cve TEXT NOT NULL,
                    source_package TEXT NOT NULL,
                    package TEXT NOT NULL,
                    packages TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    vendor_severity TEXT,
                    cvss REAL,
                    kev BOOLEAN NOT NULL,
                    fixed_version TEXT,
                    feed TEXT NOT NULL,
                    first_seq INTEGER NOT NULL,
                    last_seq INTEGER NOT NULL,
                    first_run TEXT NOT NULL,
                    last_run TEXT NOT NULL,
                    first_at DATETIME NOT NULL,
                    last_at DATETIME NOT NULL,
                    closed_seq INTEGER,
                    closed_run TEXT,
                    closed_at DATETIME,
                    closed_reason TEXT
                );
                CREATE INDEX unfixed_cve_intervals_open ON unfixed_cve_intervals(host) WHERE closed_seq IS NULL;
                CREATE INDEX unfixed_cve_intervals_by_seq ON unfixed_cve_intervals(host, last_seq, first_seq);
                CREATE INDEX unfixed_cve_intervals_by_cve ON unfixed_cve_intervals(cve, host, first_run);
                CREATE INDEX unfixed_cve_intervals_by_last_run ON unfixed_cve_intervals(last_run);
                -- a finding closes as "deployed" when a deployment installed its package since it was last seen
                CREATE INDEX deploy_packages_by_host ON deploy_packages(host, package, at);
                -- reports read the installs of their period
                CREATE INDEX deploy_packages_by_time ON deploy_packages(at);
                -- `history` lists the latest runs
                CREATE INDEX runs_by_start ON runs(started_at, id);
                -- a run's counts, computed when it finishes (`history` lists runs without reading their hosts);
                -- NULL while running, and again whenever one of its hosts is written after that
                ALTER TABLE runs ADD COLUMN host_count INTEGER;
                ALTER TABLE runs ADD COLUMN ok_count INTEGER;
                ALTER TABLE runs ADD COLUMN failed_count INTEGER;
                ALTER TABLE runs ADD COLUMN updates_count INTEGER;
                ALTER TABLE runs ADD COLUMN security_count INTEGER;
                CREATE TRIGGER run_hosts_insert_stales_summary AFTER INSERT ON run_hosts BEGIN
                    UPDATE runs SET host_count = NULL WHERE id = NEW.run_id AND host_count IS NOT NULL;
                END;
                CREATE TRIGGER run_hosts_update_stales_summary AFTER UPDATE OF status, updates_count, security_count ON run_hosts BEGIN
                    UPDATE runs SET host_count = NULL WHERE id = NEW.run_id AND host_count IS NOT NULL;
                END;
                -- retention and other facts about the history itself
                CREATE TABLE history_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                ALTER TABLE findings RENAME TO legacy_findings;
                ALTER TABLE finding_cves RENAME TO legacy_finding_cves;
                ALTER TABLE unfixed_cves RENAME TO legacy_unfixed_cves;
                """)
            // A new or finding-free history has nothing to convert.
            if try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM legacy_findings) OR EXISTS (SELECT 1 FROM legacy_unfixed_cves)")! {
                try finishIntervalConversion(db)
            }
        }
    }

    /// Drops the per-run tables and creates the views that expand intervals back into them.
    static func finishIntervalConversion(_ db: Database) throws {
        try db.execute(sql: """
            DROP TABLE IF EXISTS legacy_finding_cves;
            DROP TABLE IF EXISTS legacy_unfixed_cves;
            DROP TABLE IF EXISTS legacy_findings;
            DROP TABLE IF EXISTS interval_conversion;
            \(summarizeRunsSQL(where: "")) ;
            """)
        try createIntervalViews(db)
    }

    /// The views that expand intervals back into the per-run rows of v8 and v9.
    static func createIntervalViews(_ db: Database) throws {
        try db.execute(sql: """
            \(try findingsViewSQL(db)) ;
            \(try findingCVEsViewSQL(db)) ;
            CREATE VIEW unfixed_cves AS
                SELECT h.run_id, u.host, u.cve, u.source_package, u.package, u.packages, u.severity, u.vendor_severity, u.cvss, u.kev,
                       u.fixed_version, u.feed, u.id AS interval_id, u.first_run, u.first_at
                FROM \(scansJoin("unfixed_cve_intervals", "u"))
                WHERE h.scan_seq IS NOT NULL;
            """)
    }

    /// Each recorded successful scan (`run_hosts h`) with the intervals of `table` (as `alias`) that
    /// reach it: what the views expand intervals back into per-run rows by (they add
    /// `WHERE h.scan_seq IS NOT NULL`).
    static func scansJoin(_ table: String, _ alias: String) -> String {
        "run_hosts h JOIN \(table) \(alias) ON \(alias).host = h.host AND \(alias).last_seq >= h.scan_seq AND \(alias).first_seq <= h.scan_seq"
    }

    /// What each (run, host) saw, as the per-run tables of v8 and v9 stored it; with the
    /// advisories column once v11 has added it (v10 may finish before v11 runs). A version's first
    /// sighting that is NULL (from v19) is the interval's own.
    static func findingsViewSQL(_ db: Database) throws -> String {
        let advisories = try db.columns(in: "finding_intervals").contains { $0.name == "advisories" } ? " i.advisories," : ""
        return """
            CREATE VIEW findings AS
                SELECT h.run_id, i.host, i.package, i.architecture, i.installed_version, i.available_version, i.source, i.security,
                       i.severity,\(advisories) i.id AS interval_id, i.first_run, i.first_at,
                       \(versionFirstColumns("i."))
                FROM \(scansJoin("finding_intervals", "i"))
                WHERE h.scan_seq IS NOT NULL
            """
    }

    /// The CVEs of what each (run, host) saw, as v9's per-run table stored them: from v18 the list an
    /// interval's `cves_digest` names in `cve_lists`, before it the interval's own rows (v10 may
    /// finish its conversion before v18 runs).
    static func findingCVEsViewSQL(_ db: Database) throws -> String {
        let (join, on) = try db.tableExists("cve_lists")
            ? ("JOIN cve_lists c", "c.digest = i.cves_digest") : ("JOIN finding_interval_cves c", "c.interval_id = i.id")
        return """
            CREATE VIEW finding_cves AS
                SELECT h.run_id, i.host, i.package, i.architecture, c.cve, c.severity, c.vendor_severity, c.cvss, c.kev, c.epss,
                       c.fixed_version, c.source, i.id AS interval_id
                FROM \(scansJoin("finding_intervals", "i"))
                \(join) ON \(on)
                WHERE h.scan_seq IS NOT NULL
            """
    }

    /// Migration v18: a CVE list is stored once, by its digest (`FindingIntervals.digest`, of every
    /// stored field), not once per interval: a fleet's intervals share a few thousand lists (one
    /// advisory's CVEs on every host it reaches, and on each of its packages), so 4.7 million rows of
    /// a year of 10,000 hosts become about 8,000. A list no interval names any more goes with the
    /// prune that removed its last interval. And the index a new interval's first sighting is looked
    /// up by keeps (host, package) only: the query reads the rest from the row. The same statements,
    /// with PostgreSQL's guard, are its PostgreSQL step.
    static let cveListsMigration = "v18: CVE lists by digest"

    static func registerCVEListsMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(cveListsMigration) { db in
            try db.execute(sql: """
                CREATE TABLE cve_lists (
                    -- finding_intervals.cves_digest
                    digest TEXT NOT NULL,
                    cve TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    vendor_severity TEXT,
                    cvss REAL,
                    kev BOOLEAN NOT NULL,
                    epss REAL,
                    fixed_version TEXT,
                    source TEXT NOT NULL,
                    PRIMARY KEY (digest, cve)
                ) WITHOUT ROWID;
                \(cveListsCopySQL) ON CONFLICT DO NOTHING;
                DROP VIEW IF EXISTS finding_cves;
                DROP TABLE finding_interval_cves;
                \(firstSightingIndexSQL.joined(separator: ";\n"));
                """)
            // A history still converting (v10) creates the view when it finishes.
            if try !intervalConversionPending(db) { try db.execute(sql: findingCVEsViewSQL(db)) }
        }
    }

    /// Each interval's CVE rows, once per list. (`WHERE true`: SQLite could read the upsert's ON as the join's.)
    static let cveListsCopySQL = """
        INSERT INTO cve_lists (digest, cve, severity, vendor_severity, cvss, kev, epss, fixed_version, source)
        SELECT i.cves_digest, c.cve, c.severity, c.vendor_severity, c.cvss, c.kev, c.epss, c.fixed_version, c.source
        FROM finding_interval_cves c JOIN finding_intervals i ON i.id = c.interval_id WHERE true
        """

    static let firstSightingIndexSQL = [
        "DROP INDEX IF EXISTS finding_intervals_first_seen",
        "CREATE INDEX IF NOT EXISTS finding_intervals_by_package ON finding_intervals(host, package)",
    ]

    /// v18 on PostgreSQL, after the schema's statements have made `cve_lists` and the new view: a
    /// history made before v18 has interval rows to move; a new one has no `finding_interval_cves`.
    static let cveListsPostgresSteps = [
        """
        DO $$ BEGIN
            IF to_regclass('finding_interval_cves') IS NOT NULL THEN
                \(cveListsCopySQL) ON CONFLICT DO NOTHING;
                DROP TABLE finding_interval_cves;
            END IF;
        END $$
        """,
    ] + firstSightingIndexSQL

    /// Migration v11: a finding's vendor advisory ids get a column of their own (one per line, ''
    /// for none), filled for the intervals already stored from the `source` text that named them.
    /// Not part of a finding's identity: `source` names the same ids.
    static func registerAdvisoriesMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v11: finding advisories") { db in
            try db.execute(sql: "ALTER TABLE finding_intervals ADD COLUMN advisories TEXT NOT NULL DEFAULT ''")
            let update = try db.makeStatement(sql: "UPDATE finding_intervals SET advisories = ? WHERE id = ?")
            for row in try Row.fetchAll(db, sql: "SELECT id, source FROM finding_intervals WHERE source LIKE '%)' OR source LIKE '%patch:%'") {
                let ids = AdvisoryIDs.inLegacySource(row["source"])
                if !ids.isEmpty { try update.execute(arguments: [ids.joined(separator: "\n"), row["id"] as Int64]) }
            }
            // A history still converting (v10) creates the view when it finishes, with the column.
            if try db.viewExists("findings") {
                try db.execute(sql: "DROP VIEW findings; " + findingsViewSQL(db))
            }
        }
    }

    /// Migration v15: an open interval's `last_seq` is `FindingIntervals.openEnd`, so a scan that sees
    /// a finding unchanged no longer rewrites its row; and the `last_run` indexes go, which no query
    /// read and every nightly write kept up. The same statements are this migration's PostgreSQL
    /// step (`PostgresSchema.dataSteps`).
    static let openIntervalsMigration = "v15: open intervals reach the latest scan"
    static let openIntervalsStatements = [
        "UPDATE finding_intervals SET last_seq = \(FindingIntervals.openEnd) WHERE closed_seq IS NULL",
        "UPDATE unfixed_cve_intervals SET last_seq = \(FindingIntervals.openEnd) WHERE closed_seq IS NULL",
        "DROP INDEX IF EXISTS finding_intervals_by_last_run",
        "DROP INDEX IF EXISTS unfixed_cve_intervals_by_last_run",
    ]

    static func registerOpenIntervalsMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(openIntervalsMigration) { db in
            for statement in openIntervalsStatements { try db.execute(sql: statement) }
        }
    }

    /// Migration v16: each host's latest sighting keeps the digest of what it saw
    /// (`FindingIntervals.Prepared.digest`), so the next scan that sees the same reads and writes no
    /// interval at all. `prior_digest` is the value before the latest sighting: the upsert that
    /// takes a sequence number returns it. NULL (as for every host before v16) means "look".
    static func registerSightingDigestMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v16: sighting digests") { db in
            try db.execute(sql: """
                ALTER TABLE scan_hosts ADD COLUMN open_digest TEXT;
                ALTER TABLE scan_hosts ADD COLUMN prior_digest TEXT;
                """)
        }
    }

    /// Stores the counts `history` lists of the runs `where` selects (an SQL condition on `runs`, or "").
    static func summarizeRunsSQL(where condition: String) -> String {
        """
        UPDATE runs SET (host_count, ok_count, failed_count, updates_count, security_count) = (
            SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(CASE WHEN status IN (\(HostStatus.failureSQLList)) THEN 1 ELSE 0 END), 0),
                   COALESCE(SUM(updates_count), 0), COALESCE(SUM(security_count), 0)
            FROM run_hosts h WHERE h.run_id = runs.id)
        \(condition.isEmpty ? "WHERE finished_at IS NOT NULL" : "WHERE " + condition)
        """
    }

    /// Whether a v10 conversion is still to finish (its legacy tables are there).
    static func intervalConversionPending(_ db: Database) throws -> Bool {
        try db.tableExists("legacy_findings")
    }
}
