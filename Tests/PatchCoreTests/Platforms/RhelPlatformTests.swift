import Foundation
import Testing
@testable import PatchCore

@Suite("RHEL-family parsers on real outputs")
struct RhelPlatformTests {
    static let lab = "rocky9-lab/"
    static let publicDir = "rhel-public/"

    static func platform(kernel: String = "6.18.44-fc-v669") throws -> RhelPlatform {
        let facts = OSFacts(osRelease: Platforms.parseOSRelease(try Fixture.text(lab + "os-release.txt")),
                            kernelName: "Linux", kernelRelease: kernel, machine: "x86_64")
        return try #require(RhelPlatform.detect(facts))
    }

    /// A whole scan's output as `scanCommand` prints it, made of the lab's recorded pieces.
    static func scanOutput(checkUpdate: String, checkUpdateExit: Int, updateInfo: String = "", rpm: String,
                           reboot: String, rebootExit: Int = 0, refresh: (String, Int)? = nil, cves: (String, Int)? = nil) -> String {
        var sections: [(String, String)] = []
        if let refresh { sections += [("refresh", refresh.0), ("refresh-exit", String(refresh.1))] }
        sections += [("check-update", checkUpdate), ("check-update-exit", String(checkUpdateExit)),
                     ("updateinfo", updateInfo), ("updateinfo-exit", "0")]
        if let cves { sections += [("updateinfo-cves", cves.0), ("updateinfo-cves-exit", String(cves.1))] }
        sections += [("rpm", rpm),
                     ("reboot", reboot), ("reboot-exit", String(rebootExit)),
                     ("kernels", "package kernel-core is not installed\npackage kernel is not installed"),
                     ("running-kernel", "6.18.44-fc-v669")]
        return sections.map { "\(Sections.marker) \($0.0)\n" + $0.1 + ($0.1.hasSuffix("\n") || $0.1.isEmpty ? "" : "\n") }.joined()
    }

    // MARK: Detection

