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
        // A finding is (package, architecture): '' stands for an architecture the platform did not name.
        let finding = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO findings (run_id, host, package, installed_version, available_version, source, security, architecture, severity)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for update in updates {
            try finding.execute(arguments: [
                runId, name, update.name, update.installedVersion, update.availableVersion, update.source, update.security, update.architecture ?? "",
                update.severity,
            ])
        }
        try insertCVEs(into: db, runId: runId)
    }

    /// The CVEs matched to each finding, and the host's unfixed ones (tables of migration v9).
    func insertCVEs(into db: Database, runId: String) throws {
        let fixes = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO finding_cves (run_id, host, package, architecture, cve, severity, vendor_severity, cvss, kev, epss, fixed_version, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for update in updates {
            for cve in update.cves {
                try fixes.execute(arguments: [
                    runId, name, update.name, update.architecture ?? "", cve.id, cve.severity.name, cve.vendorSeverity, cve.cvss, cve.kev,
                    cve.epss, cve.fixedVersion, cve.source,
                ])
            }
        }
        let open = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO unfixed_cves (run_id, host, cve, source_package, package, packages, severity, vendor_severity, cvss, kev, fixed_version, feed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for cve in unfixedCVEs {
            try open.execute(arguments: [
                runId, name, cve.id, cve.source, cve.package, cve.packages.joined(separator: "\n"), cve.severity.name, cve.vendorSeverity,
                cve.cvss, cve.kev, cve.fixedVersion, cve.feed,
            ])
        }
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
