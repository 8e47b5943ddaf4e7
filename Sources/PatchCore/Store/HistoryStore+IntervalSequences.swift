import Foundation
import GRDB

extension HistoryStore {
    /// Migration v19: an interval keeps the sequence numbers of its last sighting and of the scan that
    /// closed it, not copies of those scans' run ids and times: `run_hosts` has them by (host,
    /// `scan_seq`), and no query read the copies. Only the first sighting keeps
    /// its run and time, which must outlive a prune of that run. And a version's first sighting
    /// (`version_first_run`/`_at`) is NULL where it is the interval's own first sighting, as it is
    /// for nearly every interval: readers take `COALESCE(version_first_run, first_run)`. Together
    /// this is about 140 of an interval's 370 bytes, and a closing no longer grows its row by 60
    /// bytes (which split the pages of a year's intervals to about 87 % full).
    ///
    /// A history's last sightings stay exact through `history prune`: it deletes a closed interval
    /// with the run that last saw it (`lastSeenBefore`), so every interval's `last_seq` and
    /// `closed_seq` still name a recorded scan, unless a cut fell between a run's start and the
    /// host's scan in it.
    static let intervalSequencesMigration = "v19: intervals keep sequence numbers"

    /// A version's first sighting (run, time, security) as every reader takes it: NULL (v19) is the
    /// interval's own first sighting. `alias` prefixes the columns (`"i."` in a view).
    static func versionFirstColumns(_ alias: String = "") -> String {
        "COALESCE(\(alias)version_first_run, \(alias)first_run) AS version_first_run, "
            + "COALESCE(\(alias)version_first_at, \(alias)first_at) AS version_first_at, \(alias)version_first_security"
    }

    static func registerIntervalSequencesMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(intervalSequencesMigration) { db in
            // The views read the tables being rebuilt; they are made again at the end.
            try db.execute(sql: "DROP VIEW IF EXISTS findings; DROP VIEW IF EXISTS finding_cves; DROP VIEW IF EXISTS unfixed_cves")
            // A table rebuilt in id order fills its pages, as rows appended by recording do.
            try db.execute(sql: """
                CREATE TABLE finding_intervals_v19 (
                    id INTEGER PRIMARY KEY,
                    host TEXT NOT NULL,
                    package TEXT NOT NULL,
                    architecture TEXT NOT NULL DEFAULT '',
                    installed_version TEXT NOT NULL,
                    available_version TEXT NOT NULL,
                    source TEXT NOT NULL,
                    security BOOLEAN NOT NULL,
                    severity TEXT,
                    -- identifies the list in cve_lists: a changed list is a new interval
                    cves_digest TEXT NOT NULL DEFAULT '',
                    -- the host's scans (run_hosts.scan_seq) that first and last saw it
                    first_seq INTEGER NOT NULL,
                    last_seq INTEGER NOT NULL,
                    first_run TEXT NOT NULL,
                    first_at DATETIME NOT NULL,
                    -- the host's first sighting of this package version, in any interval; NULL: this interval's first
                    version_first_run TEXT,
                    version_first_at DATETIME,
                    version_first_security BOOLEAN NOT NULL,
                    -- the scan that no longer saw it; NULL while open
                    closed_seq INTEGER,
                    closed_reason TEXT,
                    advisories TEXT NOT NULL DEFAULT ''
                );
                INSERT INTO finding_intervals_v19 (id, host, package, architecture, installed_version, available_version, source, security,
                    severity, cves_digest, first_seq, last_seq, first_run, first_at, version_first_run, version_first_at,
                    version_first_security, closed_seq, closed_reason, advisories)
                SELECT id, host, package, architecture, installed_version, available_version, source, security,
                    severity, cves_digest, first_seq, last_seq, first_run, first_at, NULLIF(version_first_run, first_run),
                    NULLIF(version_first_at, first_at), version_first_security, closed_seq, closed_reason, advisories
                FROM finding_intervals ORDER BY id;
                DROP TABLE finding_intervals;
                ALTER TABLE finding_intervals_v19 RENAME TO finding_intervals;
                CREATE INDEX finding_intervals_open ON finding_intervals(host) WHERE closed_seq IS NULL;
                CREATE INDEX finding_intervals_by_seq ON finding_intervals(host, last_seq, first_seq);
                CREATE INDEX finding_intervals_by_package ON finding_intervals(host, package);
                CREATE TABLE unfixed_cve_intervals_v19 (
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
                    first_at DATETIME NOT NULL,
                    closed_seq INTEGER,
                    closed_reason TEXT
                );
                INSERT INTO unfixed_cve_intervals_v19 (id, host, cve, source_package, package, packages, severity, vendor_severity, cvss, kev,
                    fixed_version, feed, first_seq, last_seq, first_run, first_at, closed_seq, closed_reason)
                SELECT id, host, cve, source_package, package, packages, severity, vendor_severity, cvss, kev,
                    fixed_version, feed, first_seq, last_seq, first_run, first_at, closed_seq, closed_reason
                FROM unfixed_cve_intervals ORDER BY id;
                DROP TABLE unfixed_cve_intervals;
                ALTER TABLE unfixed_cve_intervals_v19 RENAME TO unfixed_cve_intervals;
                CREATE INDEX unfixed_cve_intervals_open ON unfixed_cve_intervals(host) WHERE closed_seq IS NULL;
                CREATE INDEX unfixed_cve_intervals_by_seq ON unfixed_cve_intervals(host, last_seq, first_seq);
                CREATE INDEX unfixed_cve_intervals_by_cve ON unfixed_cve_intervals(cve, host, first_run);
                """)
            // A history still converting (v10) creates the views when it finishes.
            if try !intervalConversionPending(db) { try createIntervalViews(db) }
        }
    }

    /// v19 on PostgreSQL, after the schema's statements (which replace the views): the columns go in
    /// place, and a version's first sighting that is its interval's own becomes NULL, as on SQLite.
    static let intervalSequencesPostgresSteps = [
        """
        ALTER TABLE finding_intervals DROP COLUMN IF EXISTS last_run, DROP COLUMN IF EXISTS last_at, DROP COLUMN IF EXISTS closed_run,
            DROP COLUMN IF EXISTS closed_at, ALTER COLUMN version_first_run DROP NOT NULL, ALTER COLUMN version_first_at DROP NOT NULL
        """,
        """
        ALTER TABLE unfixed_cve_intervals DROP COLUMN IF EXISTS last_run, DROP COLUMN IF EXISTS last_at, DROP COLUMN IF EXISTS closed_run,
            DROP COLUMN IF EXISTS closed_at
        """,
        """
        UPDATE finding_intervals SET version_first_run = NULLIF(version_first_run, first_run), version_first_at = NULLIF(version_first_at, first_at)
        WHERE version_first_run = first_run OR version_first_at = first_at
        """,
    ]
}
