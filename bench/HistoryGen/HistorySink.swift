import Foundation
import GRDB
import PatchCore

/// Where generated runs go: patchctl's own store (`current`), or the per-run rows of schema v9
/// exactly as patchctl wrote them before interval storage (`legacy`), for the migration to convert.
protocol HistorySink {
    mutating func beginRun(startedAt: Date) throws -> String
    /// A night's hosts, written `batch` at a time as the engine records them.
    mutating func record(runId: String, hosts: [HostScan], batch: Int) throws
    mutating func finishRun(runId: String, finishedAt: Date) throws
}

/// What `patchctl scan` passes for a run of the fleet inventory.
enum ScanRunFacts {
    static let inventory = "inventories/fleet.yml"
    static let options = "forks=50 refresh=false"
    /// PatchctlVersion.current (PatchctlCLI's) at the time of writing.
    static let version = "0.1.0"
}

/// Through PatchCore's public store API only, so it stays right whatever the storage becomes.
struct CurrentSink: HistorySink {
    let store: HistoryStore

    /// `location`: a new SQLite file, or a PostgreSQL history by URL (`postgres://…`), which must hold no run yet.
    init(location: String) async throws {
        store = try await HistoryStore.open(recording: location, environment: ProcessInfo.processInfo.environment)
        if PostgresLocation.isURL(location), let run = try store.runs(limit: 1).first {
            throw UsageError("\(location) already holds runs (\(run.runId) …): the generator writes a new history only")
        }
    }

    func beginRun(startedAt: Date) throws -> String {
        try store.beginRun(kind: .scan, startedAt: startedAt, inventory: ScanRunFacts.inventory, hostPattern: nil,
                           options: ScanRunFacts.options, version: ScanRunFacts.version)
    }

    /// The night's recorder: what the engine records a scan's hosts through.
    private var recorder: RunRecorder<HostScan>?

    /// Through `RunRecorder`, as a scan records its hosts (each batch prepared while the one before is written);
    /// returns once every host is written.
    mutating func record(runId: String, hosts: [HostScan], batch: Int) throws {
        let recorder = RunRecorder<HostScan>(store: store, runId: runId, batchSize: batch)
        for host in hosts { recorder.add(host) }
        try recorder.flush()
        self.recorder = recorder
    }

    /// Ends the run through the night's recorder, which throws if any of its writes failed (they were journaled).
    mutating func finishRun(runId: String, finishedAt: Date) throws {
        guard let recorder, recorder.runId == runId else { return try store.finishRun(runId: runId, finishedAt: finishedAt) }
        self.recorder = nil
        try recorder.finish(at: finishedAt)
    }
}

/// Schema v9 (`HistoryStore.createDatabase(atPath:upTo:)`) written with the SQL of patchctl before
/// interval storage: `beginRun`, `finishRun` (Store/HistoryStore+Runs.swift) and `HostScan.insert`
/// with `insertCVEs` (Store/HistoryRecord.swift), copied statement for statement and bound with
/// the same Swift types, so GRDB stores the same bytes (dates as `yyyy-MM-dd HH:mm:ss.SSS`).
struct LegacySink: HistorySink {
    static let lastMigration = "v9: advisory feeds and finding CVEs"
    let pool: DatabasePool
    private var random: SeededRandom

    init(path: String, seed: UInt64) throws {
        try HistoryStore.createDatabase(atPath: path, upTo: Self.lastMigration)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        // A larger page cache than SQLite's 2 MB default: the same rows and bytes, written in a
        // fraction of the time (the random-order index inserts of a multi-GB file stay in memory).
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -524288") }
        pool = try DatabasePool(path: path, configuration: configuration)
        random = SeededRandom(seed: seed, stream: 7)
    }

    mutating func beginRun(startedAt: Date) throws -> String {
        let id = Self.runID(startedAt, suffix: UInt32(truncatingIfNeeded: random.next()) & 0xFFFFFF)
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, kind, started_at, state, inventory, host_pattern, options, patchctl_version, policy, user)
                VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)
                """, arguments: [id, RunKind.scan, startedAt, ScanRunFacts.inventory, nil as String?, ScanRunFacts.options,
                                 ScanRunFacts.version, nil as String?, nil as String?])
        }
        return id
    }

    func record(runId: String, hosts: [HostScan], batch: Int) throws {
        for first in stride(from: 0, to: hosts.count, by: batch) {
            try pool.write { db in
                for host in hosts[first..<min(first + batch, hosts.count)] { try Self.insert(host, into: db, runId: runId) }
            }
        }
    }

    func finishRun(runId: String, finishedAt: Date) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE runs SET finished_at = ?, state = ?, report = COALESCE(?, report) WHERE id = ?",
                           arguments: [finishedAt, RunState.finished.rawValue, nil as String?, runId])
        }
    }

    /// HistoryStore.makeRunID: UTC start time plus 24 random bits (seeded here).
    static func runID(_ date: Date, suffix: UInt32) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date) + "-" + String(format: "%06x", suffix)
    }

    /// HostScan.insert(into:runId:) and insertCVEs as of migration v9.
    static func insert(_ scan: HostScan, into db: Database, runId: String) throws {
        let os = scan.os
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO run_hosts (run_id, host, address, port, status, error, os_family, os_id, os_name,
                os_version, os_codename, kernel, architecture, reboot_required, reboot_packages, installed_count,
                started_at, finished_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                runId, scan.name, scan.address, scan.port, scan.status.rawValue, scan.error,
                os?.family.rawValue, os?.id, os?.name, os?.version, os?.codename, os?.kernel, os?.architecture,
                scan.rebootRequired, scan.rebootPackages.isEmpty ? nil : scan.rebootPackages.joined(separator: "\n"), scan.installedCount,
                scan.startedAt, scan.finishedAt,
            ])
        let finding = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO findings (run_id, host, package, installed_version, available_version, source, security, architecture, severity)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for update in scan.updates {
            try finding.execute(arguments: [
                runId, scan.name, update.name, update.installedVersion, update.availableVersion, update.source, update.security, update.architecture ?? "",
                update.severity,
            ])
        }
        let fixes = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO finding_cves (run_id, host, package, architecture, cve, severity, vendor_severity, cvss, kev, epss, fixed_version, source)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for update in scan.updates {
            for cve in update.cves {
                try fixes.execute(arguments: [
                    runId, scan.name, update.name, update.architecture ?? "", cve.id, cve.severity.name, cve.vendorSeverity, cve.cvss, cve.kev,
                    cve.epss, cve.fixedVersion, cve.source,
                ])
            }
        }
        let open = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO unfixed_cves (run_id, host, cve, source_package, package, packages, severity, vendor_severity, cvss, kev, fixed_version, feed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for cve in scan.unfixedCVEs {
            try open.execute(arguments: [
                runId, scan.name, cve.id, cve.source, cve.package, cve.packages.joined(separator: "\n"), cve.severity.name, cve.vendorSeverity,
                cve.cvss, cve.kev, cve.fixedVersion, cve.feed,
            ])
        }
    }
}
