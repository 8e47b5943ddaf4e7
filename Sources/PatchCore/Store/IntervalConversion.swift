import Foundation
import GRDB

/// Converts a v9 history's per-run finding rows into intervals (migration v10), host by host, in
/// batches that each commit with their hosts marked done: an interrupted conversion resumes where
/// it stopped on the next open, and readers never see a half-converted host. Each host's scans
/// are replayed in run order through the same code a new scan is recorded with, so a converted
/// history answers exactly as a recorded one would.
enum IntervalConversion {
    /// Called after each batch with (hosts done, hosts in all); set by the CLI when stderr is a TTY.
    static let progress = ProgressObserver()

    /// `stopAfterBatches` stands for an interruption, in tests.
    static func run(_ pool: DatabasePool, batchSize: Int = 100, stopAfterBatches: Int? = nil) throws {
        let hosts: [String] = try pool.write { db in
            guard try HistoryStore.intervalConversionPending(db) else { return [] }
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS interval_conversion (host TEXT PRIMARY KEY)")
            // The per-run CVE tables are keyed by run and CVE: reading them host by host needs these
            // (dropped with the tables). legacy_findings has (host, package, …) already.
            try db.execute(sql: """
                CREATE INDEX IF NOT EXISTS legacy_finding_cves_by_host ON legacy_finding_cves(host);
                CREATE INDEX IF NOT EXISTS legacy_unfixed_cves_by_host ON legacy_unfixed_cves(host);
                """)
            return try String.fetchAll(db, sql: """
                SELECT DISTINCT host FROM run_hosts WHERE host NOT IN (SELECT host FROM interval_conversion) ORDER BY host
                """)
        }
        guard try pool.read({ try HistoryStore.intervalConversionPending($0) }) else { return }
        let done = try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM interval_conversion") ?? 0 }
        let total = done + hosts.count
        var converted = done
        for (index, start) in stride(from: 0, to: hosts.count, by: batchSize).enumerated() {
            if let stopAfterBatches, index == stopAfterBatches { return }
            let batch = hosts[start..<min(start + batchSize, hosts.count)]
            try pool.write { db in
                for host in batch {
                    try convert(db, host: host)
                    try db.execute(sql: "INSERT INTO interval_conversion (host) VALUES (?)", arguments: [host])
                }
            }
            converted += batch.count
            progress.report(done: converted, total: total)
        }
        try pool.write { db in try HistoryStore.finishIntervalConversion(db) }
        // The legacy rows' pages go back to the file system, and from now on pruning returns them too.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
            try db.execute(sql: "VACUUM")
        }
    }

    /// Replays one host's successful scans, oldest first.
    static func convert(_ db: Database, host: String) throws {
        var updates: [String: [PendingUpdate]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT run_id, package, architecture, installed_version, available_version, source, security, severity
            FROM legacy_findings WHERE host = ? ORDER BY run_id, package, architecture
            """, arguments: [host]) {
            updates[row["run_id"], default: []].append(PendingUpdate(
                name: row["package"], installedVersion: row["installed_version"], availableVersion: row["available_version"],
                source: row["source"], security: row["security"], architecture: HistoryStore.architecture(row["architecture"]),
                severity: row["severity"], advisories: AdvisoryIDs.inLegacySource(row["source"])))
        }
        var cves: [String: [CVEReference]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM legacy_finding_cves WHERE host = ?", arguments: [host]) {
            let key = (row["run_id"] as String) + "\n" + (row["package"] as String) + "\n" + (row["architecture"] as String)
            cves[key, default: []].append(HistoryStore.cveReference(row))
        }
        var unfixed: [String: [UnfixedCVE]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT * FROM legacy_unfixed_cves WHERE host = ?", arguments: [host]) {
            unfixed[row["run_id"], default: []].append(HistoryStore.unfixedCVE(row))
        }
        let contacts = try Row.fetchAll(db, sql: """
            SELECT h.run_id, h.status, h.started_at FROM run_hosts h JOIN runs r ON r.id = h.run_id
            WHERE h.host = ? AND r.kind = 'scan' ORDER BY h.run_id
            """, arguments: [host])
        for contact in contacts {
            let runId: String = contact["run_id"]
            let found = updates[runId] ?? []
            let open = unfixed[runId] ?? []
            guard contact["status"] == HostStatus.ok.rawValue || !found.isEmpty || !open.isEmpty else { continue }
            var scan = HostScan(name: host, address: "", port: 0, status: .ok, updates: found.map { update in
                var copy = update
                copy.cves = cves[runId + "\n" + update.name + "\n" + (update.architecture ?? "")] ?? []
                return copy
            }, startedAt: contact["started_at"], finishedAt: contact["started_at"])
            scan.unfixedCVEs = open
            try scan.recordFindings(into: SQLiteConnection(db: db, source: "history"), runId: runId)
        }
    }
}

/// A thread-safe slot for one progress callback.
final class ProgressObserver: @unchecked Sendable {
    private let lock = NSLock()
    private var observer: (@Sendable (Int, Int) -> Void)?

    func set(_ observer: (@Sendable (Int, Int) -> Void)?) {
        lock.withLock { self.observer = observer }
    }

    func report(done: Int, total: Int) {
        lock.withLock { observer }?(done, total)
    }
}

extension HistoryStore {
    /// Shows the progress of converting an older history (migration v10), as (hosts done, hosts in all).
    public static func onConversionProgress(_ observer: (@Sendable (Int, Int) -> Void)?) {
        IntervalConversion.progress.set(observer)
    }
}
