import Foundation
import GRDB

/// A per-host outcome that history can store: scans with findings, commands with output.
public protocol HistoryRecord: Codable, Sendable {
    /// Work on the record that needs no database, done before the write transaction.
    associatedtype Preparation: Sendable = Void
    var name: String { get }
    var status: HostStatus { get }
    var startedAt: Date { get }
    func prepare() -> Preparation
    func insert(into db: any HistoryWriter, runId: String, prepared: Preparation) throws
    /// Writes a batch of one run's records (one transaction): each as `insert` writes it, unless
    /// the type writes what the batch has in common at once.
    static func insert(_ records: [Self], prepared: [Preparation], into db: any HistoryWriter, runId: String) throws
}

extension HistoryRecord {
    public func insert(into db: any HistoryWriter, runId: String) throws {
        try insert(into: db, runId: runId, prepared: prepare())
    }

    public static func insert(_ records: [Self], prepared: [Preparation], into db: any HistoryWriter, runId: String) throws {
        for (record, work) in zip(records, prepared) { try record.insert(into: db, runId: runId, prepared: work) }
    }
}

extension HistoryRecord where Preparation == Void {
    public func prepare() {}
}

extension HistoryStore {
    /// Every column of run_hosts (a test compares it with the schema).
    static let runHostColumns = ["run_id", "host", "address", "port", "status", "error", "os_family", "os_id", "os_name", "os_version",
                                 "os_codename", "kernel", "architecture", "reboot_required", "reboot_packages", "installed_count",
                                 "started_at", "finished_at", "scan_seq", "updates_count", "security_count"]

    /// Writes a run's host row, replacing an earlier one of the same run and host as SQLite's
    /// `INSERT OR REPLACE` did, on both stores: the columns not given go back to NULL.
    static func putRunHost(_ db: any HistoryWriter, _ values: KeyValuePairs<String, (any DatabaseValueConvertible)?>) throws {
        let columns = values.map(\.key)
        let sql = runHostStatements.text(for: columns) {
            let given = Set(columns)
            let updates = columns.filter { $0 != "run_id" && $0 != "host" }.map { "\($0) = excluded.\($0)" }
                + runHostColumns.filter { !given.contains($0) }.map { "\($0) = NULL" }
            return """
                INSERT INTO run_hosts (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
                ON CONFLICT (run_id, host) DO UPDATE SET \(updates.joined(separator: ", "))
                """
        }
        try db.execute(sql, arguments: values.map(\.value))
    }

    /// `putRunHost`'s statement for each list of columns, made once: a night writes thousands of hosts.
    private static let runHostStatements = StatementTexts()

    /// `putRunHost` for many hosts of one run at once, each row giving every column of
    /// `runHostColumns` (in that order): one statement per 200 hosts instead of one per host. The
    /// hosts must be distinct (an upsert may not touch a row twice).
    static func putRunHosts(_ db: any HistoryWriter, _ rows: [[DatabaseValue]]) throws {
        let updates = runHostColumns.filter { $0 != "run_id" && $0 != "host" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        let row = "(" + Array(repeating: "?", count: runHostColumns.count).joined(separator: ", ") + ")"
        for chunk in chunked(rows, size: 200) {
            try db.execute("""
                INSERT INTO run_hosts (\(runHostColumns.joined(separator: ", "))) VALUES \(Array(repeating: row, count: chunk.count).joined(separator: ", "))
                ON CONFLICT (run_id, host) DO UPDATE SET \(updates)
                """, chunk.flatMap { $0 })
        }
    }
}

/// SQL texts by the column lists they were made for.
final class StatementTexts: @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [[String]: String] = [:]

    func text(for columns: [String], make: () -> String) -> String {
        lock.withLock {
            if let text = texts[columns] { return text }
            let text = make()
            texts[columns] = text
            return text
        }
    }
}

/// A scan's findings as the store writes them, worked out before the write (`HistoryRecord.prepare`).
public struct ScanPreparation: Sendable {
    let findings: FindingIntervals.Prepared?
}

extension HostScan: HistoryRecord {
    /// A scan that saw the host (it succeeded, or reported findings anyway) records its findings; a failed contact, nothing (nil).
    public func prepare() -> ScanPreparation {
        ScanPreparation(findings: status == .ok || !updates.isEmpty || !unfixedCVEs.isEmpty ? FindingIntervals.Prepared(self) : nil)
    }

    public func insert(into db: any HistoryWriter, runId: String, prepared: ScanPreparation) throws {
        try Self.insert([self], prepared: [prepared], into: db, runId: runId)
    }

