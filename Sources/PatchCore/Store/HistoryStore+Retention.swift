import Foundation
import GRDB

/// What `history prune` deleted (or, on a dry run, would delete).
public struct PruneResult: Codable, Sendable, Equatable {
    /// Runs that started before this were deleted.
    public var before: Date
    public var runs: Int
    public var hostRecords: Int
    public var findingIntervals: Int
    public var unfixedCVEIntervals: Int
    public var events: Int
    /// Bytes the database file gave back (0 on a dry run).
    public var bytesFreed: Int
    public var dryRun: Bool

    enum CodingKeys: String, CodingKey {
        case before, runs, events
        case hostRecords = "host_records"
        case findingIntervals = "finding_intervals"
        case unfixedCVEIntervals = "unfixed_cve_intervals"
        case bytesFreed = "bytes_freed"
        case dryRun = "dry_run"
    }
}

extension HistoryStore {
    /// A statement on the interval table `table`, for the intervals last seen before the cutoff:
    /// a closed one when the run that last saw it goes, an open one (see `FindingIntervals.openEnd`)
    /// when its host's latest scan is older than the cut. An interval names its last sighting by the
    /// host's sequence number only (v19), so the prune cuts each host's scans at the latest one a
    /// deleted run holds (`pruned_scans`): what was last seen at or before it goes with it, and every
    /// interval left names a scan still recorded (its host's `run_hosts` row with that `scan_seq`).
    static func lastSeenBefore(_ statement: String, _ table: String) -> String {
        """
        WITH pruned_scans AS (
            SELECT h.host, MAX(h.scan_seq) AS seq FROM runs r JOIN run_hosts h ON h.run_id = r.id
            WHERE r.started_at < ? AND h.scan_seq IS NOT NULL GROUP BY h.host)
        \(statement) \(table) WHERE (closed_seq IS NOT NULL AND EXISTS (
            SELECT 1 FROM pruned_scans p WHERE p.host = \(table).host AND p.seq >= \(table).last_seq))
        OR (closed_seq IS NULL AND \(table).host IN (SELECT host FROM scan_hosts WHERE last_at < ?))
        """
    }

    /// The cutoff once for each of the statement's placeholders.
    static func cutoffArguments(_ sql: String, _ cutoff: Date) -> [DatabaseValue] {
        Array(repeating: cutoff.databaseValue, count: sql.filter { $0 == "?" }.count)
    }

    /// PCI DSS 10.5.1 keeps a year of audit trail: the default keeps 13 months.
    public static let defaultRetentionDays = 400

    /// Deletes every run that started before `cutoff` (with its hosts, command output and
    /// deployment records), every finding interval last seen before it, and older events; records
    /// the cut as an event and in `history_meta`, so reports reaching before it say so; then gives
    /// the freed pages back to the file system. Open intervals still seen after the cut keep their
    /// true first sighting. Approvals, deferrals, exceptions and advisory data are state, not history: kept.
    public func prune(before cutoff: Date, dryRun: Bool, user: String, now: Date = Date()) throws -> PruneResult {
        let sizeBefore = isPostgres ? 0 : (try? Self.fileSize(path)) ?? 0
        var result = try recording { db -> PruneResult in
            let count = { (sql: String) throws -> Int in
                try db.rows(sql.replacingOccurrences(of: "COUNT(*)", with: "COUNT(*) AS n"), arguments: Self.cutoffArguments(sql, cutoff)).first?["n"] ?? 0
            }
            var result = PruneResult(
                before: cutoff,
                runs: try count("SELECT COUNT(*) FROM runs WHERE started_at < ?"),
                hostRecords: try count("SELECT COUNT(*) FROM run_hosts WHERE run_id IN (SELECT id FROM runs WHERE started_at < ?)"),
                findingIntervals: try count(Self.lastSeenBefore("SELECT COUNT(*) FROM", "finding_intervals")),
                unfixedCVEIntervals: try count(Self.lastSeenBefore("SELECT COUNT(*) FROM", "unfixed_cve_intervals")),
                events: try count("SELECT COUNT(*) FROM events WHERE at < ?"), bytesFreed: 0, dryRun: dryRun)
            guard !dryRun else { return result }
            // run_hosts, command_results, deploy_hosts and deploy_packages follow through ON DELETE CASCADE.
            // A host whose open intervals go is no longer as its latest sighting left it: its next scan looks again.
            // The intervals go before the runs whose scans tell which.
            for sql in ["UPDATE scan_hosts SET open_digest = NULL WHERE last_at < ?", Self.lastSeenBefore("DELETE FROM", "finding_intervals"),
                        Self.lastSeenBefore("DELETE FROM", "unfixed_cve_intervals"), "DELETE FROM runs WHERE started_at < ?", "DELETE FROM events WHERE at < ?",
                        // A CVE list no interval names any more (one pass over the intervals' digests).
                        "DELETE FROM cve_lists WHERE digest NOT IN (SELECT cves_digest FROM finding_intervals)"] {
                try db.execute(sql, arguments: Self.cutoffArguments(sql, cutoff))
            }
            let earlier: Date? = try db.rows("SELECT value FROM history_meta WHERE key = 'pruned_before'", []).first?["value"]
            // A later prune with an earlier date deleted nothing new before the first one's cut.
            let boundary = max(cutoff, earlier ?? cutoff)
            try db.execute("""
                INSERT INTO history_meta (key, value) VALUES ('pruned_before', ?), ('pruned_at', ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """, arguments: [boundary, now])
            let detail = "deleted \(result.runs) runs (\(result.hostRecords) host records), \(result.findingIntervals) finding intervals, "
                + "\(result.unfixedCVEIntervals) unfixed-CVE intervals and \(result.events) events that started before \(JSONOutput.timestamp(cutoff))"
            try Self.insert(EventRecord(at: now, user: user, action: .historyPrune, detail: detail), into: db)
            result.before = cutoff
            return result
        }
        // PostgreSQL's autovacuum makes the space reusable; the file to shrink is SQLite's.
        guard !dryRun, !isPostgres else { return result }
        try pool.writeWithoutTransaction { db in
            // Files from before migration v10's conversion may lack incremental vacuum: one full VACUUM sets it.
            if try Int.fetchOne(db, sql: "PRAGMA auto_vacuum") != 2 {
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                try db.execute(sql: "VACUUM")
                _ = try? db.checkpoint(.truncate)
            }
        }
        try Self.givePagesBack(pool)
        result.bytesFreed = max(0, sizeBefore - ((try? Self.fileSize(path)) ?? sizeBefore))
        return result
    }

    /// The cut of the last prune, if any: runs that started before it are gone.
    public func prunedBefore() throws -> (before: Date, at: Date)? {
        try reading { db in
            guard try HistoryView(db).hasTable("history_meta"),
                  let before: Date = try db.rows("SELECT value FROM history_meta WHERE key = 'pruned_before'", []).first?["value"],
                  let at: Date = try db.rows("SELECT value FROM history_meta WHERE key = 'pruned_at'", []).first?["value"] else { return nil }
            return (before, at)
        }
    }

    /// A report whose period starts before the pruned boundary says that the data there is gone.
    public func retentionWarnings(periodFrom: Date) throws -> [String] {
        guard let pruned = try prunedBefore(), periodFrom < pruned.before else { return [] }
        return ["history before \(JSONOutput.timestamp(pruned.before)) was pruned on \(ReportDate.day(pruned.at)) (`patchctl history prune`): "
                + "this report's period starts \(ReportDate.day(periodFrom)), so it has no data before the cut"]
    }
}
