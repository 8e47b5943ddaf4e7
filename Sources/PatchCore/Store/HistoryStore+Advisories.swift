import Foundation
import GRDB

/// What a sync stores with a feed's data: the HTTP validators for the next conditional GET.
public struct AdvisoryFeedValidators: Sendable, Equatable {
    public var etag: String?
    public var lastModified: String?

    public init(etag: String? = nil, lastModified: String? = nil) {
        self.etag = etag
        self.lastModified = lastModified
    }
}

extension HistoryStore {
    /// One feed's status, nil when it was never synced or tried.
    public func advisoryFeed(kind: AdvisoryFeedKind, location: String) throws -> AdvisoryFeedStatus? {
        try advisoryFeeds().first { $0.kind == kind && $0.location == location }
    }

    /// Replaces a range feed's rows (advisory_ranges) with what `fill` inserts, in ONE transaction:
    /// when `fill` throws (malformed or truncated file, a limit), everything rolls back and the
    /// previous rows stay. `fill` gets an insert function on a prepared statement; `progress`
    /// sees the running count every 10,000 rows. Returns the number of rows stored.
    @discardableResult
    public func replaceAdvisoryRanges(kind: AdvisoryFeedKind, location: String, validators: AdvisoryFeedValidators, at now: Date = Date(),
                                      progress: ((Int) -> Void)? = nil,
                                      fill: (_ insert: (AdvisoryRange) throws -> Void) throws -> Void) throws -> Int {
        try replaceFeedData(kind: kind, location: location, validators: validators, at: now) { db, feed in
            let statement = try db.makeStatement(sql: """
                INSERT INTO advisory_ranges (feed_id, vulnerability, ecosystem, package, introduced, fixed, vendor_severity, severity, cvss, advisory)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var count = 0
            try fill { range in
                try statement.execute(arguments: [feed, range.vulnerability, range.ecosystem, range.package, range.introduced, range.fixed,
                                                  range.vendorSeverity, range.severity.name, range.cvss, range.advisory])
                count += 1
                if count % 10_000 == 0 { progress?(count) }
            }
            return count
        }
    }

    /// Replaces the KEV catalogue's entries of this feed in one transaction. A CVE another KEV
    /// feed also lists belongs to the feed synced last (the table is keyed by CVE).
    @discardableResult
    public func replaceKEV(kind: AdvisoryFeedKind = .kev, location: String, validators: AdvisoryFeedValidators, entries: [KEVEntry],
                           at now: Date = Date()) throws -> Int {
        try replaceFeedData(kind: kind, location: location, validators: validators, at: now) { db, feed in
            let statement = try db.makeStatement(sql: """
                INSERT OR REPLACE INTO kev (cve, feed_id, vendor, product, name, date_added, due_date, ransomware) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for entry in entries {
                try statement.execute(arguments: [entry.cve, feed, entry.vendor, entry.product, entry.name, entry.dateAdded, entry.dueDate, entry.ransomware])
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM kev WHERE feed_id = ?", arguments: [feed]) ?? 0
        }
    }

    /// Replaces this feed's EPSS scores in one transaction (keyed by CVE, as KEV).
    @discardableResult
    public func replaceEPSS(kind: AdvisoryFeedKind = .epss, location: String, validators: AdvisoryFeedValidators, scores: [EPSSScore],
                            at now: Date = Date()) throws -> Int {
        try replaceFeedData(kind: kind, location: location, validators: validators, at: now) { db, feed in
            let statement = try db.makeStatement(sql: "INSERT OR REPLACE INTO epss (cve, feed_id, score, percentile) VALUES (?, ?, ?, ?)")
            for score in scores {
                try statement.execute(arguments: [score.cve, feed, score.score, score.percentile])
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM epss WHERE feed_id = ?", arguments: [feed]) ?? 0
        }
    }

    /// A conditional GET answered 304: the data is current, only `checked_at` moves.
    public func markAdvisoryFeedChecked(kind: AdvisoryFeedKind, location: String, at now: Date = Date()) throws {
        try write { db in
            try db.execute(sql: "UPDATE advisory_feeds SET checked_at = ?, last_error = NULL, last_error_at = NULL WHERE kind = ? AND location = ?",
                           arguments: [now, kind, location])
        }
    }

    /// A failed sync: the error is kept on the feed's row (created if the feed is new) and its
    /// data, validators and times are left as they were.
    public func recordAdvisoryFeedFailure(kind: AdvisoryFeedKind, location: String, message: String, at now: Date = Date()) throws {
        try write { db in
            _ = try Self.feedId(db, kind: kind, location: location)
            try db.execute(sql: "UPDATE advisory_feeds SET last_error = ?, last_error_at = ? WHERE kind = ? AND location = ?",
                           arguments: [message, now, kind, location])
        }
    }

    /// Rows actually held for a feed in its data table (ranges, KEV or EPSS), counted, not read
    /// from `record_count`.
    public func advisoryRowCount(kind: AdvisoryFeedKind, location: String) throws -> Int {
        try read { db in
            guard let feed = try Int64.fetchOne(db, sql: "SELECT id FROM advisory_feeds WHERE kind = ? AND location = ?", arguments: [kind, location]) else {
                return 0
            }
            let table = switch kind {
            case .kev: "kev"
            case .epss: "epss"
            case .debianTracker, .ubuntu, .osv: "advisory_ranges"
            }
            return try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE feed_id = ?", arguments: [feed]) ?? 0
        }
    }

    /// The `os_id`s of every host history has scanned (`debian`, `ubuntu`, …): which official
    /// feeds a sync without `--from` fetches.
    public func scannedOSIds() throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT lower(os_id) FROM run_hosts WHERE os_id IS NOT NULL"))
        }
    }

    /// Deletes the feed's old rows, lets `body` insert the new ones and updates the feed row, all
    /// in one transaction.
    private func replaceFeedData(kind: AdvisoryFeedKind, location: String, validators: AdvisoryFeedValidators, at now: Date,
                                 _ body: (Database, Int64) throws -> Int) throws -> Int {
        guard !isReadOnly else { throw PatchError.store(path: path, message: "opened read-only") }
        do {
            return try pool.writeWithoutTransaction { db in
                var count = 0
                try db.inTransaction {
                    let feed = try Self.feedId(db, kind: kind, location: location)
                    for table in ["advisory_ranges", "kev", "epss"] {
                        try db.execute(sql: "DELETE FROM \(table) WHERE feed_id = ?", arguments: [feed])
                    }
                    do {
                        count = try body(db, feed)
                    } catch let error as DatabaseError {
                        throw error
                    } catch {
                        // The feed's own failure (format, limit): rolled back, reported as itself.
                        throw FeedDataFailure(underlying: error)
                    }
                    try db.execute(sql: """
                        UPDATE advisory_feeds SET etag = ?, last_modified = ?, synced_at = ?, checked_at = ?, record_count = ?,
                            last_error = NULL, last_error_at = NULL WHERE id = ?
                        """, arguments: [validators.etag, validators.lastModified, now, now, count, feed])
                    return .commit
                }
                return count
            }
        } catch let failure as FeedDataFailure {
            throw failure.underlying
        } catch let error as PatchError {
            throw error
        } catch {
            throw PatchError.store(path: path, message: String(describing: error))
        }
    }

    private struct FeedDataFailure: Error {
        var underlying: any Error
    }

    private static func feedId(_ db: Database, kind: AdvisoryFeedKind, location: String) throws -> Int64 {
        try db.execute(sql: "INSERT OR IGNORE INTO advisory_feeds (kind, location) VALUES (?, ?)", arguments: [kind, location])
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM advisory_feeds WHERE kind = ? AND location = ?", arguments: [kind, location]) else {
            throw PatchError.store(path: "advisory_feeds", message: "no row for feed \(kind.rawValue) \(location)")
        }
        return id
    }
}
