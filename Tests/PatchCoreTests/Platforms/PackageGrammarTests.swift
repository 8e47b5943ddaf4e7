import Foundation
import Testing
@testable import PatchCore

/// Names and versions from endpoints are checked against each package manager's grammar right
/// after parsing: `-oDPkg::Pre-Invoke::=…` is one shell word but still an option to apt, and real
/// apt ran the hook. A finding that fails is reported and never planned.
@Suite struct PackageGrammarTests {
    static func update(_ name: String, _ version: String = "1.0-1", installed: String = "0.9-1", source: String = "Debian:12/stable",
                       arch: String? = "amd64") -> PendingUpdate {
        PendingUpdate(name: name, installedVersion: installed, availableVersion: version, source: source, security: false, architecture: arch)
    }

    @Test func hostileDebianFindingsAreRejected() {
        let bad: [PendingUpdate] = [
            Self.update("-oDPkg::Pre-Invoke::=touch /tmp/pwned"),
            Self.update("curl", "-oAPT::Get::Trivial-Only=0"),
            Self.update("curl", installed: "1.0\u{1B}]0;owned\u{07}"),
            Self.update("nul\u{FFFD}byte"),
            Self.update("a"),                       // policy: at least two characters
            Self.update("pkg;rm -rf /"),
            Self.update("pkg name"),
            Self.update("curl", arch: "amd64 -o x"),
            Self.update("curl", source: "Debian\u{1B}[2J"),
        ]
        for update in bad {
            #expect(PackageGrammar.of(update, family: .debian).problem(with: update) != nil, "\(update)")
        }
        var findings = ScanFindings(updates: bad + [Self.update("libc6:i386", "2.36-9+deb12u4")], installedCount: 1, rebootRequired: false)
        let rejected = findings.rejectInvalid(family: .debian)
        #expect(rejected.count == bad.count)
        #expect(findings.updates.map(\.name) == ["libc6:i386"])
        // The reason shows control characters escaped, never raw.
        #expect(rejected.allSatisfy { !$0.reason.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 } })
    }

    @Test func otherManagersHaveTheirOwnGrammar() {
        let rpm = Self.update("kernel-core", "5.14.0-427.el9", installed: "5.14.0-362.el9", arch: "x86_64")
        #expect(PackageGrammar.rpm.problem(with: rpm) == nil)
        #expect(PackageGrammar.rpm.problem(with: Self.update("--setopt=tsflags=noscripts", arch: nil)) != nil)
        #expect(PackageGrammar.zypper.problem(with: Self.update("patch:SUSE-SLE-Module-Basesystem-15-SP5-2024-123", "1", installed: "", arch: nil)) == nil)
        #expect(PackageGrammar.zypper.problem(with: Self.update("patch:--no-gpg-checks", "1", installed: "", arch: nil)) != nil)
        let winget = Self.update("Microsoft.VisualStudioCode", "1.85.1", installed: "1.84.2", source: "winget", arch: nil)
        #expect(PackageGrammar.of(winget, family: .windows) == .thirdParty(.winget))
        #expect(PackageGrammar.of(winget, family: .windows).problem(with: winget) == nil)
        let wingetOption = Self.update("--override", "1.0", source: "winget", arch: nil)
        #expect(PackageGrammar.of(wingetOption, family: .windows).problem(with: wingetOption) != nil)
        let snap = Self.update("core22", "20240111", installed: "20231123", source: "snap", arch: nil)
        #expect(PackageGrammar.of(snap, family: .debian).problem(with: snap) == nil)
    }

    /// No false alarms: every finding parsed from the recorded real outputs fits its grammar.
    @Test func everyRecordedFindingIsValid() throws {
        var findings: [(PendingUpdate, OSFamily)] = []
        findings += try DebianPlatform.parseSimulation(try Fixture.text("debian12/apt-get-s-dist-upgrade.txt")).map { ($0, .debian) }
        findings += try DebianPlatform.parseSimulation(try Fixture.text("debian-public/debian13-apt-get-s-upgrade.txt")).map { ($0, .debian) }
        findings += try DebianPlatform.parseSimulation(try Fixture.text("ubuntu2204/apt-get-s-upgrade.txt")).map { ($0, .debian) }
        findings += try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates-g03.xml")).map {
            (PendingUpdate(name: $0.name, installedVersion: $0.oldEdition, availableVersion: $0.edition, source: $0.repository, security: false,
                           architecture: $0.arch), .suse)
        }
        findings += try ThirdPartyManager.parseWingetUpgrade(try Fixture.text("thirdparty/winget-upgrade-duplicates.txt")).map { ($0, .windows) }
        findings += ThirdPartyManager.parseChocoOutdated(try Fixture.text("thirdparty/choco-outdated-r.txt")).map { ($0, .windows) }
        #expect(findings.count > 20)
        for (update, family) in findings {
            #expect(PackageGrammar.of(update, family: family).problem(with: update) == nil, "\(update)")
        }
    }
}