    @Test func detectsRockyAndReadsItsCodename() throws {
        let os = try Self.platform().os
        #expect(os == OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.5", codename: "Blue Onyx",
                             kernel: "6.18.44-fc-v669", architecture: "x86_64"))
        // The public Rocky 9.5 os-release (which the lab's copies) reads the same.
        let published = Platforms.parseOSRelease(try Fixture.text(Self.publicDir + "rocky95-os-release.txt"))
        #expect(RhelPlatform.detect(OSFacts(osRelease: published, kernelName: "Linux", kernelRelease: "", machine: "x86_64"))?.os.id == "rocky")
    }

    @Test func debianIsNotRhelAndTheOrderPutsDebianFirst() throws {
        let debian = OSFacts(osRelease: Platforms.parseOSRelease(try Fixture.text("debian12/os-release.txt")),
                             kernelName: "Linux", kernelRelease: "", machine: "x86_64")
        #expect(RhelPlatform.detect(debian) == nil)
        #expect(Platforms.detect(debian) is DebianPlatform)
        let rocky = OSFacts(osRelease: Platforms.parseOSRelease(try Fixture.text(Self.lab + "os-release.txt")),
                            kernelName: "Linux", kernelRelease: "", machine: "x86_64")
        #expect(Platforms.detect(rocky) is RhelPlatform)
        // The registry's order, which the scan script's choice follows too (ScanScriptTests).
        let order = Platforms.all.map { String(describing: $0) }
        #expect(try #require(order.firstIndex(of: "DebianPlatform")) < (try #require(order.firstIndex(of: "RhelPlatform"))))
    }

    // MARK: check-update

    @Test func labCheckUpdateReadsCandidatesAndStopsAtObsoletes() throws {
        let read = RhelPlatform.parseCheckUpdate(try Fixture.text(Self.lab + "dnf-check-update.txt"))
        #expect(read.unread.isEmpty && read.obsoleting)
        #expect(read.candidates.map { "\($0.name).\($0.arch) \($0.version) \($0.repo)" } == [
            "patchlab-openssl-lib.x86_64 1.1-1.el9 patchlab-baseos",
            "patchlab-python3-extremely-long-package-name-wraps.noarch 1.0-2.el9 patchlab-appstream",
            "patchlab-utils.noarch 1:2.0-1.el9 patchlab-baseos",
        ])
        // dnf's own wrapping on an 80-column terminal reads the same.
        #expect(RhelPlatform.parseCheckUpdate(try Fixture.text(Self.lab + "dnf-check-update-tty80.txt")) == read)
    }

    @Test func yumWrapsNameVersionAndRepositoryOntoLinesOfTheirOwn() throws {
        let wrapped = RhelPlatform.parseCheckUpdate(try Fixture.text(Self.publicDir + "centos7-yum-check-update-wrapped.txt"))
        #expect(wrapped.unread.isEmpty && !wrapped.obsoleting)
        #expect(wrapped.candidates.count == 2)
        let long = try #require(wrapped.candidates.first)
        #expect(long.name == String(repeating: "empty-", count: 19) + "empty" && long.arch == "x86_64" && long.repo == "addons")
        #expect(long.version.description == Array(repeating: "0", count: 36).joined(separator: ".") + ".1-0")
        #expect(wrapped.candidates.last == RhelPlatform.Candidate(name: "libtiff", arch: "x86_64", version: try #require(RPMVersion("4.0.3-27.el7_3")), repo: "updates"))

        let repoWrapped = RhelPlatform.parseCheckUpdate(try Fixture.text(Self.publicDir + "rhel7-yum-check-update-repo-wrapped.txt"))
        #expect(repoWrapped.unread.isEmpty)
        #expect(repoWrapped.candidates.map(\.name) == ["ipxe-roms-qemu", "quota", "quota-nls", "rdma", "screen", "sos", "sssd-client"])
        #expect(repoWrapped.candidates[0].repo == "rhelosp-9.0-director-puddle" && repoWrapped.candidates[0].version.description == "20160127-1.git6366fa7a.el7")
        #expect(repoWrapped.candidates[1].version == RPMVersion(epoch: 1, version: "4.01", release: "11.el7_2.1"))
    }

    @Test func yumChatterObsoletesAndRunningKernelNotesAreNotUpdates() throws {
        let read = RhelPlatform.parseCheckUpdate(try Fixture.text(Self.publicDir + "rhel7-yum-check-update-obsoletes.txt"))
        #expect(read.unread.isEmpty && read.obsoleting)
        // The upstream test's list of updates, less the obsoleters (replacements, not updates of an installed name).
        #expect(read.candidates.map(\.name) == ["NetworkManager-openvpn", "NetworkManager-openvpn-gnome", "cabal-install", "cgit",
                                                 "python34-libs", "python34-test", "python34-tkinter", "python34-tools", "qgit",
                                                 "rdiff-backup", "stoken-libs", "xlockmore"])
        #expect(read.candidates.allSatisfy { $0.repo == "epel" })
    }

    @Test func almaLinuxWideColumnsAfterALocaleWarning() throws {
        let read = RhelPlatform.parseCheckUpdate(try Fixture.text(Self.publicDir + "almalinux9-check-update-excerpt.txt"))
        #expect(read.unread.isEmpty && read.obsoleting)
        #expect(read.candidates.count == 21)
        #expect(read.candidates.first.map { "\($0.name) \($0.version) \($0.repo)" } == "ImageMagick7-djvu 1:7.1.2.12-1.el9.remi remi-safe")
        #expect(read.candidates.last.map { "\($0.name).\($0.arch) \($0.version)" } == "yum-utils.noarch 4.3.0-24.el9_7")
        #expect(!read.candidates.contains { $0.name == "mesa-dri-drivers" || $0.name == "grub2-tools" })
    }

    // MARK: updateinfo

    @Test func almaLinuxAdvisoriesWithSeveritiesAndEpochs() throws {
        let advisories = RhelPlatform.parseUpdateInfo(try Fixture.text(Self.publicDir + "almalinux9-updateinfo-list-security.txt"))
        #expect(advisories.count == 111)
        #expect(advisories.allSatisfy { $0.security })
        #expect(advisories.filter { $0.severity == "Important" }.count == 26)
        #expect(advisories.first { $0.name == "shadow-utils" } == RhelPlatform.Advisory(
            id: "ALSA-2025:20559", security: true, severity: "Low", name: "shadow-utils", arch: "x86_64",
            version: RPMVersion(epoch: 2, version: "4.9", release: "15.el9")))
        #expect(advisories.filter { $0.name == "kernel" }.count == 7)
        #expect(advisories.first { $0.name == "grub2-common" }.map { "\($0.arch) \($0.version)" } == "noarch 1:2.06-114.el9_7.alma.1")
    }

    @Test func everyAdvisoryBetweenInstalledAndCandidateCounts() throws {
        let advisories = RhelPlatform.parseUpdateInfo(try Fixture.text(Self.publicDir + "almalinux9-updateinfo-list-security.txt"))
        let candidates = RhelPlatform.parseCheckUpdate(try Fixture.text(Self.publicDir + "almalinux9-check-update-excerpt.txt")).candidates
        // Installed builds as that machine's `dnf list installed` shows some of them (same source file).
        let installed = [RhelPlatform.InstalledPackage(name: "NetworkManager", arch: "x86_64", version: try #require(RPMVersion("1:1.52.0-7.el9_6")))]
        let updates = RhelPlatform.pendingUpdates(candidates, advisories: advisories, installed: installed)
        let webkit = try #require(updates.first { $0.name == "webkit2gtk3-jsc" })
        // Installed version unknown to this test: all three advisories up to the candidate apply, newest id first.
        #expect(webkit.security && webkit.severity == "important" && webkit.availableVersion == "2.50.4-1.el9_7")
        #expect(webkit.source == "ALSA-2025:23700, ALSA-2025:22790, ALSA-2025:20922 (appstream)")
        #expect(webkit.advisories == ["ALSA-2025:23700", "ALSA-2025:22790", "ALSA-2025:20922"])
        let vim = try #require(updates.first { $0.name == "vim-minimal" })
        #expect(vim.security && vim.severity == "moderate" && vim.source == "ALSA-2025:20945 (baseos)" && vim.availableVersion == "2:8.2.2637-23.el9_7")
        let networkManager = try #require(updates.first { $0.name == "NetworkManager" })
        #expect(!networkManager.security && networkManager.severity == nil && networkManager.source == "baseos" && networkManager.advisories.isEmpty)
        #expect(networkManager.installedVersion == "1:1.52.0-7.el9_6" && networkManager.availableVersion == "1:1.54.0-3.el9_7")
        // With an installed build, only newer advisories count.
        let later = RhelPlatform.pendingUpdates(candidates.filter { $0.name == "webkit2gtk3-jsc" }, advisories: advisories, installed: [
            .init(name: "webkit2gtk3-jsc", arch: "x86_64", version: try #require(RPMVersion("2.50.3-1.el9_7"))),
        ])
        #expect(later.first?.source == "ALSA-2025:23700 (appstream)" && later.first?.installedVersion == "2.50.3-1.el9_7")
    }

    // MARK: Whole scans

    @Test func labScanHasSecurityFlagSeverityAndAdvisoriesInSource() throws {
        let output = Self.scanOutput(
            checkUpdate: try Fixture.text(Self.lab + "dnf-check-update.txt"), checkUpdateExit: 100,
            updateInfo: try Fixture.text(Self.lab + "dnf-updateinfo-list-available.txt"),
            rpm: try Fixture.text(Self.lab + "rpm-qa.txt"), reboot: try Fixture.text(Self.lab + "needs-restarting-none.txt"))
        let findings = try Self.platform().parseScan(output)
        #expect(findings.installedCount == 5)
        #expect(!findings.rebootRequired && findings.rebootPackages.isEmpty)
        #expect(findings.updates == [
            PendingUpdate(name: "patchlab-openssl-lib", installedVersion: "1.0-1.el9", availableVersion: "1.1-1.el9",
                          source: "PLSA-2025:0003, PLSA-2025:0001 (patchlab-baseos)", security: true, architecture: "x86_64", severity: "important",
                          advisories: ["PLSA-2025:0003", "PLSA-2025:0001"]),
            PendingUpdate(name: "patchlab-python3-extremely-long-package-name-wraps", installedVersion: "1.0-1.el9", availableVersion: "1.0-2.el9",
                          source: "patchlab-appstream", security: false, architecture: "noarch"),
            PendingUpdate(name: "patchlab-utils", installedVersion: "1:1.0-1.el9", availableVersion: "1:2.0-1.el9",
                          source: "PLBA-2025:0002 (patchlab-baseos)", security: false, architecture: "noarch", advisories: ["PLBA-2025:0002"]),
        ])
    }

    /// Issue 12: each advisory's CVEs, read in the same scan (`updateinfo list --available --with-cve`,
    /// recorded from real dnf on a repository whose advisories reference CVEs): the update names the
    /// CVEs of every advisory between installed and candidate, each with its advisory's severity.
    @Test func labScanNamesEachAdvisorysCVEsWithItsSeverity() throws {
        func scan(cves: (String, Int)?) throws -> ScanFindings {
            try Self.platform().parseScan(Self.scanOutput(
                checkUpdate: try Fixture.text(Self.lab + "dnf-check-update.txt"), checkUpdateExit: 100,
                updateInfo: try Fixture.text(Self.lab + "dnf-updateinfo-list-available.txt"),
                rpm: try Fixture.text(Self.lab + "rpm-qa.txt"), reboot: try Fixture.text(Self.lab + "needs-restarting-none.txt"), cves: cves))
        }
        let findings = try scan(cves: (try Fixture.text(Self.lab + "dnf-updateinfo-list-available-with-cve.txt"), 0))
        let openssl = try #require(findings.updates.first { $0.name == "patchlab-openssl-lib" })
        #expect(openssl.cves == [
            CVEReference(id: "CVE-2025-10001", severity: .medium, vendorSeverity: "Moderate", fixedVersion: "1.0.5-1.el9", source: "updateinfo"),
            CVEReference(id: "CVE-2025-10003", severity: .high, vendorSeverity: "Important", fixedVersion: "1.1-1.el9", source: "updateinfo"),
            CVEReference(id: "CVE-2025-10004", severity: .high, vendorSeverity: "Important", fixedVersion: "1.1-1.el9", source: "updateinfo"),
        ])
        #expect(openssl.normalizedSeverity == .high)
        let others = findings.updates.filter { $0.name != "patchlab-openssl-lib" }
        #expect(others.count == 2 && others.allSatisfy { $0.cves.isEmpty })
        // Everything else is what the scan without CVEs reads; a dnf that cannot list CVEs (exit 2) leaves them out, not the scan failed.
        var without = findings
        for index in without.updates.indices { without.updates[index].cves = [] }
        #expect(try scan(cves: nil) == without)
        #expect(try scan(cves: ("usage: dnf updateinfo [-c [config file]] ...\ndnf updateinfo: error: unrecognized arguments: --with-cve", 2)) == without)
        #expect(RhelPlatform.scanCommand(refresh: false).contains("updateinfo list --available --with-cve"))
    }

    @Test func onlyObsoletesOrNothingPendingAreEmptyScans() throws {
        let obsoleting = try Self.platform().parseScan(Self.scanOutput(
            checkUpdate: try Fixture.text(Self.lab + "dnf-check-update-obsoleting-only.txt"), checkUpdateExit: 100,
            updateInfo: try Fixture.text(Self.lab + "dnf-updateinfo-list-none.txt"), rpm: try Fixture.text(Self.lab + "rpm-qa.txt"),
            reboot: try Fixture.text(Self.lab + "needs-restarting-required.txt"), rebootExit: 1))
        #expect(obsoleting.updates.isEmpty)
        #expect(obsoleting.rebootRequired && obsoleting.rebootPackages == ["patchlab-openssl-lib"])
        let none = try Self.platform().parseScan(Self.scanOutput(
            checkUpdate: try Fixture.text(Self.lab + "dnf-check-update-none.txt"), checkUpdateExit: 0,
            rpm: try Fixture.text(Self.lab + "rpm-qa.txt"), reboot: try Fixture.text(Self.lab + "needs-restarting-none.txt")))
        #expect(none.updates.isEmpty && !none.rebootRequired)
    }

    @Test func errorsAreReportedWithDnfsOwnReason() throws {
        let platform = try Self.platform()
        let rpm = try Fixture.text(Self.lab + "rpm-qa.txt"), fine = try Fixture.text(Self.lab + "needs-restarting-none.txt")
        let noCache = #expect(throws: ParseFailure.self) {
            try platform.parseScan(Self.scanOutput(checkUpdate: try Fixture.text(Self.lab + "dnf-check-update-no-cache.txt"),
                                                   checkUpdateExit: 1, rpm: rpm, reboot: fine))
        }
        #expect(noCache?.description == "dnf check-update exited 1: Error: Cache-only enabled but no cache for 'patchlab-baseos' "
                + "(no metadata cache yet: scan with --refresh, which runs dnf makecache)")
        let refresh = #expect(throws: ParseFailure.self) {
            try platform.parseScan(Self.scanOutput(checkUpdate: "", checkUpdateExit: 0, rpm: rpm, reboot: fine,
                                                   refresh: (try Fixture.text(Self.lab + "dnf-makecache-error.txt"), 1)))
        }
        #expect(refresh?.description.hasPrefix("metadata refresh (dnf makecache) failed (exit 1): Error: Failed to download metadata for repo 'patchlab-baseos'") == true)
        let centos8 = #expect(throws: ParseFailure.self) {
            try platform.parseScan(Self.scanOutput(checkUpdate: try Fixture.text(Self.publicDir + "centos8-metadata-error.txt"),
                                                   checkUpdateExit: 1, rpm: rpm, reboot: fine))
        }
        #expect(centos8?.description.hasSuffix("Cannot prepare internal mirrorlist: No URLs in mirrorlist") == true)
        // Exit 100 with nothing readable is not "no updates".
        #expect(throws: ParseFailure.self) {
            try platform.parseScan(Self.scanOutput(checkUpdate: "Last metadata expiration check: 0:00:01 ago.\n", checkUpdateExit: 100, rpm: rpm, reboot: fine))
        }
        // A record cut short is not skipped silently.
        let cut = #expect(throws: ParseFailure.self) {
            try platform.parseScan(Self.scanOutput(checkUpdate: "\nlibtiff.x86_64\nkernel.x86_64  5.14.0-1.el9  baseos\n", checkUpdateExit: 100, rpm: rpm, reboot: fine))
        }
        #expect(cut?.description == "unexpected dnf check-update line: libtiff.x86_64")
        #expect(throws: ParseFailure.self) { try platform.parseScan("no sections at all") }
    }

    // MARK: Reboot, health, installed versions

    @Test func rebootFromNeedsRestartingElseFromTheNewestKernel() throws {
        #expect(RhelPlatform.parseReboot(try Fixture.text(Self.lab + "needs-restarting-required.txt"), kernels: "", runningKernel: "x")
                == (true, ["patchlab-openssl-lib"]))
        #expect(RhelPlatform.parseReboot(try Fixture.text(Self.lab + "needs-restarting-none.txt"), kernels: "", runningKernel: "x") == (false, []))
        // No answer (plugin missing): the kernels rpm lists, in the scan's query format.
        let kernels = "kernel-core\tx86_64\t0\t5.14.0\t503.14.1.el9_5\nkernel-core\tx86_64\t0\t5.14.0\t427.13.1.el9_4\npackage kernel-uek is not installed\n"
        let missing = "No such command: needs-restarting. Please use /usr/bin/dnf --help"
        #expect(RhelPlatform.parseReboot(missing, kernels: kernels, runningKernel: "5.14.0-427.13.1.el9_4.x86_64") == (true, ["kernel-core"]))
        #expect(RhelPlatform.parseReboot(missing, kernels: kernels, runningKernel: "5.14.0-503.14.1.el9_5.x86_64") == (false, []))
        // A kernel no package provides (a chroot, a container): no answer, no reboot claimed.
        #expect(RhelPlatform.parseReboot(missing, kernels: kernels, runningKernel: "6.18.44-fc-v669") == (false, []))
        // yum-utils' wording on EL7.
        let yum = "Core libraries or services have been updated:\n  kernel -> 3.10.0-1160.119.1.el7\n\nReboot is required to ensure that your system benefits from these updates.\n"
        #expect(RhelPlatform.parseReboot(yum, kernels: "", runningKernel: "") == (true, ["kernel"]))
    }

    @Test func duplicatePackagesAreABrokenPackageManager() throws {
        let platform = try Self.platform()
        let broken = platform.parseHealth(try Fixture.text(Self.lab + "dnf-check-duplicates.txt") + "\(Sections.marker) check-exit 1\n")
        guard case let .broken(detail, repair) = broken else { Issue.record("expected broken, got \(broken)"); return }
        #expect(detail.contains("patchlab-utils-1:1.0-1.el9.noarch is a duplicate with patchlab-utils-1:2.0-1.el9.noarch"))
        #expect(repair.hasPrefix("dnf remove --duplicates"))
        #expect(platform.parseHealth("\(Sections.marker) check-exit 0\n") == .healthy)
        #expect(platform.parseHealth("") != .healthy)
    }

    @Test func installedVersionsInDnfsFormat() throws {
        let platform = try Self.platform()
        #expect(platform.parseInstalledVersions(try Fixture.text(Self.lab + "rpm-qa.txt")) == [
            "patchlab-utils": "1:1.0-1.el9", "patchlab-release": "9.5-1.el9", "patchlab-openssl-lib": "1.0-1.el9",
            "patchlab-python3-extremely-long-package-name-wraps": "1.0-1.el9", "patchlab-legacy": "1.0-1.el9",
        ])
        // A kernel beside its successor: the newest; multilib behind on one architecture: the oldest.
        let several = "kernel\tx86_64\t0\t5.14.0\t427.13.1.el9_4\nkernel\tx86_64\t0\t5.14.0\t503.14.1.el9_5\n"
            + "glibc\tx86_64\t0\t2.34\t125.el9_5.1\nglibc\ti686\t0\t2.34\t100.el9\npackage nope is not installed\n"
        #expect(platform.parseInstalledVersions(several) == ["kernel": "5.14.0-503.14.1.el9_5", "glibc": "2.34-100.el9"])
    }

    @Test func installCommandNamesExactBuildsQuoted() throws {
        let command = try Self.platform().installCommand([
            PendingUpdate(name: "patchlab-utils", installedVersion: "1:1.0-1.el9", availableVersion: "1:2.0-1.el9", source: "", security: false, architecture: "noarch"),
            PendingUpdate(name: "x;touch /tmp/p", installedVersion: "1", availableVersion: "2-1", source: "", security: false, architecture: "x86_64"),
        ])
        #expect(command.hasSuffix("$pm -y upgrade -- patchlab-utils-1:2.0-1.el9.noarch 'x;touch /tmp/p-2-1.x86_64'"))
    }

    // MARK: Versions

    /// Vectors from rpm's own test suite (tests/rpmvercmp.at), each checked on this machine with
    /// rpm 4.18's `rpm --eval "%{lua: print(rpm.vercmp('A', 'B'))}"`.
    @Test(arguments: [
        ("1.0", "1.0", 0), ("1.0", "2.0", -1), ("2.0.1", "2.0", 1), ("2.0.1a", "2.0.1", 1), ("5.5p1", "5.5p10", -1),
        ("10xyz", "10.1xyz", -1), ("xyz.4", "8", -1), ("6.0.rc1", "6.0", 1), ("10b2", "10a1", 1), ("1.0a", "1.0aa", -1),
        ("10.0001", "10.1", 0), ("10.0001", "10.0039", -1), ("4.999.9", "5.0", -1), ("2.0", "2_0", 0), ("a+", "a_", 0),
        ("_+", "_", 0), ("1.0~rc1", "1.0", -1), ("1.0~rc1~git123", "1.0~rc1", -1), ("1.0^", "1.0", 1), ("1.0^git1", "1.01", -1),
        ("1.0^20160101", "1.0.1", -1), ("1.0^20160102", "1.0^20160101^git1", 1), ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0^git1~pre", "1.0^git1", -1), ("114.el9_7.alma.1", "104.el9_6.alma.1", 1), ("611.16.1.el9_7", "611.9.1.el9_7", 1),
    ])
    func rpmvercmp(_ a: String, _ b: String, _ expected: Int) {
        #expect(RPMVersion.compare(a, b) == expected)
        #expect(RPMVersion.compare(b, a) == -expected)
    }

    @Test func epochDecidesFirstAndPrintsOnlyWhenSet() throws {
        let withEpoch = try #require(RPMVersion("1:1.0-1.el9")), higherVersion = try #require(RPMVersion("9.0-1.el9"))
        #expect(higherVersion < withEpoch)
        #expect(withEpoch.description == "1:1.0-1.el9" && higherVersion.description == "9.0-1.el9")
        #expect(RPMVersion("0:2.0-1")?.description == "2.0-1")
        #expect(RPMVersion("x:1.0-1") == nil && RPMVersion("") == nil)
    }
}
