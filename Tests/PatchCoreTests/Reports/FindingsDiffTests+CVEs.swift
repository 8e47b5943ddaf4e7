import Foundation
import Testing
@testable import PatchCore

extension FindingsDiffTests {
    /// Which CVEs closed and which newly appeared, per host, between two scans.
    @Test func cvesClosedAndNewlyOpen() throws {
        typealias C = CVEReportTests
        let history = try G.fresh()
        var web1 = G.host("web1", at: G.day(0), [C.opensslFix])
        web1.unfixedCVEs = [C.tiffOpen]
        try history.scan(at: G.day(0), [web1, G.host("web2", at: G.day(0), [C.xzFix])])
        // The feed learned that the same xz update also fixes a KEV entry.
        var xzMore = C.xzFix
        xzMore.cves.append(C.cve("CVE-2025-0404", .high, word: "high", kev: true, fixed: "5.4.1-1"))
        var web1Later = G.host("web1", at: G.day(1), [C.curlFix])
        web1Later.unfixedCVEs = [C.tiffOpen]
        try history.scan(at: G.day(1), [web1Later, G.host("web2", at: G.day(1), [xzMore]), G.host("web3", at: G.day(1), [C.opensslFix])])

        let diff = try FindingsDiff.build(store: history.store, since: "last")
        #expect(diff.hosts.map(\.name) == ["web1", "web2", "web3"])
        let web1Diff = diff.hosts[0]
        #expect(web1Diff.cvesClosed == [FindingsDiff.CVEItem(id: C.openssl, severity: .high, kev: false, packages: ["openssl"], fixable: true)])
        #expect(web1Diff.cvesNew.map(\.id) == [C.curl])
        // Same packages, same versions: only the CVEs changed.
        #expect(diff.hosts[1].change == .changed && diff.hosts[1].added.isEmpty && diff.hosts[1].changed.isEmpty)
        #expect(diff.hosts[1].cvesNew.map(\.id) == ["CVE-2025-0404"] && diff.hosts[1].cvesNew[0].kev && diff.hosts[1].cvesClosed.isEmpty)
        #expect(diff.hosts[2].change == .new && diff.hosts[2].cvesNew.map(\.id) == [C.openssl])
        #expect(diff.summary.cvesClosed == 1 && diff.summary.cvesNew == 3 && diff.summary.cvesNewKEV == 1)

        let table = TableReport.diff(diff)
        #expect(table.contains("  + CVE-2025-0202 medium fixed by curl\n") && table.contains("  - CVE-2025-0101 high closed (openssl)\n"), "\(table)")
        #expect(table.contains("  + CVE-2025-0404 high [KEV] fixed by xz-utils\n"))
        #expect(table.hasSuffix("CVEs: 1 closed, 3 newly open (1 KEV), counted per host\n"))
        let json = try JSONOutput.encode(diff, pretty: false)
        #expect(json.contains("\"cves_closed\":[{\"fixable\":true,\"id\":\"CVE-2025-0101\",\"kev\":false,\"packages\":[\"openssl\"],\"severity\":\"high\"}]"))
        #expect(json.contains("\"cves_new_kev\":1"))
    }
}
