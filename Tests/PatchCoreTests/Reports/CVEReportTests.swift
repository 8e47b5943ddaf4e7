import Foundation
import GRDB
import Testing
@testable import PatchCore

/// `report cves` over histories recorded through the store, with the CVEs a scan matched stored
/// beside its findings (finding_cves, unfixed_cves) as `patchctl scan` stores them.
@Suite("CVE report: pivot by CVE over the latest scans")
struct CVEReportTests {
    typealias G = GeneratedHistory

    static let xz = "CVE-2024-3094"
    static let openssl = "CVE-2025-0101"
    static let curl = "CVE-2025-0202"
    static let tiff = "CVE-2025-0303"

    static func cve(_ id: String, _ severity: Severity, word: String?, kev: Bool = false, fixed: String) -> CVEReference {
        CVEReference(id: id, severity: severity, vendorSeverity: word, kev: kev, fixedVersion: fixed, source: "debian-tracker")
    }

    static func fixing(_ name: String, _ installed: String, _ available: String, _ cves: [CVEReference]) -> PendingUpdate {
        var update = G.update(name, installed, available)
        update.cves = cves
        return update
    }

    static let opensslFix = fixing("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2", [cve(openssl, .high, word: "high", fixed: "3.0.17-1~deb12u1")])
    static let xzFix = fixing("xz-utils", "5.4.1-0.2", "5.4.1-1", [cve(xz, .critical, word: "critical", kev: true, fixed: "5.4.1-1")])
    static let curlFix = fixing("curl", "7.88.1-10+deb12u7", "7.88.1-10+deb12u12", [cve(curl, .medium, word: "medium", fixed: "7.88.1-10+deb12u9")])
    static let tiffOpen = UnfixedCVE(id: tiff, package: "libtiff6", packages: ["libtiff6"], source: "tiff", severity: .none,
                                     vendorSeverity: "unimportant", feed: "debian-tracker")

    /// - day 0: web1 openssl (high) + tiff open (no fix); web2 openssl and xz (critical, KEV).
    /// - day 1: web1 as before plus curl (medium); web2 only xz (openssl installed); web3 unreachable.
    /// - day 2: web2 unreachable: its day-1 scan stays its latest successful one.
    static func fleet() throws -> GeneratedHistory {
        let history = try G.fresh()
        var web1 = G.host("web1", at: G.day(0), [opensslFix])
        web1.unfixedCVEs = [tiffOpen]
        try history.scan(at: G.day(0), [web1, G.host("web2", at: G.day(0), [opensslFix, xzFix])])
        var web1Later = G.host("web1", at: G.day(1), [curlFix, opensslFix])
        web1Later.unfixedCVEs = [tiffOpen]
        try history.scan(at: G.day(1), [web1Later, G.host("web2", at: G.day(1), [xzFix]), G.host("web3", at: G.day(1), status: .unreachable)])
        try history.scan(at: G.day(2), [G.host("web2", at: G.day(2), status: .unreachable)])
        return history
    }

