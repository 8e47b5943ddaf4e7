import Testing
@testable import PatchCore

extension PolicyTests {
    /// `min_severity` on the normalised scale (so apt's unrated updates are judged by their CVEs),
    /// `cves` for emergency patching and `kev` for known exploited vulnerabilities.
    @Suite("Selection by CVE, KEV and normalised severity")
    struct Advisories {
        static func cve(_ id: String, _ severity: Severity, word: String? = nil, kev: Bool = false) -> CVEReference {
            CVEReference(id: id, severity: severity, vendorSeverity: word, kev: kev, fixedVersion: "3.0.17-1~deb12u2", source: "debian-tracker")
        }

        /// An apt finding: no vendor severity, only the CVEs the feed matched.
        static func apt(_ name: String, security: Bool = true, _ cves: [CVEReference]) -> PendingUpdate {
            PendingUpdate(name: name, installedVersion: "1.0", availableVersion: "1.1",
                          source: security ? "Debian-Security:12/stable-security" : "Debian:12/stable", security: security, cves: cves)
        }

        @Test func minimumSeverityReadsTheFeedOnDebian() {
            let selection = UpdateSelection(kind: .security, minSeverity: .high)
            #expect(selection.decide(Self.apt("openssl", [Self.cve("CVE-2025-0001", .low, word: "low"), Self.cve("CVE-2025-0002", .high, word: "high")])) == .selected)
            #expect(selection.decide(Self.apt("curl", [Self.cve("CVE-2025-0003", .medium, word: "medium")]))
                == .skipped("severity medium below minimum high"))
            // The feed's own word beside the normalised one when they differ.
            #expect(selection.decide(Self.apt("vim", [Self.cve("CVE-2025-0004", .none, word: "unimportant")]))
                == .skipped("severity none (CVE-2025-0004: unimportant) below minimum high"))
            #expect(selection.decide(Self.apt("bash", [Self.cve("CVE-2025-0005", .low, word: "negligible")]))
                == .skipped("severity low (CVE-2025-0005: negligible) below minimum high"))
            // Nobody rated it: a security update is the floor and is selected; a plain one is not.
            #expect(selection.decide(Self.apt("zlib1g", [Self.cve("CVE-2025-0006", .unknown)])) == .selected)
            #expect(selection.decide(Self.apt("zlib1g", [])) == .selected)
            #expect(UpdateSelection(kind: .all, minSeverity: .low).decide(Self.apt("tzdata", security: false, [Self.cve("CVE-2025-0007", .unknown)]))
                == .skipped("no severity reported, minimum low"))
        }

        @Test func theHigherOfVendorWordAndCVEsCounts() {
            let selection = UpdateSelection(kind: .security, minSeverity: .critical)
            var update = Self.apt("kernel", [Self.cve("CVE-2025-0010", .critical, word: "Critical")])
            update.severity = "Moderate"
            #expect(selection.decide(update) == .selected)
            update.cves = [Self.cve("CVE-2025-0010", .medium)]
            #expect(selection.decide(update) == .skipped("severity medium (Moderate) below minimum critical"))
        }

        @Test func cvesSelectExactlyTheFixingUpdates() {
            let selection = UpdateSelection(kind: .security, minSeverity: .critical, hold: ["libpq5"], cves: ["CVE-2024-3094", "CVE-2025-0001"])
            #expect(selection.decide(Self.apt("xz-utils", [Self.cve("cve-2024-3094", .critical)])) == .selected)
            // Below min_severity and not flagged security: the CVE list alone decides.
            #expect(selection.decide(Self.apt("openssl", security: false, [Self.cve("CVE-2025-0001", .low)])) == .selected)
            #expect(selection.decide(Self.apt("curl", [Self.cve("CVE-2025-0002", .critical, kev: true)]))
                == .skipped("fixes none of the listed CVEs (cves: CVE-2024-3094, CVE-2025-0001)"))
            #expect(selection.decide(Self.apt("vim", [])) == .skipped("fixes none of the listed CVEs (cves: CVE-2024-3094, CVE-2025-0001)"))
            // hold still wins.
            #expect(selection.decide(Self.apt("libpq5", [Self.cve("CVE-2025-0001", .high)])) == .skipped("held by policy (hold: libpq5)"))
        }

        @Test func kevSelectsKnownExploitedFixes() {
            let only = UpdateSelection(kind: .security, kev: true)
            #expect(only.decide(Self.apt("xz-utils", [Self.cve("CVE-2024-3094", .critical, kev: true)])) == .selected)
            #expect(only.decide(Self.apt("curl", [Self.cve("CVE-2025-0002", .critical)])) == .skipped("fixes no known exploited (KEV) CVE"))
            // A KEV fix the repository did not flag as security is still one.
            #expect(only.decide(Self.apt("sudo", security: false, [Self.cve("CVE-2025-0003", .low, kev: true)])) == .selected)
            // With a minimum: a KEV fix below it is selected, others must meet it.
            let either = UpdateSelection(kind: .security, minSeverity: .high, exclude: ["sudo"], kev: true)
            #expect(either.decide(Self.apt("bash", [Self.cve("CVE-2025-0004", .low, kev: true)])) == .selected)
            #expect(either.decide(Self.apt("curl", [Self.cve("CVE-2025-0002", .critical)])) == .selected)
            #expect(either.decide(Self.apt("vim", [Self.cve("CVE-2025-0005", .medium)])) == .skipped("severity medium below minimum high"))
            #expect(either.decide(Self.apt("sudo", [Self.cve("CVE-2025-0003", .low, kev: true)])) == .skipped("excluded (exclude: sudo)"))
        }

        @Test func policyKeys() throws {
            let policy = try parsePolicy("""
                name: emergency
                targets: all
                select:
                  cves: [cve-2024-3094, CVE-2024-6387, CVE-2024-3094]
                  kev: true
                  hold: [postgresql-*]
                """)
            #expect(policy.selection.cves == ["CVE-2024-3094", "CVE-2024-6387"])
            #expect(policy.selection.kev && policy.selection.hold == ["postgresql-*"])
            let one = try parsePolicy("name: n\ntargets: all\nselect: {cves: CVE-2021-44228}\n")
            #expect(one.selection.cves == ["CVE-2021-44228"] && !one.selection.kev)
        }

        @Test func badCVEIdsAreRefusedWithTheirPosition() {
            expectPolicyError("name: n\ntargets: all\nselect:\n  cves:\n    - CVE-2024-3094\n    - CVE-24-1\n", line: 6, column: 7,
                              "'CVE-24-1' in 'cves' is not a CVE id", "CVE-YYYY-NNNN")
            expectPolicyError("name: n\ntargets: all\nselect: {cves: [GHSA-xxxx-yyyy-zzzz]}\n", line: 3, column: 17, "is not a CVE id")
            expectPolicyError("name: n\ntargets: all\nselect: {cves: [CVE-2024-12a4]}\n", line: 3, column: 17, "is not a CVE id")
            expectPolicyError("name: n\ntargets: all\nselect: {cves: []}\n", line: 3, column: 16, "'cves' must list at least one CVE id")
            expectPolicyError("name: n\ntargets: all\nselect: {kev: yes-please}\n", line: 3, column: 15, "'kev' must be true or false")
        }

        @Test func cveIdSyntax() {
            #expect(PolicyParser.cveID("CVE-2024-3094") == "CVE-2024-3094")
            #expect(PolicyParser.cveID(" cve-2021-1234567 ") == "CVE-2021-1234567")
            #expect(PolicyParser.cveID("CVE-2024-123") == nil)
            #expect(PolicyParser.cveID("CVE-1998-1234") == nil)
            #expect(PolicyParser.cveID("TEMP-0000000-A1B2C3") == nil)
            #expect(PolicyParser.cveID("CVE-2024-3094-1") == nil)
        }
    }
}
