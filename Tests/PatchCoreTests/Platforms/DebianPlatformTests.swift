import Foundation
import Testing
@testable import PatchCore

@Suite("Debian/Ubuntu parsers on real outputs")
struct DebianPlatformTests {
    /// `apt list --upgradable` is apt's other view of the same state; our reading of the
    /// simulation must agree with it name for name and version for version.
    static func upgradableList(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where line.contains("[upgradable from:") {
            let fields = line.split(separator: " ")
            let name = fields[0].split(separator: "/")[0]
            let arch = fields[2]
            let key = arch == "amd64" || arch == "all" ? String(name) : "\(name):\(arch)"
            result[key] = String(fields[1])
        }
        return result
    }

    @Test func debian12LabSimulationMatchesAptList() throws {
        let updates = try DebianPlatform.parseSimulation(try Fixture.text("debian12/apt-get-s-dist-upgrade.txt"))
        let listed = Self.upgradableList(try Fixture.text("debian12/apt-list-upgradable.txt"))
        #expect(updates.count == 8)
        #expect(Dictionary(uniqueKeysWithValues: updates.map { ($0.name, $0.availableVersion) }) == listed)
        let perl = try #require(updates.first { $0.name == "perl-base" })
        #expect(perl == PendingUpdate(name: "perl-base", installedVersion: "5.36.0-7+deb12u3", availableVersion: "5.36.0-7+deb12u4",
                                      source: "Debian-Security:12/oldstable-security", security: true, architecture: "amd64"))
        #expect(updates.filter(\.security).map(\.name).sorted()
                == ["apt", "libapt-pkg6.0", "liblzma5", "libpcre2-8-0", "patchlab-canary", "perl-base", "tzdata"])
        let tool = try #require(updates.first { $0.name == "patchlab-tool" })
        #expect(!tool.security && tool.source == "PatchLab:12/lab-updates" && tool.architecture == "all")
    }

    @Test func ubuntu2204DistUpgradeSkipsNewPackagesAndReadsAnnotatedLines() throws {
        let updates = try DebianPlatform.parseSimulation(try Fixture.text("ubuntu2204/apt-s-dist-upgrade.txt"))
        // 74 Inst lines: 73 upgrades and one new package (a dependency, not an update).
        #expect(updates.count == 73)
        #expect(!updates.contains { $0.name == "linux-modules-nvidia-525-5.19.0-35-generic" })
        let gl = try #require(updates.first { $0.name == "libnvidia-gl-525" })
        #expect(gl.availableVersion == "525.85.05-0ubuntu0.22.04.1" && gl.source == "Ubuntu:22.04/jammy-updates" && gl.architecture == "amd64")
        #expect(updates.contains { $0.name == "libnvidia-gl-525:i386" && $0.architecture == "i386" })
        // The same machine's `apt list --upgradable`, a few days earlier: shared packages agree.
        let listed = Self.upgradableList(try Fixture.text("ubuntu2204/apt-list-upgradable.txt"))
        let shared = updates.filter { listed[$0.name] != nil }
        #expect(shared.count >= 60)
        for update in shared { #expect(listed[update.name] == update.availableVersion, "\(update.name)") }
    }

    @Test func ubuntu2204SecurityPocketListedAfterUpdates() throws {
        let updates = try DebianPlatform.parseSimulation(try Fixture.text("ubuntu2204/apt-get-s-upgrade.txt"))
        #expect(updates.map(\.name) == ["linux-cloud-tools-virtual", "linux-generic", "linux-image-generic", "linux-headers-generic"])
        #expect(updates.allSatisfy { $0.security && $0.source == "Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security" })
    }

    @Test func ubuntu2404UpgradeCountsMatchUpstreamTest() throws {
        let updates = try DebianPlatform.parseSimulation(try Fixture.text("ubuntu2404/apt-get-s-upgrade.txt"))
        #expect(updates.count == 72)
        #expect(updates.filter(\.security).count == 6)
        let small = try DebianPlatform.parseSimulation(try Fixture.text("ubuntu2404/apt-get-s-upgrade-small.txt"))
        #expect(small.count == 7 && small.allSatisfy(\.security))
    }

    @Test func debian13PublicOutput() throws {
        let updates = try DebianPlatform.parseSimulation(try Fixture.text("debian-public/debian13-apt-get-s-upgrade.txt"))
        #expect(updates.count == 42)
        #expect(updates.filter(\.security).count == 18)
    }

    /// Debian 13's apt 3.0, recorded in the lab's trixie tree (Fixtures/debian13-lab/SOURCE.md).
    @Test func debian13LabSimulationMatchesAptList() throws {
        let updates = try DebianPlatform.parseSimulation(try Fixture.text("debian13-lab/apt-get-s-dist-upgrade.txt"))
        let list = try Fixture.text("debian13-lab/apt-list-upgradable.txt")
        #expect(updates.count == 5)
        #expect(Dictionary(uniqueKeysWithValues: updates.map { ($0.name, $0.availableVersion) }) == Self.upgradableList(list))
        // The security flag apt list's suites give (`stable-security`, `lab-security`).
        let securityListed = list.split(separator: "\n").filter { $0.split(separator: " ").first?.contains("-security") == true }
            .map { String($0.split(separator: "/")[0]) }
        #expect(updates.filter(\.security).map(\.name) == securityListed)
        #expect(securityListed == ["libzstd1", "login.defs", "passwd", "patchlab-canary"])
        #expect(updates.first { $0.name == "passwd" } == PendingUpdate(
            name: "passwd", installedVersion: "1:4.17.4-2", availableVersion: "1:4.17.4-2+deb13u1",
            source: "Debian-Security:13/stable-security", security: true, architecture: "amd64"))
        #expect(updates.first { $0.name == "patchlab-tool" } == PendingUpdate(
            name: "patchlab-tool", installedVersion: "1.0", availableVersion: "2.0", source: "PatchLab:13/lab-updates", security: false,
            architecture: "all"))
    }

    /// trixie's dpkg 1.22: the scan's `binaries` section (what advisory feeds are matched against).
    @Test func debian13InstalledBinariesAndTheirSources() throws {
        let binaries = DebianPlatform.parseBinaries(try Fixture.text("debian13-lab/dpkg-query-source.txt"))
        #expect(binaries.count == 80)
        #expect(binaries.first { $0.name == "bash" } == InstalledBinary(name: "bash", architecture: "amd64", version: "5.2.37-2+b10",
                                                                       sourceName: "bash", sourceVersion: "5.2.37-2"))
        #expect(binaries.first { $0.name == "passwd" }.map { "\($0.sourceName) \($0.sourceVersion)" } == "shadow 1:4.17.4-2")
    }

    /// apt 3.0's new output (`APT::Output-Version` 30: columns, a `Summary:`, colours) changes apt-get's
    /// header but not its `Inst` lines, which are all the scan reads.
    @Test func debian13NewOutputVersionGivesTheSameUpdates() throws {
        let new = try Fixture.text("debian13-lab/apt-get-s-dist-upgrade-output-version-30.txt")
        #expect(new.contains("\nSummary:\n  Upgrading: 5, Installing: 0, Removing: 0, Not Upgrading: 0\n"))
        #expect(try DebianPlatform.parseSimulation(new)
                == DebianPlatform.parseSimulation(try Fixture.text("debian13-lab/apt-get-s-dist-upgrade.txt")))
    }

    /// apt 3.0's new output says `Error:` where apt-get says `E:`: both are the reason given.
    @Test func apt3ErrorLinesAreTheReason() throws {
        let platform = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "13"))
        let simulation = try Fixture.text("debian13-lab/apt-get-s-error-output-version-30.txt")
        #expect { try platform.parseScan("@@patchctl apt\n\(simulation)@@patchctl apt-exit\n100\n") } throws: { error in
            (error as? ParseFailure)?.description == "apt-get -s dist-upgrade exited 100: Error: Unable to locate package patchlab-missing"
        }
        #expect(DeployRunner.errorLines(simulation) == "Error: Unable to locate package patchlab-missing")
        for (file, prefix) in [("apt-get-update-error.txt", "E:"), ("apt-get-update-error-output-version-30.txt", "Error:")] {
            let update = try Fixture.text("debian13-lab/" + file)
            #expect { try platform.parseScan("@@patchctl refresh\n\(update)@@patchctl refresh-exit\n100\n") } throws: { error in
                (error as? ParseFailure)?.description == "metadata refresh (apt-get update) failed (exit 100): \(prefix) Failed to fetch "
                    + "file:/nonexistent/dists/trixie/main/binary-amd64/Packages  File not found - "
                    + "/nonexistent/dists/trixie/main/binary-amd64/Packages (2: No such file or directory)"
            }
        }
    }

    @Test func securityRecognition() {
        #expect(DebianPlatform.isSecurity("Debian-Security:12/oldstable-security"))
        #expect(DebianPlatform.isSecurity("Debian:12.9/oldstable, Debian-Security:12/oldstable-security"))
        #expect(DebianPlatform.isSecurity("UbuntuESMApps:22.04/jammy-apps-security"))
        #expect(!DebianPlatform.isSecurity("Ubuntu:22.04/jammy-updates"))
        #expect(!DebianPlatform.isSecurity("Debian:12.9/oldstable"))
        #expect(!DebianPlatform.isSecurity("security-team:1/stable"))
    }

    @Test func malformedInstLineIsAnError() {
        #expect(throws: ParseFailure.self) { try DebianPlatform.parseSimulation("Inst broken [1.0 (2.0 x)") }
    }

    @Test(arguments: [
        ("debian12/os-release.txt", "debian", "12", "bookworm", "Debian GNU/Linux"),
        ("debian13-lab/os-release.txt", "debian", "13", "trixie", "Debian GNU/Linux"),
        ("ubuntu2204/os-release.txt", "ubuntu", "22.04", "jammy", "Ubuntu"),
        ("ubuntu2404/os-release.txt", "ubuntu", "24.04", "noble", "Ubuntu"),
    ])
    func detectsFromOSRelease(file: String, id: String, version: String, codename: String, name: String) throws {
        let facts = OSFacts(osRelease: Platforms.parseOSRelease(try Fixture.text(file)), kernelName: "Linux", kernelRelease: "6.1.0", machine: "x86_64")
        let platform = try #require(Platforms.detect(facts))
        #expect(platform.os == OSInfo(family: .debian, id: id, name: name, version: version, codename: codename, kernel: "6.1.0", architecture: "x86_64"))
    }

    @Test func otherFamiliesAreNotDebian() {
        let rocky = OSFacts(osRelease: ["ID": "rocky", "ID_LIKE": "rhel centos fedora", "VERSION_ID": "9.4"], kernelName: "Linux", kernelRelease: "5.14", machine: "x86_64")
        #expect(DebianPlatform.detect(rocky) == nil)
    }

    @Test func scanOutputSections() throws {
        let platform = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
        let apt = try Fixture.text("debian12/apt-get-s-dist-upgrade.txt")
        let output = "@@patchctl apt\n\(apt)\n@@patchctl apt-exit\n0\n@@patchctl installed\n123\n@@patchctl reboot\nrequired\nlinux-image-6.1.0-28-amd64\nlibc6\nlibc6\n"
        let findings = try platform.parseScan(output)
        #expect(findings.updates.count == 8)
        #expect(findings.installedCount == 123)
        #expect(findings.rebootRequired)
        #expect(findings.rebootPackages == ["linux-image-6.1.0-28-amd64", "libc6"])
        let clean = try platform.parseScan("@@patchctl apt\n\(apt)\n@@patchctl apt-exit\n0\n@@patchctl installed\n5\n@@patchctl reboot\nnone\n")
        #expect(!clean.rebootRequired && clean.rebootPackages.isEmpty)
    }

    @Test func failingAptIsReportedWithItsError() {
        let platform = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
        let output = "@@patchctl apt\nReading package lists...\nE: The package lists or status file could not be parsed or opened.\n@@patchctl apt-exit\n100\n@@patchctl installed\n0\n@@patchctl reboot\nnone\n"
        #expect { try platform.parseScan(output) } throws: { error in
            (error as? ParseFailure)?.description.contains("E: The package lists or status file could not be parsed") == true
                && (error as? ParseFailure)?.description.contains("exited 100") == true
        }
    }

    @Test func failedRefreshIsReportedBeforeTheScan() {
        let platform = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
        let output = """
            @@patchctl refresh
            Reading package lists...
            E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)
            @@patchctl refresh-exit
            100
            @@patchctl apt
            @@patchctl apt-exit
            0
            """
        #expect { try platform.parseScan(output) } throws: { error in
            (error as? ParseFailure)?.description == "metadata refresh (apt-get update) failed (exit 100): E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)"
        }
    }

    @Test func scanScriptHoldsFactsThenScanInOneCommand() throws {
        // The lab tests run this script for real over SSH, ScanScriptTests through sh; here, its shape.
        let script = ScanScript.posix.command(refresh: false)
        #expect(script.hasPrefix("out=$(\n" + Platforms.factsCommand))
        #expect(script.contains("[ \"$pc_family\" = DebianPlatform ]; then\n" + DebianPlatform.scanCommand(refresh: false)))
        #expect(script.contains("[ -z \"$pc_release\" ] && { \(DebianPlatform.probe); }; then pc_family=DebianPlatform"))
        #expect(script.hasSuffix("fi\n) 2>&1\nprintf '%s\\n' \"$out\""))
        #expect(DebianPlatform.scanCommand(refresh: true).contains("apt-get update"))
        #expect(!DebianPlatform.scanCommand(refresh: false).contains("apt-get update"))
    }

    @Test func installCommandQuotesEveryPackage() {
        let platform = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
        let command = platform.installCommand([PendingUpdate(name: "x; rm -rf /", installedVersion: "1", availableVersion: "2$(id)", source: "s", security: false)])
        #expect(command.hasSuffix("install --only-upgrade -- 'x; rm -rf /=2$(id)'"))
    }
}
