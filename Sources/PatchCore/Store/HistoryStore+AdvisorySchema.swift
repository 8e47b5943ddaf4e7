import Foundation
import GRDB

extension HistoryStore {
    /// Advisory feeds (synced by `advisories sync`) and the CVEs each scan matched. A feed's rows are
    /// replaced in one transaction, so a failed sync leaves the previous data whole.
    static func registerAdvisoryMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v9: advisory feeds and finding CVEs") { db in
            try db.execute(sql: """
                -- one row per synced source: a kind read from one URL or path
                CREATE TABLE advisory_feeds (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    location TEXT NOT NULL,
                    etag TEXT,
                    last_modified TEXT,
                    -- when its data last changed / when it was last checked (also on 304 Not Modified)
                    synced_at DATETIME,
                    checked_at DATETIME,
                    record_count INTEGER NOT NULL DEFAULT 0,
                    -- the last failed sync; the data of the last good one stays
                    last_error TEXT,
                    last_error_at DATETIME,
                    UNIQUE (kind, location)
                );
                CREATE TABLE advisory_ranges (
                    feed_id INTEGER NOT NULL REFERENCES advisory_feeds(id) ON DELETE CASCADE,
                    vulnerability TEXT NOT NULL,
                    ecosystem TEXT NOT NULL,
                    package TEXT NOT NULL,
                    introduced TEXT NOT NULL DEFAULT '0',
                    -- NULL: no fix (open or undetermined)
                    fixed TEXT,
                    vendor_severity TEXT,
                    severity TEXT NOT NULL,
                    cvss REAL,
                    advisory TEXT
                );
                CREATE INDEX advisory_ranges_by_package ON advisory_ranges(ecosystem, package);
                CREATE INDEX advisory_ranges_by_feed ON advisory_ranges(feed_id);
                CREATE TABLE kev (
                    cve TEXT PRIMARY KEY,
                    feed_id INTEGER NOT NULL REFERENCES advisory_feeds(id) ON DELETE CASCADE,
                    vendor TEXT NOT NULL,
                    product TEXT NOT NULL,
                    name TEXT NOT NULL,
                    date_added TEXT NOT NULL,
                    due_date TEXT,
                    ransomware TEXT
                );
                CREATE TABLE epss (
                    cve TEXT PRIMARY KEY,
                    feed_id INTEGER NOT NULL REFERENCES advisory_feeds(id) ON DELETE CASCADE,
                    score REAL NOT NULL,
                    percentile REAL NOT NULL
                );
                -- the CVEs a scan found each pending update to fix
                CREATE TABLE finding_cves (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    package TEXT NOT NULL,
                    architecture TEXT NOT NULL DEFAULT '',
                    cve TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    vendor_severity TEXT,
                    cvss REAL,
                    kev BOOLEAN NOT NULL,
                    epss REAL,
                    fixed_version TEXT,
                    source TEXT NOT NULL,
                    PRIMARY KEY (run_id, host, package, architecture, cve),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                CREATE INDEX finding_cves_by_cve ON finding_cves(cve, run_id);
                -- CVEs open on installed packages with no installable fix, per scanned host
                CREATE TABLE unfixed_cves (
                    run_id TEXT NOT NULL,
                    host TEXT NOT NULL,
                    cve TEXT NOT NULL,
                    source_package TEXT NOT NULL,
                    package TEXT NOT NULL,
                    -- every installed binary package of the source, newline-separated
                    packages TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    vendor_severity TEXT,
                    cvss REAL,
                    kev BOOLEAN NOT NULL,
                    fixed_version TEXT,
                    feed TEXT NOT NULL,
                    PRIMARY KEY (run_id, host, cve, source_package),
                    FOREIGN KEY (run_id, host) REFERENCES run_hosts(run_id, host) ON DELETE CASCADE
                );
                CREATE INDEX unfixed_cves_by_cve ON unfixed_cves(cve, run_id);
                """)
        }
    }

    /// Every synced feed, by kind then location.
    public func advisoryFeeds() throws -> [AdvisoryFeedStatus] {
        try reading { db in
            try db.rows("SELECT * FROM advisory_feeds ORDER BY kind, location", []).map { row in
                AdvisoryFeedStatus(kind: try row.decode(AdvisoryFeedKind.self, forColumn: "kind"), location: row["location"],
                                   syncedAt: row["synced_at"], checkedAt: row["checked_at"], recordCount: row["record_count"],
                                   etag: row["etag"], lastModified: row["last_modified"],
                                   lastError: row["last_error"], lastErrorAt: row["last_error_at"])
            }
        }
    }
}

