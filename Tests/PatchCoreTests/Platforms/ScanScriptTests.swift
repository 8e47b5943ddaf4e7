import Foundation
import PatchSSH
import Testing
@testable import PatchCore

/// `ScanScript.posix` run through a real /bin/sh: os-release and `uname` come from stand-ins, and
/// every package tool is a stand-in that records its name, so the test sees which family's scan ran.
@Suite("The POSIX scan script chooses the family the parser does")
struct ScanScriptTests {
    static let tools = ["apt-get", "dpkg-query", "dnf", "yum", "rpm", "zypper", "softwareupdate", "brew", "snap", "flatpak"]

    struct Run {
        var output: String
        var called: Set<String>
        var sections: [String: String] { Sections.split(output) }
        var scriptChoice: String { sections["scan-family"] ?? "(no scan-family section)" }
        /// The parser's choice from the same output's facts.
        func parserChoice() throws -> String {
            Platforms.detect(try Platforms.parseFacts(output)).map { String(describing: type(of: $0)) } ?? ""
        }
    }

    /// `osRelease` nil: the host has none (neither /etc/os-release nor /usr/lib/os-release).
    static func run(osRelease: String?, kernel: String = "Linux") throws -> Run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let log = folder.appendingPathComponent("called").path, release = folder.appendingPathComponent("os-release").path
        if let osRelease { try osRelease.write(toFile: release, atomically: true, encoding: .utf8) }
        var stubs = [
            "cat": """
                case "$1" in
                  /etc/os-release) [ -f '\(release)' ] && exec /bin/cat '\(release)'; exit 1 ;;
                  /usr/lib/os-release) exit 1 ;;
                  *) exec /bin/cat "$@" ;;
                esac
                """,
            "uname": "case \"$1\" in -r) echo 6.1.0 ;; -m) echo x86_64 ;; *) echo \(kernel) ;; esac",
        ]
        for tool in tools { stubs[tool] = "echo \(tool) >> '\(log)'; exit 0" }
        let output = try StubShell.run(ScanScript.posix.command(refresh: false), stubs: stubs)
        let called = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
        return Run(output: output, called: Set(called))
    }

    @Test func rockyWithAptGetIsScannedWithDnfOrYum() throws {
        // The bug: apt-get's probe came first, so this host got apt's scan and then failed to
        // parse ("scan output lacks the check-update section"). Its os-release says Rocky.
        let run = try Self.run(osRelease: try Fixture.text("rhel-public/rocky95-os-release.txt"))
        #expect(run.scriptChoice == "RhelPlatform")
        #expect(try run.parserChoice() == "RhelPlatform")
        #expect(run.called.contains("yum") || run.called.contains("dnf"), "\(run.called)")
        #expect(!run.called.contains("apt-get") && !run.called.contains("dpkg-query"), "\(run.called)")
        #expect(run.sections["check-update"] != nil && run.sections["apt"] == nil, "\(run.output)")
    }

    @Test(arguments: [
        "debian12/os-release.txt", "ubuntu2204/os-release.txt", "ubuntu2404/os-release.txt",
        "rocky9-lab/os-release.txt", "rhel-public/rocky95-os-release.txt",
    ])
    func recordedOSReleaseChoosesLikeTheParser(_ fixture: String) throws {
        let run = try Self.run(osRelease: try Fixture.text(fixture))
        #expect(!run.scriptChoice.isEmpty)
        #expect(try run.scriptChoice == run.parserChoice())
    }

    @Test(arguments: [
        // Quoting and case as os-release allows them.
        "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.6\"\n",
        "ID=sles\nVERSION_ID=\"15.5\"\n",
        "ID='sle-micro'\n",
        "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n",
        "ID=\"Fedora\"\n",
        "ID=amzn\nID_LIKE=\"centos rhel fedora\"\n",
        "  ID=almalinux  \nID_LIKE=\"rhel centos fedora\"  \n",
        // Two lineages: the registry's order decides, in both.
        "ID=hybrid\nID_LIKE=\"rhel debian\"\n",
        "ID=debian\nID=rocky\n",
        // Known to neither: no family's scan runs, and the parser says "unsupported platform".
        "ID=arch\n",
        "ID=\"debianish\"\nID_LIKE=\"notrhel\"\n",
    ])
    func writtenOSReleaseChoosesLikeTheParser(_ osRelease: String) throws {
        let run = try Self.run(osRelease: osRelease)
        #expect(try run.scriptChoice == run.parserChoice(), "\(run.output)")
    }

    @Test func unknownDistributionRunsNoScan() throws {
        let run = try Self.run(osRelease: "ID=arch\nNAME=\"Arch Linux\"\n")
        #expect(try run.scriptChoice == "" && run.parserChoice() == "")
        #expect(run.called.isSubset(of: ["snap", "flatpak"]), "\(run.called)")  // only the Linux third-party sections
    }

    @Test func macOSIsToldByItsKernel() throws {
        let run = try Self.run(osRelease: nil, kernel: "Darwin")
        #expect(try run.scriptChoice == "MacOSPlatform" && run.parserChoice() == "MacOSPlatform")
        #expect(run.sections["snap-list"] == nil && !run.called.contains("snap"))
    }

    @Test func withoutOSReleaseTheProbesDecide() throws {
        // The probes test absolute paths (/usr/bin/apt-get…), so the expected family is the first
        // whose probe is true on this machine, asked of the same shell.
        var expected = ""
        for family in ScanScript.posixFamilies {
            let answer = try StubShell.run("if \(family.probe); then echo yes; fi", stubs: [:])
            if answer.contains("yes") { expected = String(describing: family.platform); break }
        }
        let run = try Self.run(osRelease: nil)
        #expect(run.scriptChoice == expected)
    }

    @Test func everyFamilyIsInTheRegistryOnceAndWindowsIsDetectedFromItsFacts() throws {
        let names = Platforms.all.map { String(describing: $0) }
        #expect(Set(names).count == names.count)
        #expect(ScanScript.posixFamilies.map { String(describing: $0.platform) } == ["DebianPlatform", "RhelPlatform", "SusePlatform", "MacOSPlatform"])
        let output = "@@patchctl os\r\nCaption\tMicrosoft Windows Server 2022 Standard\r\nVersion\t10.0.20348\r\nBuildNumber\t20348\r\nArchitecture\t64-bit\r\n"
        let facts = try ScanScript.powershell.facts(from: .init(exitStatus: 0, stdout: output, stderr: ""))
        #expect(Platforms.detect(facts) is WindowsPlatform)
        #expect(throws: ParseFailure("the Windows scan printed no OS facts (exit 127): 'powershell.exe' is not recognized")) {
            try ScanScript.powershell.facts(from: .init(exitStatus: 127, stdout: "", stderr: "'powershell.exe' is not recognized\r\n"))
        }
    }

    @Test func snapAndFlatpakSectionsRunOnLinuxAfterTheFamilysScan() throws {
        let run = try Self.run(osRelease: try Fixture.text("debian12/os-release.txt"))
        // The stand-ins exist on PATH, so `command -v` finds them and their sections are printed.
        #expect(run.called.isSuperset(of: ["apt-get", "snap", "flatpak"]), "\(run.called)")
        let output = run.output
        let apt = try #require(output.range(of: "@@patchctl apt\n")), snap = try #require(output.range(of: "@@patchctl snap-list\n"))
        #expect(apt.lowerBound < snap.lowerBound)
    }
}
