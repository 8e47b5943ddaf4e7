import Foundation
import Testing
@testable import PatchCore

/// Each platform owns its install-side commands: library packages of its own formats, bundle
/// items by name, and the version read back for both.
@Suite("Install commands each platform owns")
struct PlatformInstallCommandsTests {
    static let debian = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
    static let rhel = RhelPlatform(os: OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.4"))
    static let suse = SusePlatform(os: OSInfo(family: .suse, id: "sles", name: "SLES", version: "15.6"))
    static let macOS = MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: "15"))
    static let windows = WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: "Windows Server 2022", version: "10.0.20348"))
    static let all: [any Platform] = [debian, rhel, suse, macOS, windows]

    static func record(_ format: PackageFormat, name: String = "acme-agent", version: String = "2.4.1") -> PackageRecord {
        PackageRecord(id: 1, name: name, version: version, platform: format.family, architecture: "all", format: format, sha256: nil, size: nil,
                      fileName: format.hasFile ? "acme.\(format.rawValue)" : nil, installArguments: nil, notes: nil, addedBy: "t", addedAt: Date(),
                      state: .approved)
    }

    /// A platform installs exactly its own family's formats: the engine never switches on the family.
    @Test(arguments: PackageFormat.allCases)
    func onlyTheFormatsFamilyInstallsIt(format: PackageFormat) {
        let package = Self.record(format)
        for platform in Self.all {
            let install = platform.packageInstallCommand(package, path: "/tmp/patchctl-install.x/acme.\(format.rawValue)")
            let version = platform.packageVersionCommand(package)
            #expect((install != nil) == (platform.family == format.family), "\(platform.family) install of \(format)")
            #expect((version != nil) == (platform.family == format.family), "\(platform.family) version of \(format)")
        }
    }

    @Test func aFileFormatWithoutItsFileHasNoCommand() {
        for platform in Self.all {
            for format in PackageFormat.allCases where format.hasFile && format.family == platform.family {
                #expect(platform.packageInstallCommand(Self.record(format), path: nil) == nil, "\(format)")
            }
        }
    }

    /// OS updates, .deb files, library names and bundle items all go through the one apt-get line.
    @Test func debianBuildsEveryInstallFromTheOneAptLine() throws {
        let options = "export LC_ALL=C LANG=C DEBIAN_FRONTEND=noninteractive; apt-get -y -q -o Dpkg::Options::=--force-confdef "
            + "-o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=300 install"
        let update = PendingUpdate(name: "openssl", installedVersion: "3.0.13-1", availableVersion: "3.0.15-1", source: "Debian-Security:12/stable-security", security: true)
        #expect(Self.debian.installCommand([update]) == options + " --only-upgrade -- openssl=3.0.15-1")
        #expect(Self.debian.packageInstallCommand(Self.record(.deb), path: "/tmp/p.x/it's.deb") == options + " -- '/tmp/p.x/it'\\''s.deb'")
        #expect(Self.debian.packageInstallCommand(Self.record(.apt), path: nil) == options + " -- acme-agent=2.4.1")
        #expect(Self.debian.managerInstallCommand(name: "htop", version: "3.2.2-2") == options + " -- htop=3.2.2-2")
        #expect(Self.debian.managerInstallCommand(name: "htop", version: nil) == options + " -- htop")
    }

    @Test func debianReadsLibraryVersionsWithItsOwnQuery() throws {
        let package = Self.record(.deb)
        #expect(Self.debian.packageVersionCommand(package) == Self.debian.installedVersionsCommand(["acme-agent"]))
        #expect(Self.debian.parsePackageVersion("acme-agent\t2.4.1\tii\n", of: package) == "2.4.1")
        // Unpacked but not configured has not reached its version.
        #expect(Self.debian.parsePackageVersion("acme-agent\t2.4.1\tiU\n", of: package) == nil)
    }

    @Test func rhelInstallsFilesWithDnfOrYumAndNamesWithDnf() throws {
        let file = try #require(Self.rhel.packageInstallCommand(Self.record(.rpm), path: "/tmp/p.x/a b.rpm"))
        #expect(file == "export LC_ALL=C; if command -v dnf >/dev/null 2>&1; then dnf -y install -- '/tmp/p.x/a b.rpm'; else yum -y install -- '/tmp/p.x/a b.rpm'; fi")
        #expect(Self.rhel.packageInstallCommand(Self.record(.dnf, version: "1:2.4.1-3.el9"), path: nil) == "export LC_ALL=C; dnf -y install -- acme-agent-1:2.4.1-3.el9")
        #expect(Self.rhel.managerInstallCommand(name: "htop", version: nil) == "export LC_ALL=C; dnf -y install -- htop")
        // rpm's answer in the platform's query format: one copy per architecture, epoch 0 unwritten.
        let rpm = "acme-agent\tx86_64\t0\t2.4.1\t3.el9\n"
        #expect(Self.rhel.parsePackageVersion(rpm, of: Self.record(.rpm)) == "2.4.1-3.el9")
        #expect(Self.rhel.parsePackageVersion("package acme-agent is not installed\n", of: Self.record(.rpm)) == nil)
    }

    @Test func suseInstallsPinnedVersionsEvenWhenOlder() {
        #expect(Self.suse.packageInstallCommand(Self.record(.zypper), path: nil)
            == "export LC_ALL=C; zypper --non-interactive install --oldpackage -- acme-agent=2.4.1")
        #expect(Self.suse.managerInstallCommand(name: "it's", version: nil) == "export LC_ALL=C; zypper --non-interactive install -- 'it'\\''s'")
        let rpm = "@@patchctl rpm\n1700000000\tacme-agent\t2.4.0-1.1\n1700000500\tacme-agent\t2.4.1-1.1\n@@patchctl patches\n"
        #expect(Self.suse.parsePackageVersion(rpm, of: Self.record(.zypper)) == "2.4.1-1.1")
    }

    /// macOS and Windows install bundle items only from the library.
    @Test func onlyLinuxFamiliesInstallBundleItemsByName() {
        for platform in Self.all {
            #expect((platform.managerInstallCommand(name: "htop", version: nil) != nil) == [.debian, .rhel, .suse].contains(platform.family),
                    "\(platform.family)")
        }
    }

    @Test func windowsReadsTheVersionSectionOfItsLibraryCommands() throws {
        let package = Self.record(.msi, name: "AcmeAgent")
        #expect(Self.windows.parsePackageVersion("\u{FEFF}@@patchctl version\r\n2.4.1\r\n", of: package) == "2.4.1")
        #expect(Self.windows.parsePackageVersion("@@patchctl version\r\n\r\n", of: package) == nil)
    }
}