extension AdvisoryFeedKind: DatabaseValueConvertible {}

/// One synced feed as `advisories status` shows it.
public struct AdvisoryFeedStatus: Sendable, Equatable, Codable {
    public var kind: AdvisoryFeedKind
    /// The URL or path it was read from.
    public var location: String
    /// When its data last changed; nil when no sync has succeeded yet.
    public var syncedAt: Date?
    /// When it was last checked (an unchanged feed is checked, not re-synced).
    public var checkedAt: Date?
    public var recordCount: Int
    public var etag: String?
    public var lastModified: String?
    public var lastError: String?
    public var lastErrorAt: Date?

    public init(kind: AdvisoryFeedKind, location: String, syncedAt: Date?, checkedAt: Date?, recordCount: Int,
                etag: String? = nil, lastModified: String? = nil, lastError: String? = nil, lastErrorAt: Date? = nil) {
        self.kind = kind
        self.location = location
        self.syncedAt = syncedAt
        self.checkedAt = checkedAt
        self.recordCount = recordCount
        self.etag = etag
        self.lastModified = lastModified
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }

    /// Older than `maxAge` (default 7 days) since its data was last confirmed current, or never synced.
    public func isStale(at now: Date, maxAge: TimeInterval = AdvisoryFeedStatus.defaultMaxAge) -> Bool {
        guard let confirmed = checkedAt ?? syncedAt, syncedAt != nil else { return true }
        return now.timeIntervalSince(confirmed) > maxAge
    }

    public static let defaultMaxAge: TimeInterval = 7 * 86_400

    enum CodingKeys: String, CodingKey {
        case kind, location
        case syncedAt = "synced_at"
        case checkedAt = "checked_at"
        case recordCount = "record_count"
        case etag
        case lastModified = "last_modified"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
    }
}

/// A finding's identity in history: host, package and architecture ('' when unnamed).
struct FindingKey: Hashable {
    var host: String
    var package: String
    var architecture: String
}

extension HistoryStore {
    /// A row of finding_cves (or its v9 table) as the reference a scan made.
    static func cveReference(_ row: Row) -> CVEReference {
        CVEReference(id: row["cve"], severity: Severity(name: row["severity"]) ?? .unknown, vendorSeverity: row["vendor_severity"],
                     cvss: row["cvss"], kev: row["kev"], epss: row["epss"], fixedVersion: row["fixed_version"], source: row["source"])
    }

    /// A row of unfixed_cves (or its v9 table) as the scan saw it.
    static func unfixedCVE(_ row: Row) -> UnfixedCVE {
        let packages: String = row["packages"]
        return UnfixedCVE(id: row["cve"], package: row["package"], packages: packages.split(separator: "\n").map(String.init), source: row["source_package"],
                          severity: Severity(name: row["severity"]) ?? .unknown, vendorSeverity: row["vendor_severity"], cvss: row["cvss"], kev: row["kev"],
                          fixedVersion: row["fixed_version"], feed: row["feed"])
    }
}

extension HostScan {
    func with(unfixedCVEs: [UnfixedCVE]) -> HostScan {
        var copy = self
        copy.unfixedCVEs = unfixedCVEs
        return copy
    }
}
