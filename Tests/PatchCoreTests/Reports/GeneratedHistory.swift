import Foundation
import Testing
@testable import PatchCore

/// Histories written through the store's own APIs (the ones scan and deploy use), at chosen
/// dates, so reports can be checked against edge cases that would take weeks to happen live.
struct GeneratedHistory {
    let store: HistoryStore
    let folder: URL

    /// 2026-01-01T00:00:00Z: day 0 of every generated history.
    static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

    static func day(_ n: Double, hour: Double = 2) -> Date {
        epoch.addingTimeInterval(n * 86_400 + hour * 3600)
    }

    static func fresh() throws -> GeneratedHistory {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return GeneratedHistory(store: try HistoryStore(path: folder.appendingPathComponent("history.db").path), folder: folder)
    }

    static let debian = OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm",
                               kernel: "6.1.0-28-amd64", architecture: "x86_64")

    static func update(_ name: String, _ installed: String, _ available: String, security: Bool = true,
                       source: String = "Debian-Security:12/oldstable-security") -> PendingUpdate {
        PendingUpdate(name: name, installedVersion: installed, availableVersion: available, source: source, security: security, architecture: "amd64")
    }

    /// A successful scan result, or (with `status`) a failed contact.
    static func host(_ name: String, at date: Date, _ updates: [PendingUpdate] = [], status: HostStatus = .ok, reboot: Bool = false) -> HostScan {
        let ok = status == .ok
        return HostScan(name: name, address: "10.0.0.1", port: 22, status: status, error: ok ? nil : "connect: connection refused",
                        os: ok ? debian : nil, rebootRequired: ok ? reboot : nil, installedCount: ok ? 400 : nil, updates: ok ? updates : [],
                        startedAt: date.addingTimeInterval(-2), finishedAt: date)
    }

    /// Records a scan run the way `patchctl scan` does; returns its id.
    @discardableResult
    func scan(at date: Date, _ hosts: [HostScan]) throws -> String {
        let id = try store.beginRun(kind: .scan, startedAt: date.addingTimeInterval(-3), inventory: "inventory.yml", hostPattern: nil,
                                    options: nil, version: "test")
        try store.record(runId: id, hosts: hosts)
        try store.finishRun(runId: id, finishedAt: date.addingTimeInterval(1))
        return id
    }

    /// Records a deployment of `policy` that installed `installed` on `host` (each update at its available version).
    @discardableResult
    func deploy(at date: Date, policy: String, host name: String, installed: [PendingUpdate], left: [PendingUpdate] = [],
                notInstalled: [PendingUpdate] = [], status: HostStatus = .ok, reboot: Bool = false, os: OSInfo = debian) throws -> String {
        let id = try store.beginRun(kind: .deploy, startedAt: date.addingTimeInterval(-60), inventory: "inventory.yml", hostPattern: nil,
                                    options: nil, version: "test", policy: policy, user: "tester")
        var record = DeployHostRecord(host: Host(name: name), status: status, ring: "all", batch: 1,
                                startedAt: date.addingTimeInterval(-50), finishedAt: date)
        record.os = os
        record.rebootRequired = reboot
        // `notInstalled`: selected and planned, but not installed (the host was deferred, say).
        record.planned = (installed + notInstalled).map(PlannedUpdate.init)
        record.installed = installed.map { InstalledPackage(name: $0.name, fromVersion: $0.installedVersion, toVersion: $0.availableVersion) }
        // As DeployRunner's plan records them: with the scan's finding.
        record.skipped = left.map { SkippedUpdate($0, reason: $0.security ? "held by policy (hold: \($0.name))" : "not a security update") }
        try store.record(runId: id, hosts: [record])
        let report = DeployRunSummary(outcome: .finished, dryRun: false, rings: [RingReport(name: "all", hosts: 1, failed: 0, state: .ran)], notes: [])
        try store.finishRun(runId: id, finishedAt: date.addingTimeInterval(1), report: StoreCodec.encode(report))
        return id
    }

    /// An inventory file: group → hosts.
    func inventory(_ groups: [String: [String]]) throws -> String {
        var yaml = "all:\n  children:\n"
        for (group, hosts) in groups.sorted(by: { $0.key < $1.key }) {
            yaml += "    \(group):\n      hosts:\n" + hosts.map { "        \($0):\n" }.joined()
        }
        let path = folder.appendingPathComponent("inventory.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func request(_ kind: ComplianceRequest.Kind = .compliance, asOf: Date, inventory: String? = nil, since: String = "45d",
                 standard: String = "pci-dss", policy: String? = nil, staleDays: Int? = nil, format: ReportFormat = .json) -> ComplianceRequest {
        ComplianceRequest(kind: kind, database: store.path, standard: standard, policy: policy, inventory: inventory, asOf: asOf, since: since,
                          staleDays: staleDays, format: format, environment: [:], currentDirectory: folder.path)
    }

    /// The fleet every report test reads (times are 02:00 UTC on the day given):
    /// - web1 (web): openssl pending from day 0, never patched: past PCI's 30 days on day 30.
    /// - web2 (web): openssl from day 0, installed by a `linux-security` deployment on day 5.
    /// - db1 (db): libpq from day 0 under an exception (owner dba) until day 35; zlib from day 0,
    ///   gone from the day-10 scan (installed outside patchctl).
    /// - gone1 (db): scanned on day 0, unreachable on days 10, 20 and 38.
    /// - new1 (web): in the inventory, never scanned.
    /// Scans on days 0, 10, 20 and 38.
    static func fleet() throws -> (history: GeneratedHistory, inventory: String, exceptionId: Int64) {
        let history = try fresh()
        let openssl = update("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2")
        let libssl = update("libssl3", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2")
        let tzdata = update("tzdata", "2024a-0+deb12u1", "2025b-0+deb12u1", security: false, source: "Debian:12.11/oldstable-updates")
        let libpq = update("libpq5", "15.8-0+deb12u1", "15.13-0+deb12u1", source: "Vendor \"PGDG\", security")
        let zlib = update("zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1")
        let curl = update("curl", "7.88.1-10+deb12u7", "7.88.1-10+deb12u12")
        try history.scan(at: day(0), [host("web1", at: day(0), [libssl, openssl, tzdata]), host("web2", at: day(0), [openssl]),
                                      host("db1", at: day(0), [libpq, zlib]), host("gone1", at: day(0), [curl])])
        try history.deploy(at: day(5), policy: "linux-security", host: "web2", installed: [openssl])
        for n in [10.0, 20, 38] {
            try history.scan(at: day(n), [host("web1", at: day(n), [libssl, openssl, tzdata]), host("web2", at: day(n), []),
                                          host("db1", at: day(n), [libpq], reboot: true), host("gone1", at: day(n), status: .unreachable)])
        }
        let id = try history.store.addException(host: "db1", target: "libpq5", until: day(35, hour: 0), reason: "vendor fix pending, see CHG-42",
                                                owner: "dba", by: "auditor", at: day(12))
        let inventory = try history.inventory(["web": ["web1", "web2", "new1"], "db": ["db1", "gone1"]])
        return (history, inventory, id)
    }
}
