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

    /// Replaces a range feed's rows (advisory_ranges) with what `fill` inserts, in ONE transaction,
    /// on either store: when `fill` throws (malformed or truncated file, a limit), everything rolls
    /// back and the previous rows stay. `fill` gets an insert function; `progress` sees the running
    /// count every 10,000 rows. Returns the number of rows stored.
    @discardableResult
    public func replaceAdvisoryRanges(kind: AdvisoryFeedKind, location: String, validators: AdvisoryFeedValidators, at now: Date = Date(),
                                      progress: ((Int) -> Void)? = nil,
                                      fill: (_ insert: (AdvisoryRange) throws -> Void) throws -> Void) throws -> Int {
        try replaceFeedData(kind: kind, location: location, validators: validators, at: now) { db, feed in
            var rows = BatchInsert(db, into: "advisory_ranges", columns: [
                "feed_id", "vulnerability", "ecosystem", "package", "introduced", "fixed", "vendor_severity", "severity", "cvss", "advisory",
            ])
            let feedValue = feed.databaseValue
            do {
                try fill { range in
                    do {
                        try rows.append([feedValue, range.vulnerability.databaseValue, range.ecosystem.databaseValue, range.package.databaseValue,
                                         range.introduced.databaseValue, range.fixed.databaseValue, range.vendorSeverity.databaseValue,
                                         range.severity.name.databaseValue, range.cvss.databaseValue, range.advisory.databaseValue])
                    } catch {
                        throw InsertFailure(underlying: error)
                    }
                    if rows.count % 10_000 == 0 { progress?(rows.count) }
                }
            } catch let failure as InsertFailure {
                throw failure.underlying
            } catch {
                // The feed's own failure (format, limit): rolled back, and reported as itself.
                throw BodyFailure(underlying: error)
            }
            try rows.flush()
            return rows.count
        }
    }

    /// Replaces the KEV catalogue's entries of this feed in one transaction. A CVE another KEV
    /// feed also lists belongs to the feed synced last (the table is keyed by CVE); a CVE the
    /// catalogue lists twice keeps its last entry.
    @discardableResult
    public func replaceKEV(kind: AdvisoryFeedKind = .kev, location: String, validators: AdvisoryFeedValidators, entries: [KEVEntry],
                           at now: Date = Date()) throws -> Int {
        try replaceFeedData(kind: kind, location: location, validators: validators, at: now) { db, feed in
            var rows = BatchInsert(db, into: "kev", columns: ["cve", "feed_id", "vendor", "product", "name", "date_added", "due_date", "ransomware"],
                                   replacingOn: "cve")
            for entry in Self.lastOfEach(entries, by: \.cve) {
                try rows.append([entry.cve.databaseValue, feed.databaseValue, entry.vendor.databaseValue, entry.product.databaseValue,
                                 entry.name.databaseValue, entry.dateAdded.databaseValue, entry.dueDate.databaseValue, entry.ransomware.databaseValue])
            }
            try rows.flush()
            return try Self.count(db, "kev", feed: feed)
        }
    }

    /// Replaces this feed's EPSS scores in one transaction (keyed by CVE, as KEV).
    @discardableResult
    public func replaceEPSS(kind: AdvisoryFeedKind = .epss, location: String, validators: AdvisoryFeedValidators, scores: [EPSSScore],
                            at now: Date = Date()) throws -> Int {
        try replaceFeedData(kind: kind, location: location, validators: validators, at: now) { db, feed in
            var rows = BatchInsert(db, into: "epss", columns: ["cve", "feed_id", "score", "percentile"], replacingOn: "cve")
            for score in Self.lastOfEach(scores, by: \.cve) {
                try rows.append([score.cve.databaseValue, feed.databaseValue, score.score.databaseValue, score.percentile.databaseValue])
            }
            try rows.flush()
            return try Self.count(db, "epss", feed: feed)
        }
    }

    /// A conditional GET answered 304: the data is current, only `checked_at` moves.
    public func markAdvisoryFeedChecked(kind: AdvisoryFeedKind, location: String, at now: Date = Date()) throws {
        try recording { db in
            try db.execute("UPDATE advisory_feeds SET checked_at = ?, last_error = NULL, last_error_at = NULL WHERE kind = ? AND location = ?",
                           arguments: [now, kind, location])
        }
    }

    /// A failed sync: the error is kept on the feed's row (created if the feed is new) and its
    /// data, validators and times are left as they were.
    public func recordAdvisoryFeedFailure(kind: AdvisoryFeedKind, location: String, message: String, at now: Date = Date()) throws {
        try recording { db in
            _ = try Self.feedId(db, kind: kind, location: location)
            try db.execute("UPDATE advisory_feeds SET last_error = ?, last_error_at = ? WHERE kind = ? AND location = ?",
                           arguments: [message, now, kind, location])
        }
    }

    /// Rows actually held for a feed in its data table (ranges, KEV or EPSS), counted, not read
    /// from `record_count`.
    public func advisoryRowCount(kind: AdvisoryFeedKind, location: String) throws -> Int {
        try reading { db in
            guard let feed: Int64 = try db.rows("SELECT id FROM advisory_feeds WHERE kind = ? AND location = ?", arguments: [kind, location]).first?["id"] else {
                return 0
            }
            let table = switch kind {
            case .kev: "kev"
            case .epss: "epss"
            case .debianTracker, .ubuntu, .osv: "advisory_ranges"
            }
            return try Self.count(db, table, feed: feed)
        }
    }

    /// The `os_id`s of every host history has scanned (`debian`, `ubuntu`, …): which official
    /// feeds a sync without `--from` fetches.
    public func scannedOSIds() throws -> Set<String> {
        try reading { db in
            Set(try db.rows("SELECT DISTINCT lower(os_id) AS os_id FROM run_hosts WHERE os_id IS NOT NULL", []).map { $0["os_id"] as String })
        }
    }

    /// Deletes the feed's old rows, lets `body` insert the new ones and updates the feed row, all
    /// in one transaction.
    private func replaceFeedData(kind: AdvisoryFeedKind, location: String, validators: AdvisoryFeedValidators, at now: Date,
                                 _ body: (any HistoryWriter, Int64) throws -> Int) throws -> Int {
        guard !isReadOnly else { throw PatchError.store(path: path, message: "opened read-only") }
        return try recording { db in
            let feed = try Self.feedId(db, kind: kind, location: location)
            for table in ["advisory_ranges", "kev", "epss"] {
                try db.execute("DELETE FROM \(table) WHERE feed_id = ?", arguments: [feed])
            }
            let count = try body(db, feed)
            try db.execute("""
                UPDATE advisory_feeds SET etag = ?, last_modified = ?, synced_at = ?, checked_at = ?, record_count = ?,
                    last_error = NULL, last_error_at = NULL WHERE id = ?
                """, arguments: [validators.etag, validators.lastModified, now, now, count, feed])
            return count
        }
    }

    /// The store's failure to insert a row, inside the feed's reading: passed on as the store's.
    private struct InsertFailure: Error {
        var underlying: any Error
    }

    /// The feed's row id, the row made if new, and locked until the transaction ends: on a shared
    /// PostgreSQL history two controllers syncing one feed at once take turns (the second's
    /// delete then sees the first's rows), instead of both deleting the old rows and both
    /// inserting. (An upsert that updates locks the row; one that does nothing would not.)
    private static func feedId(_ db: any HistoryWriter, kind: AdvisoryFeedKind, location: String) throws -> Int64 {
        guard let id: Int64 = try db.rows("""
            INSERT INTO advisory_feeds (kind, location) VALUES (?, ?) ON CONFLICT (kind, location) DO UPDATE SET kind = excluded.kind RETURNING id
            """, arguments: [kind, location]).first?["id"] else {
            throw PatchError.store(path: "advisory_feeds", message: "no row for feed \(kind.rawValue) \(location)")
        }
        return id
    }

    private static func count(_ db: any HistorySQL, _ table: String, feed: Int64) throws -> Int {
        try db.rows("SELECT COUNT(*) AS n FROM \(table) WHERE feed_id = ?", arguments: [feed]).first?["n"] ?? 0
    }

    /// Each key's last element, in the order of their last appearance: one row per CVE, as the
    /// table holds them, from a catalogue that lists one twice.
    private static func lastOfEach<T>(_ elements: [T], by key: (T) -> String) -> [T] {
        var last: [String: Int] = [:]
        for (index, element) in elements.enumerated() { last[key(element)] = index }
        return elements.indices.filter { last[key(elements[$0])] == $0 }.map { elements[$0] }
    }
}
