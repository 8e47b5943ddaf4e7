import Foundation
import GRDB

/// A per-host outcome that history can store: scans with findings, commands with output.
public protocol HistoryRecord: Codable, Sendable {
    var name: String { get }
    var status: HostStatus { get }
    var startedAt: Date { get }
    func insert(into db: Database, runId: String) throws
}

extension HostScan: HistoryRecord {
    public func insert(into db: Database, runId: String) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO run_hosts (run_id, host, address, port, status, error, os_family, os_id, os_name,
                os_version, os_codename, kernel, architecture, reboot_required, reboot_packages, installed_count,
                started_at, finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                runId, name, address, port, status.rawValue, error,
                os?.family.rawValue, os?.id, os?.name, os?.version, os?.codename, os?.kernel, os?.architecture,
                rebootRequired, rebootPackages.isEmpty ? nil : rebootPackages.joined(separator: "\n"), installedCount,
                startedAt, finishedAt,
            ])
        try recordFindings(into: db, runId: runId)
    }

    /// A scan that saw the host (it succeeded, or reported findings anyway) takes the host's next
    /// sequence number and moves its finding intervals; a failed contact leaves them as they are.
    func recordFindings(into db: Database, runId: String) throws {
        guard status == .ok || !updates.isEmpty || !unfixedCVEs.isEmpty else { return }
        let sighting = try FindingIntervals.nextSequence(db, host: name, runId: runId, at: startedAt)
        try FindingIntervals.record(db, scan: self, at: sighting)
        let counted = Dictionary(updates.map { ($0.name + "\n" + ($0.architecture ?? ""), $0.security) }, uniquingKeysWith: { _, last in last })
        try db.cachedStatement(sql: "UPDATE run_hosts SET scan_seq = ?, updates_count = ?, security_count = ? WHERE run_id = ? AND host = ?")
            .execute(arguments: [sighting.seq, counted.count, counted.values.filter { $0 }.count, runId, name])
        if status == .ok { try HistoryStore.reappeared(db, host: name, runId: runId, startedAt: startedAt, at: finishedAt) }
    }
}

extension ExecResult: HistoryRecord {
    /// Output kept per host is capped so one chatty command cannot bloat history.
    static let storedOutputLimit = 1 << 20

    public func insert(into db: Database, runId: String) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO run_hosts (run_id, host, address, port, status, error, started_at, finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [runId, name, address, port, status.rawValue, error, startedAt, finishedAt])
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO command_results (run_id, host, exit_code, stdout, stderr, duration_ms) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [runId, name, exitCode, Self.capped(stdout), Self.capped(stderr), durationMs])
    }

    static func capped(_ text: String) -> String {
        guard text.utf8.count > storedOutputLimit else { return text }
        return String(decoding: text.utf8.prefix(storedOutputLimit), as: UTF8.self) + "\n[patchctl: output truncated]"
    }
}
