import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// Library installs on Windows and macOS: no such endpoint runs here, so the scripts are checked
/// as text (decoded from their -EncodedCommand) and by the shell that will run them.
@Suite("Windows and macOS package commands")
struct PlatformPackageCommandsTests {
    static func record(_ format: PackageFormat, name: String = "AcmeAgent", version: String = "2.4.1", arguments: String? = nil) -> PackageRecord {
        PackageRecord(id: 1, name: name, version: version, platform: format.family, architecture: "all", format: format, sha256: nil, size: nil,
                      fileName: "AcmeAgent-2.4.1.\(format.rawValue)", installArguments: arguments, notes: nil, addedBy: "t", addedAt: Date(), state: .approved)
    }

    static func decoded(_ line: String) throws -> String {
        #expect(line.hasPrefix(PowerShell.prefix))
        let data = try #require(Data(base64Encoded: String(line.dropFirst(PowerShell.prefix.count))))
        return try #require(String(data: data, encoding: .utf16LittleEndian))
    }

    @Test func msiRunsSilentlyWithoutRestartAndItsExitCodeIsRead() throws {
        let script = try Self.decoded(try #require(WindowsPackageCommands.install(Self.record(.msi), path: "C:/Users/ops/AppData/Local/Temp/patchctl-install.1/it's.msi")))
        #expect(script.contains("Start-Process -FilePath msiexec.exe -ArgumentList @('/i',('\"'+'C:/Users/ops/AppData/Local/Temp/patchctl-install.1/it''s.msi'+'\"'),'/qn','/norestart'"))
        #expect(script.contains("-Wait -PassThru") && script.contains("S exit\n$p.ExitCode"))
        #expect(WindowsPackageCommands.exit(0) == .init(succeeded: true, rebootRequired: false, meaning: "success"))
        #expect(WindowsPackageCommands.exit(3010).succeeded && WindowsPackageCommands.exit(3010).rebootRequired)
        #expect(WindowsPackageCommands.exit(1641).succeeded && WindowsPackageCommands.exit(1641).rebootRequired)
        #expect(!WindowsPackageCommands.exit(1603).succeeded && WindowsPackageCommands.exit(1603).meaning.contains("ERROR_INSTALL_FAILURE"))
        #expect(WindowsPackageCommands.exit(1618).meaning.contains("another installation is in progress"))
    }

    @Test func exeWingetAndChocoCommands() throws {
        let exe = try Self.decoded(try #require(WindowsPackageCommands.install(Self.record(.exe, arguments: "/S /D=C:\\Acme"), path: "C:/t/a.exe")))
        #expect(exe.contains("$a='/S /D=C:\\Acme'") && exe.contains("Start-Process -FilePath 'C:/t/a.exe' -ArgumentList $a -Wait -PassThru"))
        let winget = try Self.decoded(try #require(WindowsPackageCommands.install(Self.record(.winget, name: "Mozilla.Firefox", version: "128.0"), path: nil)))
        #expect(winget.contains("winget install --id 'Mozilla.Firefox' --version '128.0' --exact --silent"))
        let choco = try Self.decoded(try #require(WindowsPackageCommands.install(Self.record(.choco, name: "7zip", version: "24.08"), path: nil)))
        #expect(choco.contains("choco install '7zip' --version '24.08' -y"))
        #expect(try Self.decoded(WindowsPackageCommands.installedVersion(Self.record(.choco, name: "7zip"))).contains("choco list --exact '7zip' -r"))
        #expect(try Self.decoded(WindowsPackageCommands.installedVersion(Self.record(.msi))).contains("$_.DisplayName -eq 'AcmeAgent'"))
        for line in [WindowsPackageCommands.facts, WindowsPackageCommands.makeFolder, WindowsPackageCommands.hash("C:/a b/c.msi")] {
            #expect(line.count < PowerShell.cmdLineLimit)
        }
    }

    @Test func sectionsAreReadFromWindowsOutput() {
        let output = "\u{FEFF}@@patchctl folder\r\nC:/Users/ops/AppData/Local/Temp/patchctl-install.ab\r\n@@patchctl exit\r\n3010\r\n"
        #expect(WindowsPackageCommands.section("folder", in: output) == "C:/Users/ops/AppData/Local/Temp/patchctl-install.ab")
        #expect(WindowsPackageCommands.section("exit", in: output) == "3010")
        #expect(WindowsPackageCommands.section("version", in: output) == nil)
    }

    @Test func macOSCommandsParseInTheShell() throws {
        let macOS = MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: "15"))
        for format in [PackageFormat.pkg, .dmg, .brew] {
            let record = Self.record(format, name: format == .pkg ? "com.acme.agent" : "Acme Agent")
            for command in [macOS.packageInstallCommand(record, path: "/tmp/patchctl-install.x/it's here.\(format.rawValue)"),
                            macOS.packageVersionCommand(record)] {
                let command = try #require(command, "no \(format) command")
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-n", "-c", command]
                try process.run()
                let status = process.waitForExit()
                #expect(status == 0, "sh -n rejects: \(command)")
            }
        }
        let dmg = try #require(macOS.packageInstallCommand(Self.record(.dmg), path: "/tmp/x/Acme.dmg"))
        #expect(dmg.contains("hdiutil attach -nobrowse -readonly -mountpoint \"$m\" /tmp/x/Acme.dmg") && dmg.contains("cp -R \"$app\" /Applications/"))
        #expect(macOS.packageInstallCommand(Self.record(.pkg), path: "/tmp/x/a.pkg") == "installer -pkg /tmp/x/a.pkg -target /")
    }

    /// What macOS's version command prints, run by a shell whose tools answer like macOS's, is what its parser reads.
    @Test func macOSVersionIsReadBackFromWhatItsCommandPrints() throws {
        let macOS = MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: "15"))
        let record = Self.record(.pkg, name: "com.acme.agent")
        let command = try #require(macOS.packageVersionCommand(record))
        // pkgutil answering like macOS's; the rest of the command runs as written.
        let stub = "pkgutil() { printf 'package-id: com.acme.agent\\nversion: 2.4.1\\nvolume: /\\n'; }; "
        let installed = try Self.shell(stub + command)
        #expect(macOS.parsePackageVersion(installed, of: record) == "2.4.1")
        let absent = try Self.shell("pkgutil() { return 1; }; " + command)
        #expect(macOS.parsePackageVersion(absent, of: record) == nil)
    }

    static func shell(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitForExit()
        return text
    }
}
