import Foundation
import Testing
@testable import PatchCore

extension ComplianceReportTests {
    /// PCI DSS with advisory data: an apt update is rated by its CVEs, and "critical" means
    /// critical severity or on CISA's KEV catalogue (the rule set's `kev: true`).
    @Test func pciUsesNormalisedSeverityAndKEV() throws {
        typealias C = CVEReportTests
        let history = try G.fresh()
        // web1: openssl, whose only CVE Debian rates medium: the organisation's 90 days, not 30.
        let medium = C.fixing("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2", [C.cve("CVE-2025-0101", .medium, word: "medium", fixed: "3.0.17-1~deb12u1")])
        // web2: a low CVE on KEV: critical for PCI.
        let exploited = C.fixing("xz-utils", "5.4.1-0.2", "5.4.1-1", [C.cve("CVE-2024-3094", .low, word: "low", kev: true, fixed: "5.4.1-1")])
        // web3: nobody rated it: the floor, critical.
        let unrated = G.update("zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1")
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [medium]), G.host("web2", at: G.day(0), [exploited]),
                                        G.host("web3", at: G.day(0), [unrated])])
        try history.scan(at: G.day(39), [G.host("web1", at: G.day(39), [medium]), G.host("web2", at: G.day(39), [exploited]),
                                         G.host("web3", at: G.day(39), [unrated])])
        let report = try ComplianceReport.build(history.request(asOf: G.day(40)))
        let web1 = try Self.host(report, "web1")
        #expect(web1.compliant && web1.updates[0].rule == "other security updates" && web1.updates[0].normalizedSeverity == .medium)
        #expect(web1.updates[0].cves == ["CVE-2025-0101"] && !web1.updates[0].kev)
        let web2 = try Self.host(report, "web2")
        #expect(!web2.compliant && web2.updates[0].rule == "critical security updates" && web2.updates[0].status == .overdue && web2.updates[0].kev)
        let web3 = try Self.host(report, "web3")
        #expect(!web3.compliant && web3.updates[0].rule == "critical security updates" && web3.updates[0].normalizedSeverity == .unknown)
        #expect(report.summary.missing.kev == 1)
        #expect(report.summary.missing.bySeverity["medium"] == 1 && report.summary.missing.bySeverity["low"] == 1
            && report.summary.missing.bySeverity["unrated"] == 1)
        #expect(TableReport.ruleLine(report.standard.rules[0]).contains("rated critical or above (unrated security updates included) or fixing a known exploited CVE (KEV)"))

        // report hosts: KEV fixes and critical updates per host, at the end of each row.
        let hosts = TableReport.hosts(report.hosts).split(separator: "\n")
        #expect(hosts.first?.hasSuffix("LAST DEPLOY  KEV  CRITICAL") == true, "\(hosts)")
        #expect(hosts.first { $0.hasPrefix("web2 ") }.map { $0.split(separator: " ").suffix(2).map(String.init) } == ["1", "0"])
        #expect(hosts.first { $0.hasPrefix("web1 ") }.map { $0.split(separator: " ").suffix(2).map(String.init) } == ["0", "0"])

        // HTML: the KEV count in the summary, and the most exposed hosts (KEV first).
        let html = HTMLReport.compliance(report)
        #expect(html.contains("data-metric=\"kev\" data-value=\"1\""))
        let start = try #require(html.range(of: "<section id=\"exposed\">"))
        let end = try #require(html.range(of: "</section>", range: start.upperBound..<html.endIndex))
        let exposed = String(html[start.lowerBound..<end.upperBound])
        #expect(!exposed.contains("data-exposed=\"web1\"") && !exposed.contains("data-exposed=\"web3\""),
                "web1 (medium) and web3 (unrated) are not exposed by KEV, critical or high")
        #expect(exposed.contains("data-exposed=\"web2\" data-kev=\"1\" data-critical=\"0\" data-high=\"0\""))
        #expect(html.contains("<td>low KEV</td>") && html.contains("<td>unrated</td>"))
        // No feed synced while Debian hosts are scanned: warned about, in the JSON too.
        #expect(report.warnings.count == 1)
        #expect(try JSONOutput.encode(report, pretty: false).contains("\"warnings\":[\"no advisory feed"))

        // Without `kev: true`, the KEV fix is only as urgent as its severity.
        let plain = try ComplianceRuleSet.parse("id: x\nname: X\nrules:\n  - {name: crit, updates: security, min_severity: critical, within_days: 30}\n  - {name: rest, updates: security, within_days: 90}\n",
                                                file: "x.yml", source: "x.yml")
        #expect(plain.ruleIndex(security: true, severity: .low, kev: true) == 1)
        #expect(report.standard.ruleIndex(security: true, severity: .low, kev: true) == 0)
        #expect(report.standard.ruleIndex(security: false, severity: .unknown, kev: true) == 0, "a KEV fix is in scope even when not flagged security")
    }

    @Test func ruleSetKEVKeyIsABoolean() throws {
        #expect(throws: PatchError.ruleSet(file: "r.yml", line: 4, column: 63, message: "'kev' must be true or false, found the string 'often'")) {
            try ComplianceRuleSet.parse("id: x\nname: X\nrules:\n  - {name: a, updates: security, min_severity: critical, kev: often, within_days: 3}\n",
                                        file: "r.yml", source: "r.yml")
        }
        let rules = try ComplianceRuleSet.parse("id: x\nname: X\nrules:\n  - {name: a, updates: security, kev: true, within_days: 3}\n", file: "r.yml", source: "r.yml")
        #expect(rules.rules[0].kev)
        #expect(try JSONOutput.encode(rules, pretty: false).contains("\"kev\":true"))
    }
}
