import Testing
@testable import PatchCore

extension PolicyTests {
    @Suite("Update selection")
    struct Selection {
        static func update(_ name: String, security: Bool = true, severity: String? = nil) -> PendingUpdate {
            PendingUpdate(name: name, installedVersion: "1.0", availableVersion: "1.1",
                          source: security ? "Debian-Security:12/stable-security" : "Debian:12/stable",
                          security: security, severity: severity)
        }

        @Test func securityOnly() {
            let selection = UpdateSelection(kind: .security)
            #expect(selection.decide(Self.update("libssl3")) == .selected)
            #expect(selection.decide(Self.update("vim", security: false)) == .skipped("not a security update"))
        }

        @Test func all() {
            let selection = UpdateSelection(kind: .all)
            #expect(selection.decide(Self.update("libssl3")) == .selected)
            #expect(selection.decide(Self.update("vim", security: false)) == .selected)
        }

        @Test func minimumSeverity() {
            let selection = UpdateSelection(kind: .security, minSeverity: .high)
            #expect(selection.decide(Self.update("kernel", severity: "Critical")) == .selected)
            #expect(selection.decide(Self.update("openssl", severity: "Important")) == .selected)
            #expect(selection.decide(Self.update("curl", severity: "Moderate"))
                == .skipped("severity medium (Moderate) below minimum high"))
            #expect(selection.decide(Self.update("curl", severity: "medium"))
                == .skipped("severity medium below minimum high"))
            #expect(selection.decide(Self.update("bash", severity: "low")) == .skipped("severity low below minimum high"))
        }

        @Test func securityUpdateWithoutSeverityMeetsAnyMinimum() {
            // apt reports no severity: the security flag is the floor, so Debian hosts still get
            // their security fixes under min_severity (as do unknown vendor words).
            let selection = UpdateSelection(kind: .security, minSeverity: .critical)
            #expect(selection.decide(Self.update("libssl3")) == .selected)
            #expect(selection.decide(Self.update("libssl3", severity: "Unspecified")) == .selected)
        }

        @Test func nonSecurityUpdateWithoutSeverityFailsAMinimum() {
            let selection = UpdateSelection(kind: .all, minSeverity: .low)
            #expect(selection.decide(Self.update("vim", security: false)) == .skipped("no severity reported, minimum low"))
            #expect(selection.decide(Self.update("vim", security: false, severity: "low")) == .selected)
        }

        @Test func holdBeatsInclude() {
            let selection = UpdateSelection(kind: .all, include: ["postgresql-*", "openssl"], hold: ["postgresql-1?"])
            #expect(selection.decide(Self.update("postgresql-15")) == .skipped("held by policy (hold: postgresql-1?)"))
            #expect(selection.decide(Self.update("postgresql-client")) == .selected)
        }

        @Test func holdBeatsSecurity() {
            let selection = UpdateSelection(kind: .security, hold: ["linux-image-*"])
            #expect(selection.decide(Self.update("linux-image-amd64")) == .skipped("held by policy (hold: linux-image-*)"))
        }

        @Test func excludeBeatsInclude() {
            let selection = UpdateSelection(kind: .all, include: ["lib*"], exclude: ["foo*", "libx[0-9]*"])
            #expect(selection.decide(Self.update("libx11-6")) == .skipped("excluded (exclude: libx[0-9]*)"))
            #expect(selection.decide(Self.update("foolib")) == .skipped("excluded (exclude: foo*)"))
            #expect(selection.decide(Self.update("libssl3")) == .selected)
        }

        @Test func includeGlobs() {
            let selection = UpdateSelection(kind: .security, include: ["openssl*", "libssl?", "[!a-z]*"])
            #expect(selection.decide(Self.update("openssl")) == .selected)
            #expect(selection.decide(Self.update("libssl3")) == .selected)
            #expect(selection.decide(Self.update("libssl30")) == .skipped("not included"))
            #expect(selection.decide(Self.update("0ad")) == .selected)
            #expect(selection.decide(Self.update("curl")) == .skipped("not included"))
            // Include narrows; it does not widen past security-only.
            #expect(selection.decide(Self.update("openssl-doc", security: false)) == .skipped("not a security update"))
        }

        @Test func severityText() {
            #expect(Severity(text: "LOW") == .low)
            #expect(Severity(text: "Medium") == .medium)
            #expect(Severity(text: "high") == .high)
            #expect(Severity(text: " critical ") == .critical)
            #expect(Severity(text: "urgent") == nil)
            #expect(Severity.low < Severity.critical)
        }
    }
}
