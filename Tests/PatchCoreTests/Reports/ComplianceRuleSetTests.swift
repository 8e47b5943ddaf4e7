import Foundation
import Testing
@testable import PatchCore

@Suite("Compliance rule sets")
struct ComplianceRuleSetTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func builtInCopiesEqualTheShippedFiles() throws {
        for (id, text) in ComplianceRuleSet.builtin {
            let file = try String(contentsOf: Self.repository.appendingPathComponent("compliance/\(id).yml"), encoding: .utf8)
            #expect(file == text, "compliance/\(id).yml and ComplianceRuleSet+Builtin.swift differ")
        }
        #expect(ComplianceRuleSet.builtin.keys.sorted() == ["hipaa", "pci-dss", "sox"])
    }

    @Test func pciDSSDefaultIsCriticalWithinThirtyDaysAndAptUpdatesAreInScope() throws {
        let pci = try ComplianceRuleSet.find("pci-dss", directories: [])
        #expect(pci.source == "built-in:pci-dss" && pci.staleDays == 7)
        let first = try #require(pci.rules.first)
        #expect(first.minSeverity == .critical && first.withinDays == 30 && first.definedBy == .standard && first.reference == "PCI DSS 6.3.3")
        // apt: no severity, security flag → the critical rule; a rated "important" one falls to the organisation's 90 days.
        #expect(pci.ruleIndex(security: true, severity: nil) == 0)
        #expect(pci.ruleIndex(security: true, severity: "Important") == 1)
        #expect(pci.ruleIndex(security: true, severity: "critical") == 0)
        #expect(pci.ruleIndex(security: false, severity: nil) == nil)
        #expect(pci.rules[1].definedBy == .organisation)
        for id in ["hipaa", "sox"] {
            let rules = try ComplianceRuleSet.find(id.uppercased(), directories: [])
            #expect(rules.rules.allSatisfy { $0.definedBy == .organisation }, "\(id) sets no number: every deadline is the organisation's")
            #expect(rules.description.contains("no numeric patch deadline"))
        }
    }

    @Test func filesInSearchDirectoriesAndPathsWin() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let custom = "id: pci-dss\nname: Our PCI\nstale_days: 3\nrules:\n  - {name: criticals, updates: security, min_severity: critical, within_days: 14, defined_by: standard}\n"
        try custom.write(to: folder.appendingPathComponent("pci-dss.yml"), atomically: true, encoding: .utf8)
        let found = try ComplianceRuleSet.find("pci-dss", directories: [folder.path])
        #expect(found.name == "Our PCI" && found.staleDays == 3 && found.rules.first?.withinDays == 14 && found.source == folder.path + "/pci-dss.yml")
        let byPath = try ComplianceRuleSet.find(folder.path + "/pci-dss.yml", directories: [])
        #expect(byPath == found)
        let dirs = ComplianceRuleSet.searchDirectories(environment: ["PATCHCTL_COMPLIANCE_DIR": "a:/b"], currentDirectory: "/srv")
        #expect(dirs == ["/srv/a", "/b", "/srv/compliance", "/etc/patchctl/compliance"])
        #expect(throws: PatchError.ruleSet(file: "iso-27001", line: nil, column: nil,
                                           message: "no standard named 'iso-27001': use hipaa, pci-dss, sox or a rule set file")) {
            try ComplianceRuleSet.find("iso-27001", directories: [])
        }
    }

    @Test(arguments: [
        ("id: x\nname: X\nrules: []\n", 3, 8, "'rules' must be a non-empty list of rules"),
        ("id: x\nname: X\nrules:\n  - {name: a, updates: security, within_day: 3}\n", 4, 34, "unknown key 'within_day' in rule 1 (did you mean 'within_days'?)"),
        ("id: x\nname: X\nrules:\n  - {name: a, updates: securty, within_days: 3}\n", 4, 24, "unknown update kind 'securty' (did you mean 'security'?): expected security or all"),
        ("id: x\nname: X\nrules:\n  - {name: a, updates: all, min_severity: urgent, within_days: 3}\n", 4, 43, "unknown severity 'urgent': expected none, low, medium, high or critical (moderate and important are read as medium and high)"),
        ("id: x\nname: X\nrules:\n  - {name: a, updates: all, within_days: -1}\n", 4, 42, "'within_days' must be a whole number from 0 to 3650, found the number -1"),
        ("id: x\nname: X\nrules:\n  - {name: a, updates: all, within_days: 9223372036854775807}\n", 4, 42,
         "'within_days' must be a whole number from 0 to 3650, found the number 9223372036854775807"),
        ("id: x\nname: X\nstale_days: 0\nrules:\n  - {name: a, updates: all, within_days: 1}\n", 3, 13, "'stale_days' must be a whole number from 1 to 3650, found the number 0"),
        ("id: x\nname: X\nstale_days: 99999999999999999999\nrules:\n  - {name: a, updates: all, within_days: 1}\n", 3, 13,
         "'stale_days' must be a whole number from 1 to 3650, found the number 99999999999999999999"),
        ("rules: 5\nid: x\nname: X\n", 1, 8, "'rules' must be a non-empty list of rules"),
        ("", 1, 1, "a rule set must be a map with id, name, description, stale_days and rules"),
        ("id: x\nname: X\nrules:\n  - 5\n", 4, 5, "rule 1 must be a map (name, updates, within_days...)"),
        ("id: x\nname: X\nrules:\n  - {name: a, updates: all, within_days: 1, defined_by: law}\n", 4, 57, "unknown origin 'law': expected standard or organisation"),
        ("name: X\nrules:\n  - {name: a, updates: all, within_days: 1}\n", 1, 1, "missing required key 'id' in the rule set: give a short id such as pci-dss"),
    ])
    func malformedRuleSetsNameTheLine(yaml: String, line: Int, column: Int, message: String) {
        #expect(throws: PatchError.ruleSet(file: "r.yml", line: line, column: column, message: message)) {
            try ComplianceRuleSet.parse(yaml, file: "r.yml", source: "r.yml")
        }
    }

    @Test func exceptionTargetsAndMatching() throws {
        #expect(ComplianceException.Target("cve-2026-1234") == .cve("CVE-2026-1234"))
        #expect(ComplianceException.Target("openssl@3.0.17-1~deb12u2") == .package(name: "openssl", version: "3.0.17-1~deb12u2"))
        #expect(ComplianceException.Target("libstdc++6") == .package(name: "libstdc++6", version: nil))
        for bad in ["CVE-26-1", "open ssl", "x;rm -rf /", "@1.0", "a@", ""] { #expect(ComplianceException.Target(bad) == nil, "\(bad)") }
        let day = Date(timeIntervalSince1970: 1_767_225_600)
        let exception = ComplianceException(id: 1, host: "web*", target: "openssl@2", until: day.addingTimeInterval(86_400), reason: "r",
                                            owner: "o", createdBy: "u", createdAt: day)
        #expect(exception.covers(host: "web3", package: "openssl", version: "2", cves: []))
        #expect(!exception.covers(host: "web3", package: "openssl", version: "3", cves: []))
        #expect(!exception.covers(host: "db1", package: "openssl", version: "2", cves: []))
        #expect(exception.state(at: day.addingTimeInterval(-1)) == .future && exception.state(at: day) == .active)
        #expect(exception.state(at: day.addingTimeInterval(86_400)) == .expired)
        var removed = exception
        removed.removedAt = day.addingTimeInterval(10)
        #expect(removed.state(at: day.addingTimeInterval(5)) == .active && removed.state(at: day.addingTimeInterval(10)) == .removed)
        let cve = ComplianceException(id: 2, host: "web3", target: "CVE-2026-1234", until: day, reason: "r", owner: "o", createdBy: "u", createdAt: day)
        #expect(cve.covers(host: "web3", package: "x", version: "1", cves: ["CVE-2026-1234"]))
        #expect(!cve.covers(host: "web3", package: "x", version: "1", cves: []), "apt findings carry no CVE ids")
    }

    @Test func reportDates() {
        #expect(ReportDate.parseMoment("2026-02-10").map(JSONOutput.timestamp) == "2026-02-10T23:59:59.999Z")
        #expect(ReportDate.parseMoment("2026-02-10T12:30").map(JSONOutput.timestamp) == "2026-02-10T12:30:00.000Z")
        #expect(ReportDate.parseMoment("2026-02-10T12:30:05.250Z").map(JSONOutput.timestamp) == "2026-02-10T12:30:05.250Z")
        // Out of range (a tampered history): clamped to ISO 8601's years, never a trap.
        #expect(JSONOutput.timestamp(.distantFuture) == "4001-01-01T00:00:00.000Z")
        #expect(JSONOutput.timestamp(Date(timeIntervalSince1970: 1e300)) == "9999-12-31T23:59:59.999Z")
        #expect(JSONOutput.timestamp(Date(timeIntervalSince1970: -1e300)) == "0001-01-01T00:00:00.000Z")
        #expect(JSONOutput.timestamp(Date(timeIntervalSince1970: -0.25)) == "1969-12-31T23:59:59.750Z")
        #expect(ReportDate.parseMoment("2026-02-30") == nil && ReportDate.parseMoment("90d") == nil)
        let end = ReportDate.parseMoment("2026-02-10T12:00:00Z") ?? Date()
        #expect(ReportDate.parseStart("90d", end: end).map(JSONOutput.timestamp) == "2025-11-12T12:00:00.000Z")
        #expect(ReportDate.parseStart("2026-01-01", end: end).map(JSONOutput.timestamp) == "2026-01-01T00:00:00.000Z")
        #expect(ReportFormat(fileName: "out/report.HTML") == .html && ReportFormat(fileName: "a.txt") == nil && ReportFormat(fileName: "x.table") == nil)
    }
}