    @Test func pivotByCVEWithHostsFixesAndFirstSightings() throws {
        let history = try Self.fleet()
        let report = try CVEReport.build(store: history.store, filter: .init(), at: G.day(3))
        // KEV first, then by severity.
        #expect(report.cves.map(\.id) == [Self.xz, Self.openssl, Self.curl, Self.tiff])
        let xz = report.cves[0]
        #expect(xz.kev && xz.severity == .critical && xz.hosts.map(\.host) == ["web2"])
        #expect(xz.fixes == [CVEReport.Fix(package: "xz-utils", version: "5.4.1-1")] && xz.unfixedHosts == 0)
        // First seen: web2's part of the day-0 scan, though its latest successful scan is day 1's.
        #expect(xz.firstSeen == G.day(0).addingTimeInterval(-2) && xz.hosts[0].scannedAt == G.day(1))
        // web2 installed openssl on day 1: only web1 still has it.
        let openssl = report.cves[1]
        #expect(openssl.hosts.map(\.host) == ["web1"] && openssl.hosts[0].packages == ["openssl"])
        #expect(openssl.hosts[0].installedVersion == "3.0.15-1~deb12u1" && openssl.hosts[0].fixedVersion == "3.0.17-1~deb12u2")
        #expect(report.cves[2].firstSeen == G.day(1).addingTimeInterval(-2))
        let tiff = report.cves[3]
        #expect(tiff.severity == .none && tiff.vendorSeverities == ["unimportant"] && tiff.unfixedHosts == 1 && tiff.fixes.isEmpty)
        #expect(tiff.hosts == [CVEReport.Exposure(host: "web1", packages: ["libtiff6"], installedVersion: nil, fixedVersion: nil, fixable: false,
                                                  severity: .none, vendorSeverity: "unimportant", firstSeen: G.day(0).addingTimeInterval(-2),
                                                  firstRun: tiff.hosts[0].firstRun, scanRun: tiff.hosts[0].scanRun, scannedAt: G.day(1))])
        #expect(report.summary.cves == 4 && report.summary.kev == 1 && report.summary.hosts == 2 && report.summary.unfixed == 1)
        #expect(report.summary.bySeverity["critical"] == 1 && report.summary.bySeverity["none"] == 1 && report.summary.bySeverity["low"] == 0)
        // No feed synced, Debian hosts scanned: the data cannot be trusted complete.
        #expect(report.warnings.count == 1 && report.warnings[0].hasPrefix("no advisory feed"))

        let table = TableReport.cves(report)
        let xzRow = try #require(table.split(separator: "\n").first { $0.hasPrefix(Self.xz) })
        #expect(xzRow.split(separator: " ").map(String.init) == [Self.xz, "critical", "KEV", "1", "web2", "xz-utils", "5.4.1-1", "2026-01-01"], "\(table)")
        #expect(table.contains("no fix") && table.contains("none (unimportant)"))
        #expect(table.hasSuffix("4 CVEs on 2 hosts (1 KEV, 1 without a fix on some host)\n"))
        let csv = try CSVParser.parse(CSVReport.cves(report))
        #expect(csv.first == CSVReport.cveColumns && csv.count == 5)
        #expect(csv[1].prefix(6) == [Self.xz, "critical", "critical", "", "true", "web2"])
        let html = HTMLReport.cves(report)
        #expect(html.contains("data-metric=\"kev\" data-value=\"1\"") && html.contains("<td>CVE-2025-0303</td>") && html.contains("Warnings"))
        let json = try JSONOutput.encode(report, pretty: false)
        #expect(json.contains("\"warnings\":[\"no advisory feed") && json.contains("\"first_seen\":\"2026-01-01T01:59:58.000Z\""))
    }

    @Test func filtersAnswerWhichHostsStillHaveACVE() throws {
        let history = try Self.fleet()
        func ids(_ filter: CVEReport.Filter) throws -> [String] {
            try CVEReport.build(store: history.store, filter: filter, at: G.day(3)).cves.map(\.id)
        }
        #expect(try ids(.init(minSeverity: .high)) == [Self.xz, Self.openssl])
        #expect(try ids(.init(kevOnly: true)) == [Self.xz])
        #expect(try ids(.init(host: "web[2-9]")) == [Self.xz])
        #expect(try ids(.init(host: "db*")) == [])
        let limited = try CVEReport.build(store: history.store, filter: .init(limit: 2), at: G.day(3))
        #expect(limited.cves.map(\.id) == [Self.xz, Self.openssl] && limited.summary.omitted == 2)
        let one = try CVEReport.build(store: history.store, filter: .init(cves: [Self.openssl]), at: G.day(3))
        #expect(one.cves.map(\.id) == [Self.openssl] && one.cves[0].hosts.map(\.host) == ["web1"])
        #expect(TableReport.cves(one).contains("\nCVE-2025-0101: 1 host\n"))
        #expect(try ids(.init(cves: ["CVE-1999-0001"])) == [])
    }

    @Test func staleAndMissingFeedsAreWarnings() throws {
        let now = G.day(30)
        let fresh = AdvisoryFeedStatus(kind: .debianTracker, location: "https://security-tracker.debian.org/tracker/data/json",
                                       syncedAt: G.day(20), checkedAt: G.day(29), recordCount: 10)
        let stale = AdvisoryFeedStatus(kind: .kev, location: "/srv/mirror/kev.json", syncedAt: G.day(1), checkedAt: G.day(2), recordCount: 3,
                                       lastError: "HTTP 503")
        let never = AdvisoryFeedStatus(kind: .osv, location: "/srv/mirror/osv.zip", syncedAt: nil, checkedAt: nil, recordCount: 0, lastError: "truncated zip")
        #expect(AdvisoryWarnings.warnings(feeds: [fresh], families: [.debian], at: now).isEmpty)
        #expect(AdvisoryWarnings.warnings(feeds: [fresh, stale, never], families: [.debian], at: now) == [
            "advisory feed kev (/srv/mirror/kev.json) is stale: last confirmed current 28 days ago (2026-01-03T02:00:00.000Z), last error: HTTP 503; run `patchctl advisories sync`",
            "advisory feed osv (/srv/mirror/osv.zip) has never synced: truncated zip; run `patchctl advisories sync`",
        ])
        // Only KEV synced: Debian findings still have no CVEs.
        #expect(AdvisoryWarnings.warnings(feeds: [], families: [.debian], at: now).count == 1)
        #expect(AdvisoryWarnings.warnings(feeds: [], families: [.rhel, .windows], at: now).isEmpty)
        #expect(AdvisoryWarnings.warnings(feeds: [stale], families: [.debian], at: now).last?.hasPrefix("no advisory feed (debian-tracker, ubuntu or osv)") == true)

        // Read from the store: a synced tracker feed checked 10 days before the report.
        let history = try Self.fleet()
        try history.store.pool.write { db in
            try db.execute(sql: "INSERT INTO advisory_feeds (kind, location, synced_at, checked_at, record_count) VALUES (?, ?, ?, ?, ?)",
                           arguments: ["debian-tracker", "tracker.json", G.day(-7), G.day(-7), 4])
        }
        let report = try CVEReport.build(store: history.store, filter: .init(), at: G.day(3))
        #expect(report.warnings == ["advisory feed debian-tracker (tracker.json) is stale: last confirmed current 10 days ago (2025-12-25T02:00:00.000Z); run `patchctl advisories sync`"])
    }

    @Test func deployPlanShowsTheCVEsEachPackageCloses() throws {
        let history = try G.fresh()
        let id = try history.deploy(at: G.day(1), policy: "emergency", host: "web1", installed: [], notInstalled: [Self.xzFix, Self.opensslFix])
        var run = try history.store.deployRunReport(id: id)
        run.dryRun = true
        #expect(run.hosts[0].planned.map(\.cves) == [[Self.xz], [Self.openssl]] && run.hosts[0].planned.map(\.kev) == [true, false])
        let table = TableReport.deploy(run, details: false)
        #expect(table.contains("  plan    xz-utils 5.4.1-0.2 -> 5.4.1-1 [security] closes CVE-2024-3094 [KEV]\n"), "\(table)")
        #expect(table.contains("  plan    openssl 3.0.15-1~deb12u1 -> 3.0.17-1~deb12u2 [security] closes CVE-2025-0101\n"))
        let json = try JSONOutput.encode(run, pretty: false)
        #expect(json.contains("\"cves\":[\"CVE-2024-3094\"],\"from_version\":\"5.4.1-0.2\",\"kev\":true"))
        // Documents stored before CVEs existed still read.
        let old = try JSONDecoder().decode(PlannedUpdate.self, from: Data(#"{"name":"a","from_version":"1","to_version":"2","security":true,"source":"s"}"#.utf8))
        #expect(old.cves.isEmpty && !old.kev)
        // Many CVEs: the first four, then how many more.
        var many = Self.opensslFix
        many.cves = (1...6).map { Self.cve("CVE-2025-100\($0)", .high, word: nil, fixed: "1") }
        #expect(TableReport.closes(PlannedUpdate(many)) == " closes CVE-2025-1001, CVE-2025-1002, CVE-2025-1003, CVE-2025-1004 (+2 more)")
    }
}
