import Foundation
import PatchSSH
import Testing
@testable import PatchCore

@Suite("Windows: WUA scan, SYSTEM-task install, quser, commands")
struct WindowsPlatformTests {
    static let platform = WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: "Windows", version: "10.0.26200"))

    /// Decodes an encoded command back to its script (tests read the PowerShell they send).
    static func script(of command: String) throws -> String {
        #expect(command.hasPrefix(PowerShell.prefix))
        let data = try #require(Data(base64Encoded: String(command.dropFirst(PowerShell.prefix.count))))
        return try #require(String(data: data, encoding: .utf16LittleEndian))
    }

    @Test func scanOfAGermanWindows11() throws {
        let output = try Fixture.text("windows/wua-scan-win11-de.txt")
        let platform = try #require(WindowsPlatform.detect(scanOutput: output))
        #expect(platform.os == OSInfo(family: .windows, id: "windows", name: "Microsoft Windows 11 Pro", version: "10.0.26200",
                                      codename: "build 26200", kernel: "10.0.26200", architecture: "64-Bit"))
        let findings = try platform.parseScan(output)
        #expect(findings.installedCount == 143 && !findings.rebootRequired && findings.rebootPackages.isEmpty)
        #expect(findings.updates.count == 8)
        // Two pending updates share KB4052623 (Defender platform, two channels): both keep a unique name.
        #expect(findings.updates.map(\.name) == ["KB4052623#c01629fc", "KB5007651", "KB890830", "KB4052623#33ac787c", "KB2267602",
                                                 "KB5066128", "KB5072033", "JBL Driver Update (2.0.0.6)"])
        let cumulative = findings.updates[6]
        #expect(cumulative == PendingUpdate(name: "KB5072033", installedVersion: "", availableVersion: "9769e8ee-5e2e-4f54-92ee-d616ce08ca7f.1",
                                            source: "windows-update: 2025-12 Sicherheitsupdate (KB5072033) (26200.7462)", security: true,
                                            cves: [CVEReference(id: "CVE-2025-62221", severity: .unknown, source: "msrc")]))
        let others = findings.updates.filter { $0.name != "KB5072033" }
        #expect(others.count == 7 && others.allSatisfy { $0.cves.isEmpty })
        #expect(findings.updates.filter(\.security).map(\.name) == ["KB5066128", "KB5072033"])
        // Localised titles survive (UTF-8, en dashes, umlauts).
        #expect(findings.updates[2].source.contains("bösartiger"))
    }

    @Test func severityAndLocalisedCategoryById() throws {
        // Constructed in the scan's line format: a localised category name with the (language-
        // independent) Security Updates id, an MSRC rating, reboot behaviour 1.
        let line = "update\tABCDEF01-0000-0000-0000-000000000001\t3\tKB5000001,KB5000002\tCritical\t1\t2026-11-11\tTrue\tSicherheitsupdates|0FA1201D-4330-4FA8-8AE9-B877473B6441;Windows 11|\tTitel"
        let update = try WindowsPlatform.parseUpdateLine(Substring(line))
        #expect(update.isSecurity && update.rebootBehavior == 1 && update.isDownloaded && update.kbArticleIDs == ["KB5000001", "KB5000002"])
        #expect(update.exactVersion == "abcdef01-0000-0000-0000-000000000001.3")
        let finding = try #require(WindowsPlatform.findings([update]).first)
        #expect(finding.severity == "critical" && finding.name == "KB5000001")
        #expect(throws: ParseFailure.self) { try WindowsPlatform.parseUpdateLine("update\tnot enough fields") }
        #expect(update.cveIDs.isEmpty, "a 10-field line, from a script before CVE ids, has none")
    }

    /// Issue 12: WUA's `CveIDs`, in the field before the title, become the finding's CVEs rated
    /// with the update's MSRC severity (source `msrc`); ids that are not CVE ids are dropped.
    @Test func cveIDsCarryTheMSRCSeverity() throws {
        let line = "update\tABCDEF01-0000-0000-0000-000000000001\t3\tKB5000001\tImportant\t1\t2026-11-11\tTrue\tSecurity Updates|\tCVE-2026-20001,CVE-26-1,ADV990001, $(x)\tTitel"
        let update = try WindowsPlatform.parseUpdateLine(Substring(line))
        #expect(update.cveIDs == ["CVE-2026-20001"] && update.title == "Titel")
        let finding = try #require(WindowsPlatform.findings([update]).first)
        #expect(finding.cves == [CVEReference(id: "CVE-2026-20001", severity: .high, vendorSeverity: "Important", source: "msrc")])
        #expect(finding.normalizedSeverity == .high)
        #expect(WindowsPlatform.scanScriptPowerShell().contains("$v=($u.CveIDs|%{\"$_\"}) -join ','"))
    }

    @Test func emptyScanAndRebootFlags() throws {
        let output = "@@patchctl os\r\nVersion\t10.0.20348\r\n@@patchctl wua\r\n@@patchctl wua-result\r\n2\r\n@@patchctl reboot\r\nCBS\\RebootPending\r\nSessionManager\\PendingFileRenameOperations\r\n@@patchctl installed\r\n0\r\n"
        let findings = try Self.platform.parseScan(output)
        #expect(findings.updates.isEmpty && findings.rebootRequired)
        #expect(findings.rebootPackages == ["CBS\\RebootPending", "SessionManager\\PendingFileRenameOperations"])
        #expect(Self.platform.parseRebootCheck("@@patchctl reboot\r\nWindowsUpdate\\RebootRequired\r\n") == (true, ["WindowsUpdate\\RebootRequired"]))
        #expect(Self.platform.parseRebootCheck("@@patchctl reboot\r\n") == (false, []))
    }

    @Test func searchErrorsCarryTheirHRESULT() {
        let output = "@@patchctl os\r\nVersion\t10.0.17763\r\n@@patchctl wua\r\n@@patchctl wua-error\r\n0x8024402C\r\nException from HRESULT: 0x8024402C\r\n@@patchctl reboot\r\n"
        #expect { try Self.platform.parseScan(output) } throws: { error in
            (error as? ParseFailure)?.description == "Windows Update search failed: 0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED: the update server's name does not resolve (proxy or DNS)): Exception from HRESULT: 0x8024402C"
        }
        let aborted = "@@patchctl wua\n@@patchctl wua-result\n5\n"
        #expect { try Self.platform.parseScan(aborted) } throws: { error in
            (error as? ParseFailure)?.description == "Windows Update search ended with result code 5 (aborted)"
        }
    }

    @Test func installResultParsing() {
        // Constructed in the task script's own format.
        let ok = "@@patchctl result\r\ninstall\t2\t0x00000000\tTrue\r\nupdate\t9769E8EE-5E2E-4F54-92EE-D616CE08CA7F\t2\t0x00000000\tTrue\r\nmissing\t4f7e95d4-b8f0-404c-b682-ea2eabff590f\r\n"
        let result = WindowsPlatform.parseInstallResult(ok)
        #expect(result.succeeded && result.rebootRequired && result.missing == ["4f7e95d4-b8f0-404c-b682-ea2eabff590f"])
        #expect(result.updates == [.init(updateID: "9769e8ee-5e2e-4f54-92ee-d616ce08ca7f", resultCode: 2, hresult: "0x00000000", rebootRequired: true)])
        let failed = WindowsPlatform.parseInstallResult("install\t4\t0x80240022\tFalse\nupdate\tx\t4\t0x8024200B\tFalse\n")
        #expect(!failed.succeeded && failed.updates.first?.hresult == "0x8024200B")
        let denied = WindowsPlatform.parseInstallResult("@@patchctl result\nerror\t0x80070005\tAccess is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))\n")
        #expect(!denied.succeeded && denied.error?.hasPrefix("0x80070005 (E_ACCESSDENIED: the update API refuses this session (run it as SYSTEM)): Access is denied.") == true)
        #expect(WindowsPlatform.parseInstallResult("@@patchctl result\ntimeout\n").timedOut)
    }

    @Test func installRunsAsAOneShotSystemTask() throws {
        let updates = [PendingUpdate(name: "KB5072033", installedVersion: "", availableVersion: "9769e8ee-5e2e-4f54-92ee-d616ce08ca7f.1", source: "w", security: true)]
        let script = try Self.script(of: Self.platform.installCommand(updates))
        #expect(script.contains("@('9769e8ee-5e2e-4f54-92ee-d616ce08ca7f')|Set-Content"))
        #expect(script.contains("New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest"))
        #expect(script.contains("Start-ScheduledTask") && script.contains("Unregister-ScheduledTask") && script.contains(".AddSeconds(7200)"))
        #expect(script.contains("Search(\"IsInstalled=0 and Type='Software' and IsHidden=0\")"))
        // The here-string's end must start a line, or PowerShell reads the rest as its body.
        #expect(script.contains("\n'@|Set-Content"))
        #expect(!script.contains("shutdown") && !script.contains("Restart-Computer"))
    }

    @Test func everyCommandFitsCmdExe() throws {
        let tenUpdates = (0..<10).map { index in
            PendingUpdate(name: "KB\(5_000_000 + index)", installedVersion: "", availableVersion: "9769e8ee-5e2e-4f54-92ee-d616ce08ca\(String(format: "%02d", index)).1",
                          source: "w", security: true)
        }
        let commands = [
            WindowsPlatform.scanCommand(refresh: false), Self.platform.rebootCheckCommand(), Self.platform.installCommand(tenUpdates),
            Self.platform.healthCommand(), Self.platform.installedVersionsCommand(["KB1"]), Self.platform.bootIDCommand(),
            Self.platform.rebootCommand(graceMinutes: 15, message: String(repeating: "x", count: 600)), Self.platform.loggedInUsersCommand(),
        ]
        for command in commands {
            #expect(command.count < PowerShell.cmdLineLimit, "\(command.count) characters")
            #expect(command.hasPrefix(PowerShell.prefix))
        }
        // Many updates: split into batches that each fit.
        let many = (0..<80).map { index in
            PendingUpdate(name: "KB\(index)", installedVersion: "", availableVersion: UUID().uuidString.lowercased() + ".1", source: "w", security: true)
        }
        let batches = WindowsPlatform.installBatches(many)
        #expect(batches.count > 1 && batches.flatMap { $0 } == many)
        for batch in batches { #expect(WindowsPlatform(os: Self.platform.os).installCommand(batch).count < PowerShell.cmdLineLimit) }
    }

    @Test func installedVersionsUnderEveryName() {
        let output = "@@patchctl installed-updates\r\ninstalled\t9769E8EE-5E2E-4F54-92EE-D616CE08CA7F\t1\tKB5072033\t2025-12 Sicherheitsupdate (KB5072033) (26200.7462)\r\ninstalled\tfd9a5356-bf43-44a2-9561-064d84fde280\t1\t\tJBL Driver Update (2.0.0.6)\r\n"
        let versions = Self.platform.parseInstalledVersions(output)
        #expect(versions["KB5072033"] == "9769e8ee-5e2e-4f54-92ee-d616ce08ca7f.1")
        #expect(versions["KB5072033#9769e8ee"] == "9769e8ee-5e2e-4f54-92ee-d616ce08ca7f.1")
        #expect(versions["JBL Driver Update (2.0.0.6)"] == "fd9a5356-bf43-44a2-9561-064d84fde280.1")
    }

    @Test(arguments: [
        ("windows/quser-console.txt", [LoggedInUser(user: "phoebe", terminal: "console")]),
        ("windows/quser-rdp.txt", [LoggedInUser(user: "administrator", terminal: "rdp-tcp#2")]),
        ("windows/quser-disconnected.txt", [LoggedInUser(user: "ben bolen", terminal: "session 2 (Disc)")]),
        ("windows/quser-two-users.txt", [LoggedInUser(user: "dummy-user", terminal: "session 4 (Active)"), LoggedInUser(user: "yasha", terminal: "console")]),
        ("windows/quser-no-user.txt", []),
    ])
    func quserSessions(file: String, users: [LoggedInUser]) throws {
        #expect(Self.platform.parseLoggedInUsers(try Fixture.text(file)) == users)
    }

    @Test func quserLocalisedHeaderAndHomeEditionFallback() {
        // Constructed: a French header (only its word positions are used) and the console-user
        // line the command prints where quser.exe does not exist.
        let french = " UTILISATEUR           SESSION            ID  ÉTAT    TEMPS INACT TEMPS SESSION\n>jsboi                 rdp-tcp#1           2  Actif           2  20/09/2026 12:27\n"
        #expect(Self.platform.parseLoggedInUsers(french) == [LoggedInUser(user: "jsboi", terminal: "rdp-tcp#1")])
        #expect(Self.platform.parseLoggedInUsers("console-user\tDESKTOP-1\\alice\r\n") == [LoggedInUser(user: "DESKTOP-1\\alice", terminal: "console")])
        #expect(Self.platform.parseLoggedInUsers("") == [])
    }

    @Test func rebootBootIDAndHealthScripts() throws {
        let reboot = try Self.script(of: Self.platform.rebootCommand(graceMinutes: 10, message: "Patching: it's time"))
        #expect(reboot.contains("shutdown.exe /r /t 600 /d p:2:17 /c 'Patching: it''s time'"))
        #expect(try Self.script(of: Self.platform.rebootCommand(graceMinutes: 0, message: "now")).contains("/t 0 "))
        #expect(try Self.script(of: Self.platform.bootIDCommand()).contains("LastBootUpTime.ToUniversalTime().Ticks"))
        #expect(try Self.script(of: Self.platform.rebootCheckCommand()).contains("Component Based Servicing\\RebootPending"))
        #expect(Self.platform.parseHealth("Manual\tStopped\r\n") == .healthy)
        #expect(Self.platform.parseHealth("Disabled\tStopped\r\n")
                == .broken(detail: "the Windows Update service (wuauserv) is disabled (Disabled, Stopped)", repair: "Set-Service wuauserv -StartupType Manual"))
    }

    @Test func scannedByPowerShellAndDetectedLikeEveryPlatform() throws {
        #expect(!ScanScript.posixFamilies.contains { $0.platform == WindowsPlatform.self })
        #expect(WindowsPlatform.detect(OSFacts(osRelease: ["ID": "debian"], kernelName: "Linux", kernelRelease: "6.1", machine: "x86_64")) == nil)
        #expect(!ScanScript.posix.command(refresh: false).contains("EncodedCommand"))
        #expect(ScanScript.powershell.command(refresh: true) == WindowsPlatform.scanCommand(refresh: true, thirdParty: true))
        // The same registry detection as the POSIX families, from the facts the Windows scan prints.
        let output = try Fixture.text("windows/wua-scan-win11-de.txt")
        let facts = try ScanScript.powershell.facts(from: .init(exitStatus: 0, stdout: output, stderr: ""))
        #expect(Platforms.detect(facts)?.os == WindowsPlatform.detect(scanOutput: output)?.os)
        #expect(Platforms.detect(facts) is WindowsPlatform)
    }
}
