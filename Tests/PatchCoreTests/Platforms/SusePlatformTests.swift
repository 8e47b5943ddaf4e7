import Foundation
import Testing
@testable import PatchCore

@Suite("SUSE/zypper parsers on real outputs")
struct SusePlatformTests {
    static let platform = SusePlatform(os: OSInfo(family: .suse, id: "opensuse-leap", name: "openSUSE Leap", version: "16.0"))

    @Test func leap16ListUpdates() throws {
        let updates = try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates.xml"))
        #expect(updates.map(\.name) == ["kernel-default", "kernel-default-extra", "kernel-default-optional", "qemu-guest-agent"])
        #expect(updates[3] == SusePlatform.PackageUpdate(name: "qemu-guest-agent", edition: "10.0.7-160000.1.1", oldEdition: "10.0.4-160000.1.1",
                                                          arch: "aarch64", oldArch: nil, repository: "https-download.opensuse.org-4bc031d9"))
    }

    @Test func leap16SecurityPatchesListedOncePerName() throws {
        // The recording lists each patch twice, once per repository offering it.
        let patches = try SusePlatform.parsePatches(try Fixture.text("suse/leap16-list-patches-security.xml"))
        #expect(patches.map(\.name) == ["openSUSE-Leap-16.0-112", "openSUSE-Leap-16.0-113"])
        let kernel = patches[1]
        #expect(kernel.category == "security" && kernel.severity == "important" && kernel.restart && kernel.interactive)
        #expect(kernel.repositories == ["https-download.opensuse.org-4bc031d9", "openSUSE:repo-oss"])
        #expect(!patches[0].restart && !patches[0].interactive)
    }

    @Test func patchesCarryTheCVEsTheirIssueListNames() throws {
        let patches = try SusePlatform.parsePatches(try Fixture.text("suse/leap16-list-patches-security.xml"))
        // 112 names a CVE and a Bugzilla entry; 113 only Bugzilla and Jira entries.
        #expect(patches.map(\.cves) == [["CVE-2025-11234"], []])
        let updates = try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates.xml"))
        let findings = SusePlatform.mergeFindings(patches: patches, updates: updates,
                                                  packagesOfPatches: ["openSUSE-Leap-16.0-112": [.init(name: "qemu-guest-agent", arch: nil, edition: "10.0.7-160000.1.1")]])
        let agent = try #require(findings.first { $0.name == "qemu-guest-agent" })
        #expect(agent.cves == [CVEReference(id: "CVE-2025-11234", severity: .high, vendorSeverity: "important", source: "zypper")])
        #expect(agent.normalizedSeverity == .high)
        #expect(findings.first { $0.name == "kernel-default" }?.cves == [])
        #expect(findings.first { $0.name == "patch:openSUSE-Leap-16.0-113" }?.cves == [])
    }

    @Test func olderZypperWithoutOldEdition() throws {
        // SLE 12 SP1's zypper: attributes in another order, no edition-old, no kind="patch" entries.
        let updates = try SusePlatform.parseUpdates(try Fixture.text("suse/sles12-list-updates.xml"))
        #expect(updates.map(\.name) == ["SUSEConnect", "bind-libs", "bind-utils"])
        #expect(updates.allSatisfy { $0.oldEdition.isEmpty && $0.repository == "SLE12-SP1-x86_64-Update" })
    }

    @Test func archChangeEpochAndTilde() throws {
        let updates = try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates-g03.xml"))
        #expect(updates.count == 15)
        let archChange = try #require(updates.first { $0.name == "g03-archchg" })
        #expect(archChange.arch == "noarch" && archChange.oldArch == "x86_64")
        #expect(updates.first { $0.name == "g03-epoch" }?.edition == "3:2.0-1")
        #expect(updates.first { $0.name == "g03-novendor" }?.oldEdition == "1.0~rc1-1")
        // Entities in descriptions are decoded, not mistaken for markup.
        let document = try SusePlatform.parseXML(try Fixture.text("suse/leap16-list-updates-g03.xml"))
        #expect(document.all("description").contains { $0.text.contains("(commonly known as 'plug-ins')") })
    }

    @Test func lockedZypperIsAnErrorWithItsMessage() {
        #expect { try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates-locked.xml"), exit: 7) } throws: { error in
            let text = (error as? ParseFailure)?.description ?? ""
            return text.contains("exit 7: another process holds the zypp lock")
                && text.contains("System management is locked by the application with pid 15950 (zypper). Close this application before trying again.")
        }
    }

    @Test func skippedRepositoryIsAnErrorNotAShorterList() {
        #expect { try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates-broken-repo.xml"), exit: 106) } throws: { error in
            let text = (error as? ParseFailure)?.description ?? ""
            return text.contains("exit 106: some repositories were skipped") && text.contains("Repository 'g03repo' is invalid.")
                && !text.contains("Skipping repository")
        }
    }

    @Test func errorMessagesFailTheScanEvenWithExitZero() {
        // Non-root without a metadata cache: nothing loaded, empty list, exit 0.
        #expect { try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates-nonroot-nocache.xml"), exit: 0) } throws: { error in
            (error as? ParseFailure)?.description.contains("No permission to write repository cache") == true
        }
    }

    @Test func emptyListsAndInformationalExits() throws {
        let empty = "<?xml version='1.0'?>\n<stream>\n<update-status version=\"0.6\">\n<update-list>\n</update-list>\n</update-status>\n</stream>\n"
        #expect(try SusePlatform.parseUpdates(empty).isEmpty)
        #expect(try SusePlatform.parsePatches(empty, exit: 100).isEmpty)
        #expect(try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates.xml"), exit: 101).count == 4)
    }

    @Test func notXMLOrTruncated() {
        #expect(throws: ParseFailure.self) { try SusePlatform.parseUpdates("sh: zypper: command not found", exit: 127) }
        #expect(throws: ParseFailure.self) { try SusePlatform.parseUpdates("<?xml version='1.0'?>\n<stream>\n<update-status version=\"0.6\">\n<update-list>\n<update kind=\"package\"") }
    }

    @Test func patchInfoConflictsNameTheFixedPackages() throws {
        let info = SusePlatform.parsePatchInfo(try Fixture.text("suse/sles15-info-patch.txt"))
        #expect(info["SUSE-SLE-Module-Basesystem-15-SP5-2023-4176"] == [
            .init(name: "libruby2_5-2_5", arch: "x86_64", edition: "2.5.9-150000.4.29.1"),
            .init(name: "ruby2.5", arch: "noarch", edition: "2.5.9-150000.4.29.1"),
        ])
        let crypto = try #require(info["SUSE-SLE-Module-Basesystem-15-SP5-2023-4843"])
        #expect(crypto.map(\.name) == ["python3-cryptography", "python3-cryptography", "zypper-log"])
        #expect(crypto.last?.arch == nil)
    }

    @Test func patchesGiveSecurityAndSeverityToTheirPackages() throws {
        let info = SusePlatform.parsePatchInfo(try Fixture.text("suse/sles15-info-patch.txt"))
        let patches = [
            SusePlatform.Patch(name: "SUSE-SLE-Module-Basesystem-15-SP5-2023-4176", edition: "1", arch: "noarch", category: "security",
                               severity: "important", restart: false, interactive: false, repositories: ["SLE-Module-Basesystem15-SP5-Updates"]),
            SusePlatform.Patch(name: "SUSE-SLE-Module-Basesystem-15-SP5-2023-4843", edition: "1", arch: "noarch", category: "security",
                               severity: "moderate", restart: false, interactive: false, repositories: ["SLE-Module-Basesystem15-SP5-Updates"]),
        ]
        // Package updates as list-updates would show them for those patches (names and editions
        // from the info fixture; the repository alias from its Repository line).
        let updates = [
            SusePlatform.PackageUpdate(name: "ruby2.5", edition: "2.5.9-150000.4.29.1", oldEdition: "2.5.9-150000.4.26.1", arch: "noarch",
                                       oldArch: nil, repository: "SLE-Module-Basesystem15-SP5-Updates"),
            SusePlatform.PackageUpdate(name: "python3-cryptography", edition: "3.3.2-150400.23.1", oldEdition: "3.3.2-150400.20.3", arch: "x86_64",
                                       oldArch: nil, repository: "SLE-Module-Basesystem15-SP5-Updates"),
            SusePlatform.PackageUpdate(name: "vim", edition: "9.1-1", oldEdition: "9.0-1", arch: "x86_64", oldArch: nil, repository: "other"),
        ]
        let findings = SusePlatform.mergeFindings(patches: patches, updates: updates, packagesOfPatches: info)
        #expect(findings.count == 3)
        #expect(findings[0] == PendingUpdate(name: "ruby2.5", installedVersion: "2.5.9-150000.4.26.1", availableVersion: "2.5.9-150000.4.29.1",
                                             source: "SLE-Module-Basesystem15-SP5-Updates, patch:SUSE-SLE-Module-Basesystem-15-SP5-2023-4176",
                                             security: true, architecture: "noarch", severity: "important",
                                             advisories: ["SUSE-SLE-Module-Basesystem-15-SP5-2023-4176"]))
        #expect(findings[1].security && findings[1].severity == "moderate")
        #expect(!findings[2].security && findings[2].severity == nil && findings[2].source == "other" && findings[2].advisories.isEmpty)
    }

    @Test func patchesWithoutListedPackagesBecomeFindings() throws {
        let patches = try SusePlatform.parsePatches(try Fixture.text("suse/leap16-list-patches-security.xml"))
        let updates = try SusePlatform.parseUpdates(try Fixture.text("suse/leap16-list-updates.xml"))
        // No info section: the patches cannot be tied to packages, so both stand as findings.
        let findings = SusePlatform.mergeFindings(patches: patches, updates: updates, packagesOfPatches: [:])
        #expect(findings.count == 6)
        let kernelPatch = try #require(findings.first { $0.name == "patch:openSUSE-Leap-16.0-113" })
        #expect(kernelPatch.security && kernelPatch.severity == "important" && kernelPatch.availableVersion == "1")
        #expect(kernelPatch.source == "https-download.opensuse.org-4bc031d9, openSUSE:repo-oss")
        #expect(kernelPatch.advisories == ["openSUSE-Leap-16.0-113"], "the patch is SUSE's advisory")
        #expect(findings.filter { !$0.name.hasPrefix("patch:") }.allSatisfy { $0.advisories.isEmpty })
        #expect(findings.filter(\.security).count == 2)
    }

    @Test func wholeScanOutput() throws {
        let output = """
            @@patchctl patches
            \(try Fixture.text("suse/leap16-list-patches-security.xml"))
            @@patchctl patches-exit
            0
            @@patchctl updates
            \(try Fixture.text("suse/leap16-list-updates.xml"))
            @@patchctl updates-exit
            0
            @@patchctl patch-info
            @@patchctl installed
            1234
            @@patchctl reboot
            needs-rebooting 102
            reboot-needed-file
            """
        let findings = try Self.platform.parseScan(output)
        #expect(findings.updates.count == 6 && findings.installedCount == 1234 && findings.rebootRequired)
        #expect(!SusePlatform.parseReboot("needs-rebooting 0\n"))
        #expect(SusePlatform.parseReboot("needs-rebooting 1\nreboot-needed-file\n"))
        #expect(!SusePlatform.parseReboot("needs-rebooting 1\n"))
    }

    @Test func failedRefreshIsReported() {
        let output = "@@patchctl refresh\n\(try! Fixture.text("suse/leap16-list-updates-locked.xml"))\n@@patchctl refresh-exit\n7\n@@patchctl patches\n@@patchctl updates\n"
        #expect { try Self.platform.parseScan(output) } throws: { error in
            (error as? ParseFailure)?.description.hasPrefix("metadata refresh (zypper refresh) failed (exit 7): System management is locked") == true
        }
    }

    @Test(arguments: [
        (["ID": "opensuse-leap", "ID_LIKE": "suse opensuse", "VERSION_ID": "15.6", "NAME": "openSUSE Leap"], "opensuse-leap", "15.6"),
        (["ID": "opensuse-tumbleweed", "ID_LIKE": "opensuse suse", "VERSION_ID": "20240101", "NAME": "openSUSE Tumbleweed"], "opensuse-tumbleweed", "20240101"),
        (["ID": "sles", "ID_LIKE": "suse", "VERSION_ID": "15.5", "NAME": "SLES"], "sles", "15.5"),
        (["ID": "sle-micro", "ID_LIKE": "suse", "VERSION_ID": "5.5", "NAME": "SLE Micro"], "sle-micro", "5.5"),
    ])
    func detectsSuseFamilies(release: [String: String], id: String, version: String) {
        let facts = OSFacts(osRelease: release, kernelName: "Linux", kernelRelease: "6.4.0", machine: "x86_64")
        let platform = SusePlatform.detect(facts)
        #expect(platform?.os.id == id && platform?.os.version == version && platform?.family == .suse)
    }

    @Test func otherFamiliesAreNotSuse() {
        let debian = OSFacts(osRelease: ["ID": "debian", "VERSION_ID": "12"], kernelName: "Linux", kernelRelease: "6.1", machine: "x86_64")
        let rocky = OSFacts(osRelease: ["ID": "rocky", "ID_LIKE": "rhel centos fedora"], kernelName: "Linux", kernelRelease: "5.14", machine: "x86_64")
        #expect(SusePlatform.detect(debian) == nil && SusePlatform.detect(rocky) == nil)
    }

    @Test func installIsExactAndQuoted() {
        let command = Self.platform.installCommand([
            PendingUpdate(name: "ruby2.5", installedVersion: "1", availableVersion: "2.5.9-150000.4.29.1", source: "s", security: true),
            PendingUpdate(name: "patch:openSUSE-Leap-16.0-113", installedVersion: "", availableVersion: "1", source: "s", security: true),
            PendingUpdate(name: "x; reboot", installedVersion: "1", availableVersion: "2", source: "s", security: false),
        ])
        #expect(command.contains("zypper --non-interactive install --auto-agree-with-licenses --oldpackage --no-recommends -- ruby2.5=2.5.9-150000.4.29.1 patch:openSUSE-Leap-16.0-113 'x; reboot=2'"))
        #expect(command.hasSuffix("rc=$?; case $rc in 102) [ -e /run/reboot-needed ] || : >/run/reboot-needed; rc=0;; 103) rc=0;; esac; exit $rc"))
    }

    @Test func installedVersionsNewestInstallWins() {
        let output = """
            @@patchctl rpm
            1700000000\tkernel-default\t6.12.0-160000.7.1
            1710000000\tkernel-default\t6.12.0-160000.8.1
            1600000000\tg03-epoch\t3:2.0-1
            package nothere is not installed
            @@patchctl patches
            <?xml version='1.0'?>
            <stream>
            <search-result version="0.0">
            <solvable-list>
            <solvable status="installed" name="openSUSE-Leap-16.0-113" kind="patch" edition="1" arch="noarch"/>
            <solvable status="not-installed" name="openSUSE-Leap-16.0-112" kind="patch" edition="1" arch="noarch"/>
            </solvable-list>
            </search-result>
            </stream>
            """
        #expect(Self.platform.parseInstalledVersions(output) == [
            "kernel-default": "6.12.0-160000.8.1", "g03-epoch": "3:2.0-1", "patch:openSUSE-Leap-16.0-113": "1",
        ])
        let command = Self.platform.installedVersionsCommand(["kernel-default", "patch:openSUSE-Leap-16.0-113"])
        #expect(command.contains("%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}") && command.contains("--match-exact -- openSUSE-Leap-16.0-113"))
    }

    @Test func healthFromVerify() {
        #expect(Self.platform.parseHealth("Loading repository data...\nReading installed packages...\nDependencies of all installed packages are satisfied.\n@@patchctl verify-exit 0\n") == .healthy)
        #expect(Self.platform.parseHealth("System management is locked by the application with pid 1 (zypper).\n@@patchctl verify-exit 7\n") == .healthy)
        guard case let .broken(detail, repair) = Self.platform.parseHealth("Root privileges are required to run this command.\n@@patchctl verify-exit 5\n") else {
            Issue.record("expected broken"); return
        }
        #expect(detail.contains("exit 5: root privileges are required") && repair == "zypper --non-interactive verify")
    }

    @Test func scanScriptShape() {
        let script = SusePlatform.scanCommand(refresh: true)
        #expect(script.contains("zypper --non-interactive --xmlout refresh"))
        #expect(script.contains("zypper --non-interactive --xmlout --no-refresh list-patches"))
        #expect(!SusePlatform.scanCommand(refresh: false).contains("xmlout refresh"))
    }

    @Test func scanScriptRunsThroughARealShellWithStubTools() throws {
        let patches = try #require(Bundle.module.url(forResource: "Fixtures/suse/leap16-list-patches-security.xml", withExtension: nil)).path
        let updates = try #require(Bundle.module.url(forResource: "Fixtures/suse/leap16-list-updates.xml", withExtension: nil)).path
        let output = try StubShell.run(SusePlatform.scanCommand(refresh: false), stubs: [
            "zypper": """
                case "$*" in
                  *list-patches*) cat '\(patches)' ;;
                  *list-updates*) cat '\(updates)' ;;
                  *"info -t patch"*) echo "info args: $*" ;;
                  needs-rebooting) exit 102 ;;
                esac
                """,
            "rpm": "printf 'a\\nb\\nc\\n'",
        ])
        let sections = Sections.split(output)
        #expect(sections["patch-info"] == "info args: --non-interactive --no-refresh info -t patch openSUSE-Leap-16.0-112 openSUSE-Leap-16.0-113")
        let findings = try Self.platform.parseScan(output)
        #expect(findings.installedCount == 3 && findings.rebootRequired && findings.updates.count == 6)
    }

    @Test func registeredInThePOSIXScanAfterDebianAndRhel() throws {
        let script = ScanScript.posix.command(refresh: false)
        let debian = try #require(script.range(of: "elif [ -z \"$pc_release\" ] && { \(DebianPlatform.probe); }; then"))
        let suse = try #require(script.range(of: "elif [ -z \"$pc_release\" ] && { \(SusePlatform.probe); }; then"))
        let macos = try #require(script.range(of: "elif [ -z \"$pc_release\" ] && { \(MacOSPlatform.probe); }; then"))
        #expect(debian.lowerBound < suse.lowerBound && suse.lowerBound < macos.lowerBound)
        #expect(ScanScript.posixFamilies.map { String(describing: $0.platform) } == ["DebianPlatform", "RhelPlatform", "SusePlatform", "MacOSPlatform"])
        let leap = OSFacts(osRelease: ["ID": "opensuse-leap", "ID_LIKE": "suse opensuse", "VERSION_ID": "15.6"], kernelName: "Linux", kernelRelease: "6.4", machine: "x86_64")
        #expect(Platforms.detect(leap)?.family == .suse)
        let mac = OSFacts(osRelease: [:], kernelName: "Darwin", kernelRelease: "24.6.0", machine: "arm64")
        #expect(Platforms.detect(mac)?.family == .macos)
    }
}

