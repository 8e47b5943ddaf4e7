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
}

extension HistoryRecord {
    public func insert(into db: any HistoryWriter, runId: String) throws {
        try insert(into: db, runId: runId, prepared: prepare())
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
        // The sighting first, so the host's row is written once, with its sequence number and counts.
        let sighting = try prepared.findings.map { try recordSighting(into: db, runId: runId, $0) }
        try HistoryStore.putRunHost(db, [
            "run_id": runId, "host": name, "address": address, "port": port, "status": status.rawValue, "error": error,
            "os_family": os?.family.rawValue, "os_id": os?.id, "os_name": os?.name, "os_version": os?.version, "os_codename": os?.codename,
            "kernel": os?.kernel, "architecture": os?.architecture, "reboot_required": rebootRequired,
            "reboot_packages": rebootPackages.isEmpty ? nil : rebootPackages.joined(separator: "\n"), "installed_count": installedCount,
            "started_at": startedAt, "finished_at": finishedAt,
            "scan_seq": sighting?.seq, "updates_count": sighting?.updates, "security_count": sighting?.security,
        ])
        if sighting != nil, status == .ok { try HistoryStore.reappeared(db, host: name, runId: runId, startedAt: startedAt, at: finishedAt) }
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