    /// A batch of scans, with what every host costs done once for the batch: their sequence numbers
    /// taken in one statement, their open intervals read in a few (`FindingIntervals.BatchReads`),
    /// their rows written in one, retirements looked up in one. A night of 10,000 hosts was three
    /// round trips per host before any finding was written. The
    /// sightings come first, so each host's row is written once, with its sequence number and counts.
    public static func insert(_ scans: [HostScan], prepared: [ScanPreparation], into db: any HistoryWriter, runId: String) throws {
        // A batch naming a host twice: one after the other, as each would be written.
        guard Set(scans.map(\.name)).count == scans.count else {
            for (scan, work) in zip(scans, prepared) { try insert([scan], prepared: [work], into: db, runId: runId) }
            return
        }
        let seen = zip(scans, prepared).compactMap { scan, work in work.findings.map { (scan, $0) } }
        let sightings = try FindingIntervals.nextSequences(db, runId: runId, hosts: seen.map { ($0.0.name, $0.0.startedAt, $0.1.digest) })
        let reads = try FindingIntervals.batchReads(db, seen.compactMap { scan, findings in sightings[scan.name].map { ($0, findings) } })
        var counts: [String: (seq: Int64, updates: Int, security: Int)] = [:]
        var writes = FindingIntervals.IntervalWrites(db)
        for (scan, findings) in seen {
            guard let sighting = sightings[scan.name] else {
                throw PatchError.store(path: db.source, message: "no sequence number for \(scan.name)")
            }
            try FindingIntervals.record(db, findings, at: sighting, reads: reads, writes: &writes)
            counts[scan.name] = (sighting.seq, findings.updates.count, findings.updates.filter(\.security).count)
        }
        try writes.flush()
        try HistoryStore.putRunHosts(db, scans.map { $0.runHostRow(runId: runId, sighting: counts[$0.name]) })
        let reached = scans.filter { counts[$0.name] != nil && $0.status == .ok }
        let retired = try HistoryStore.retiredInForce(db, hosts: reached.map(\.name))
        for scan in reached where retired.contains(scan.name) {
            try HistoryStore.reappeared(db, host: scan.name, runId: runId, startedAt: scan.startedAt, at: scan.finishedAt)
        }
    }

    /// The host's row of run_hosts, every column in `HistoryStore.runHostColumns` order.
    func runHostRow(runId: String, sighting: (seq: Int64, updates: Int, security: Int)?) -> [DatabaseValue] {
        let values: [(any DatabaseValueConvertible)?] = [
            runId, name, address, port, status.rawValue, error, os?.family.rawValue, os?.id, os?.name, os?.version, os?.codename,
            os?.kernel, os?.architecture, rebootRequired, rebootPackages.isEmpty ? nil : rebootPackages.joined(separator: "\n"), installedCount,
            startedAt, finishedAt, sighting?.seq, sighting?.updates, sighting?.security,
        ]
        return values.map { $0?.databaseValue ?? .null }
    }

    /// For a host row already written (the v10 conversion): records the sighting and sets the row's columns for it.
    func recordFindings(into db: any HistoryWriter, runId: String) throws {
        guard let prepared = prepare().findings else { return }
        let sighting = try recordSighting(into: db, runId: runId, prepared)
        try db.execute("UPDATE run_hosts SET scan_seq = ?, updates_count = ?, security_count = ? WHERE run_id = ? AND host = ?",
                       arguments: [sighting.seq, sighting.updates, sighting.security, runId, name])
        if status == .ok { try HistoryStore.reappeared(db, host: name, runId: runId, startedAt: startedAt, at: finishedAt) }
    }

    /// Takes the host's next sequence number and moves its finding intervals; returns the number
    /// and the counts `history` lists.
    func recordSighting(into db: any HistoryWriter, runId: String, _ prepared: FindingIntervals.Prepared) throws -> (seq: Int64, updates: Int, security: Int) {
        let sighting = try FindingIntervals.nextSequence(db, host: name, runId: runId, at: startedAt, digest: prepared.digest)
        try FindingIntervals.record(db, prepared, at: sighting)
        return (sighting.seq, prepared.updates.count, prepared.updates.filter(\.security).count)
    }
}

extension ExecResult: HistoryRecord {
    /// Output kept per host is capped so one chatty command cannot bloat history.
    static let storedOutputLimit = 1 << 20

    public func insert(into db: any HistoryWriter, runId: String, prepared: Void) throws {
        try HistoryStore.putRunHost(db, [
            "run_id": runId, "host": name, "address": address, "port": port, "status": status.rawValue, "error": error,
            "started_at": startedAt, "finished_at": finishedAt,
        ])
        try db.execute("""
            INSERT INTO command_results (run_id, host, exit_code, stdout, stderr, duration_ms) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (run_id, host) DO UPDATE SET exit_code = excluded.exit_code, stdout = excluded.stdout, stderr = excluded.stderr,
                duration_ms = excluded.duration_ms
            """, arguments: [runId, name, exitCode, Self.capped(stdout), Self.capped(stderr), durationMs])
    }

    static func capped(_ text: String) -> String {
        guard text.utf8.count > storedOutputLimit else { return text }
        return String(decoding: text.utf8.prefix(storedOutputLimit), as: UTF8.self) + "\n[patchctl: output truncated]"
    }
}
