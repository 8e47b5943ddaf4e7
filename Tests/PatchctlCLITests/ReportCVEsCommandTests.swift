import Foundation
import PatchCore
import Testing

/// `patchctl report cves` in-process on a history recorded through the store, with the CVEs
/// the scan matched stored beside each finding (as `patchctl scan` stores them).
@Suite("patchctl report cves CLI")
struct ReportCVEsCommandTests {
    typealias CLI = InProcessCLI

    /// web1 and web2 both pending xz-utils (CVE-2024-3094, critical, KEV); web1 also curl
    /// (CVE-2025-0202, medium) and an open libtiff CVE with no fix; one scan a minute ago.
    static func history() throws -> String {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("history.db").path
        let store = try HistoryStore(path: db)
        let end = Date().addingTimeInterval(-60)
        func update(_ name: String, _ cve: String, _ severity: Severity, kev: Bool = false) -> PendingUpdate {
            PendingUpdate(name: name, installedVersion: "1.0", availableVersion: "1.1", source: "Debian-Security:12/bookworm-security", security: true,
                          architecture: "amd64", cves: [CVEReference(id: cve, severity: severity, vendorSeverity: severity.name, kev: kev, fixedVersion: "1.1",
                                                                     source: "debian-tracker")])
        }
        let xz = update("xz-utils", "CVE-2024-3094", .critical, kev: true)
        let id = try store.beginRun(kind: .scan, startedAt: end.addingTimeInterval(-5), inventory: nil, hostPattern: "all", options: nil, version: "test")
        let recorder = RunRecorder<HostScan>(store: store, runId: id)
        var web1 = HostScan(name: "web1", address: "127.0.0.1", port: 22, status: .ok, os: ScannedHistory.debian, rebootRequired: false,
                            installedCount: 300, updates: [xz, update("curl", "CVE-2025-0202", .medium)],
                            startedAt: end.addingTimeInterval(-4), finishedAt: end.addingTimeInterval(-1))
        web1.unfixedCVEs = [UnfixedCVE(id: "CVE-2025-0303", package: "libtiff6", packages: ["libtiff6"], source: "tiff", severity: .low,
                                       vendorSeverity: "low", feed: "debian-tracker")]
        recorder.add(web1)
        recorder.add(HostScan(name: "web2", address: "127.0.0.2", port: 22, status: .ok, os: ScannedHistory.debian, rebootRequired: false,
                              installedCount: 300, updates: [xz], startedAt: end.addingTimeInterval(-4), finishedAt: end.addingTimeInterval(-1)))
        try recorder.finish(at: end)
        return db
    }

    @Test func whichHostsStillHaveACVE() async throws {
        let db = try Self.history()
        let table = await CLI.run(["report", "cves", "--db", db, "--cve", "cve-2024-3094"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("\nCVE-2024-3094: 2 hosts\n") && table.stdout.contains("  web1  xz-utils") && table.stdout.contains("  web2  xz-utils"),
                "\(table.stdout)")
        #expect(!table.stdout.contains("CVE-2025-0202"))
        #expect(table.stderr.contains("patchctl: warning: no advisory feed"), "no feed synced, Debian hosts scanned")

        let jsonRun = await CLI.run(["report", "cves", "--db", db, "--format", "json"])
        let json = try CLI.json(jsonRun.stdout)
        #expect(jsonRun.stderr.isEmpty, "JSON carries the warnings itself: \(jsonRun.stderr)")
        #expect((json["warnings"] as? [String])?.first?.hasPrefix("no advisory feed") == true)
        let cves = try #require(json["cves"] as? [[String: Any]])
        #expect(cves.compactMap { $0["id"] as? String } == ["CVE-2024-3094", "CVE-2025-0202", "CVE-2025-0303"])
        #expect((cves[0]["hosts"] as? [[String: Any]])?.compactMap { $0["host"] as? String } == ["web1", "web2"] && cves[0]["kev"] as? Bool == true)
        #expect((cves[2]["hosts"] as? [[String: Any]])?.first?["fixable"] as? Bool == false)

        func ids(_ extra: [String]) async throws -> [String] {
            let run = await CLI.run(["report", "cves", "--db", db, "--format", "json"] + extra)
            return try #require(try CLI.json(run.stdout)["cves"] as? [[String: Any]]).compactMap { $0["id"] as? String }
        }
        #expect(try await ids(["--kev"]) == ["CVE-2024-3094"])
        #expect(try await ids(["--min-severity", "medium"]) == ["CVE-2024-3094", "CVE-2025-0202"])
        #expect(try await ids(["--host", "web2"]) == ["CVE-2024-3094"])
        #expect(try await ids(["--limit", "1"]) == ["CVE-2024-3094"])

        let csv = await CLI.run(["report", "cves", "--db", db, "--format", "csv"])
        #expect(csv.stdout.hasPrefix(CSVReport.cveColumns.joined(separator: ",") + "\r\n") && csv.stdout.components(separatedBy: "\r\n").count == 6)
        let html = FileManager.default.temporaryDirectory.appendingPathComponent("cves-\(UUID().uuidString).html").path
        let written = await CLI.run(["report", "cves", "--db", db, "-o", html])
        #expect(written.status == 0 && written.stderr.contains("wrote \(html): 3 CVEs on 2 hosts (1 KEV, 1 without a fix on some host)"))
        #expect(try String(contentsOfFile: html, encoding: .utf8).contains("<h1>Open CVEs</h1>"))

        #expect(await CLI.run(["report", "cves", "--db", db, "--cve", "GHSA-xxxx"]).status == 64)
        #expect(await CLI.run(["report", "cves", "--db", db, "--min-severity", "urgent"]).status == 64)
        #expect(await CLI.run(["report", "cves", "--db", db, "--limit", "0"]).status == 64)
    }
}
