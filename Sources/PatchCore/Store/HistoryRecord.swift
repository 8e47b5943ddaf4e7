import Foundation
import GRDB

/// A per-host outcome that history can store: scans with findings, commands with output.
public protocol HistoryRecord: Codable, Sendable {
    var name: String { get }
    var status: HostStatus { get }
    var startedAt: Date { get }
    func insert(into db: any HistoryWriter, runId: String) throws
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
        let given = Set(columns)
        let updates = columns.filter { $0 != "run_id" && $0 != "host" }.map { "\($0) = excluded.\($0)" }
            + runHostColumns.filter { !given.contains($0) }.map { "\($0) = NULL" }
        try db.execute("""
            INSERT INTO run_hosts (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
            ON CONFLICT (run_id, host) DO UPDATE SET \(updates.joined(separator: ", "))
            """, arguments: values.map(\.value))
    }
}

extension HostScan: HistoryRecord {
    public func insert(into db: any HistoryWriter, runId: String) throws {
        // The sighting first, so the host's row is written once, with its sequence number and counts.
        let sighting = try recordSighting(into: db, runId: runId)
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
        guard let sighting = try recordSighting(into: db, runId: runId) else { return }
        try db.execute("UPDATE run_hosts SET scan_seq = ?, updates_count = ?, security_count = ? WHERE run_id = ? AND host = ?",
                       arguments: [sighting.seq, sighting.updates, sighting.security, runId, name])
        if status == .ok { try HistoryStore.reappeared(db, host: name, runId: runId, startedAt: startedAt, at: finishedAt) }
    }

    /// A scan that saw the host (it succeeded, or reported findings anyway) takes the host's next
    /// sequence number and moves its finding intervals; a failed contact leaves them as they are (nil).
    /// Returns the number and the counts `history` lists.
    func recordSighting(into db: any HistoryWriter, runId: String) throws -> (seq: Int64, updates: Int, security: Int)? {
        guard status == .ok || !updates.isEmpty || !unfixedCVEs.isEmpty else { return nil }
        let sighting = try FindingIntervals.nextSequence(db, host: name, runId: runId, at: startedAt)
        try FindingIntervals.record(db, scan: self, at: sighting)
        let counted = Dictionary(updates.map { ($0.name + "\n" + ($0.architecture ?? ""), $0.security) }, uniquingKeysWith: { _, last in last })
        return (sighting.seq, counted.count, counted.values.filter { $0 }.count)
    }
}

extension ExecResult: HistoryRecord {
    /// Output kept per host is capped so one chatty command cannot bloat history.
    static let storedOutputLimit = 1 << 20

    public func insert(into db: any HistoryWriter, runId: String) throws {
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