/// zypper 1.14's own outputs from the lab's SLES 15 SP5 look-alike (`Fixtures/sles15-lab`).
@Suite("SUSE/zypper parsers on outputs recorded in the lab")
struct SuseLabFixtureTests {
    static let platform = SusePlatform(os: OSInfo(family: .suse, id: "sles", name: "SLES", version: "15.5"))
    static let prefix = "SUSE-SLE-Module-Basesystem-15-SP5-2025-"

    @Test func singleConflictOnTheLabelLineIsAPackageOfThePatch() throws {
        // zypper prints one conflict on the `Conflicts :` line itself; it was read as none, so the
        // patch stood apart from its package and that package lost its advisory.
        let info = SusePlatform.parsePatchInfo(try Fixture.text("sles15-lab/info-patch.txt"))
        #expect(info[Self.prefix + "1002"] == [.init(name: "patchlab-utils", arch: nil, edition: "2.0-150500.1.1")])
        #expect(info[Self.prefix + "1001"] == [
            .init(name: "patchlab-openssl", arch: "x86_64", edition: "1.1.1-150500.3.1"),
            .init(name: "patchlab-openssl", arch: "noarch", edition: "1.1.1-150500.3.1"),
            .init(name: "libpatchlab-ssl3", arch: "x86_64", edition: "1.1.1-150500.3.1"),
            .init(name: "libpatchlab-ssl3", arch: "noarch", edition: "1.1.1-150500.3.1"),
        ], "the .src entry is left out")
        #expect(info[Self.prefix + "1003"]?.map(\.name) == ["patchlab-kernel-default", "patchlab-kernel-default"])
        #expect(SusePlatform.conflictPackage(" [5]") == nil && SusePlatform.conflictPackage("srcpackage:openssl < 1-1") == nil)
    }

    @Test func wholeLabScan() throws {
        let output = """
            @@patchctl patches
            \(try Fixture.text("sles15-lab/list-patches.xml"))
            @@patchctl patches-exit
            0
            @@patchctl updates
            \(try Fixture.text("sles15-lab/list-updates.xml"))
            @@patchctl updates-exit
            0
            @@patchctl patch-info
            \(try Fixture.text("sles15-lab/info-patch.txt"))
            @@patchctl installed
            5
            @@patchctl reboot
            needs-rebooting 0
            """
        let findings = try Self.platform.parseScan(output)
        let byName = Dictionary(uniqueKeysWithValues: findings.updates.map { ($0.name, $0) })
        #expect(Set(byName.keys) == ["patchlab-openssl", "libpatchlab-ssl3", "patchlab-utils", "patchlab-kernel-default", "patchlab-tool"],
                "every patch is tied to its packages: no patch:NAME finding")
        for name in ["patchlab-openssl", "libpatchlab-ssl3"] {
            let update = try #require(byName[name])
            #expect(update.security && update.severity == "important" && update.advisories == [Self.prefix + "1001"])
            #expect(update.cves.map(\.id) == ["CVE-2025-20001", "CVE-2025-20002"])
            #expect(update.installedVersion == "1.1.1-150500.1.1" && update.availableVersion == "1.1.1-150500.3.1" && update.architecture == "x86_64")
        }
        #expect(byName["patchlab-utils"].map { !$0.security && $0.severity == "moderate" && $0.advisories == [Self.prefix + "1002"] } == true)
        #expect(byName["patchlab-kernel-default"].map { !$0.security && $0.severity == "low" && $0.advisories == [Self.prefix + "1003"] } == true)
        #expect(byName["patchlab-tool"].map { !$0.security && $0.severity == nil && $0.advisories.isEmpty && $0.source == "patchlab-sle-updates" } == true)
        #expect(findings.installedCount == 5 && !findings.rebootRequired)
        let patches = try SusePlatform.parsePatches(try Fixture.text("sles15-lab/list-patches.xml"))
        #expect(patches.map(\.restart) == [false, false, true] && patches.map(\.category) == ["security", "recommended", "recommended"])
    }

    @Test func aPatchIsInstalledAsSuchOnlyWhenAllItsPackagesArePlanned() throws {
        let findings = try Self.platform.parseScan("""
            @@patchctl patches
            \(try Fixture.text("sles15-lab/list-patches.xml"))
            @@patchctl updates
            \(try Fixture.text("sles15-lab/list-updates.xml"))
            @@patchctl patch-info
            \(try Fixture.text("sles15-lab/info-patch.txt"))
            """).updates
        let security = findings.filter(\.security)
        let command = Self.platform.installCommand(security, of: findings)
        #expect(command.contains("-- libpatchlab-ssl3=1.1.1-150500.3.1 patchlab-openssl=1.1.1-150500.3.1 patch:\(Self.prefix)1001;"), "\(command)")
        // One of the patch's two packages: the patch would bring the other, so only the package.
        let one = Self.platform.installCommand(security.filter { $0.name == "patchlab-openssl" }, of: findings)
        #expect(one.contains("-- patchlab-openssl=1.1.1-150500.3.1;") && !one.contains("patch:"))
        let all = Self.platform.installCommand(findings, of: findings)
        #expect(["1001", "1002", "1003"].allSatisfy { all.contains("patch:\(Self.prefix)\($0)") } && all.contains("patchlab-tool=1.1-150500.1.1"))
        // zypper's 102 after a patch that suggests a reboot is left where needs-rebooting looks.
        #expect(command.hasSuffix("rc=$?; case $rc in 102) [ -e /run/reboot-needed ] || : >/run/reboot-needed; rc=0;; 103) rc=0;; esac; exit $rc"))
    }

    @Test func appliedPatchReadsAsInstalled() throws {
        let output = "@@patchctl rpm\n@@patchctl patches\n" + (try Fixture.text("sles15-lab/search-patch-installed.xml"))
        #expect(Self.platform.parseInstalledVersions(output) == ["patch:\(Self.prefix)1003": "1"])
    }
}
