import Foundation
import Testing
@testable import PatchCore

@Suite("Third-party managers: choco, winget, snap, flatpak")
struct ThirdPartyManagerTests {
    @Test func chocoOutdatedLimitOutput() throws {
        let updates = ThirdPartyManager.parseChocoOutdated(try Fixture.text("thirdparty/choco-outdated-r.txt"))
        // Seven of the eight recorded lines list the same current and available version.
        #expect(updates == [PendingUpdate(name: "atom", installedVersion: "1.23.3", availableVersion: "1.24.0", source: "choco", security: false)])
        // Constructed: a pinned package, a banner and a warning are not findings; CRLF is fine.
        let mixed = "Chocolatey v2.2.2\r\ngit|2.30.0|2.31.0|true\r\nWARNING: something\r\nfirefox|121.0|122.0|false\r\n"
        #expect(ThirdPartyManager.parseChocoOutdated(mixed).map(\.name) == ["firefox"])
        #expect(ThirdPartyManager.parseChocoOutdated("").isEmpty)
    }

    @Test func wingetTableWithDuplicateRowsAndFooter() throws {
        let updates = try ThirdPartyManager.parseWingetUpgrade(try Fixture.text("thirdparty/winget-upgrade-duplicates.txt"))
        #expect(updates.map(\.name) == ["OpenWhisperSystems.Signal", "Microsoft.Edge", "Microsoft.EdgeWebView2Runtime", "Microsoft.Office", "Postman.Postman"])
        #expect(updates[3] == PendingUpdate(name: "Microsoft.Office", installedVersion: "16.0.14701.20290", availableVersion: "16.0.14729.20228",
                                            source: "winget", security: false))
    }

    @Test func wingetUnknownVersionsAndMisalignedColumns() throws {
        let updates = try ThirdPartyManager.parseWingetUpgrade(try Fixture.text("thirdparty/winget-upgrade-unknown.txt"))
        #expect(updates == [
            PendingUpdate(name: "Mega.MEGASync", installedVersion: "", availableVersion: "4.6.1.0", source: "winget", security: false),
            PendingUpdate(name: "GOG.Galaxy", installedVersion: "", availableVersion: "2.0.43.71a", source: "winget", security: false),
        ])
    }

    @Test func wingetTruncatedNamesAndNarrowTables() throws {
        let truncated = try ThirdPartyManager.parseWingetUpgrade(try Fixture.text("thirdparty/winget-upgrade-truncated.txt"))
        #expect(truncated.map(\.name) == ["Microsoft.VSTOR", "Notepad++.Notepad++"])
        #expect(truncated[0].installedVersion == "10.0.60910" && truncated[0].availableVersion == "10.0.60917")
        // One space between the narrowest columns.
        let narrow = try ThirdPartyManager.parseWingetUpgrade(try Fixture.text("thirdparty/winget-list-narrow.txt"))
        #expect(narrow == [PendingUpdate(name: "Gyan.FFmpeg.Shared", installedVersion: "6.0", availableVersion: "7.1.1", source: "winget", security: false)])
    }

    @Test func wingetNothingToUpgrade() throws {
        #expect(try ThirdPartyManager.parseWingetUpgrade(try Fixture.text("thirdparty/winget-upgrade-id-not-found.txt")).isEmpty)
        #expect(try ThirdPartyManager.parseWingetUpgrade("").isEmpty)
        #expect(throws: ParseFailure.self) { try ThirdPartyManager.parseWingetUpgrade("Failed in attempting to update the source: winget\r\n") }
    }

    @Test func wingetTruncatedIdCompletedFromExport() throws {
        // Constructed: a pre-1.29 table cut at 120 columns (the cut id is from winget-cli PR
        // #1481's recorded `winget list`), an export in the documented schema 2.0, a German
        // header, spinner frames before it, and a footer that is not a row.
        let table = "   - \r   \\ \rName                     ID                                        Version  Verfügbar Quelle\r\n"
            + "--------------------------------------------------------------------------------------------------\r\n"
            + "Dolby Access OEM         DolbyLaboratories.DolbyAccessOEM_rz1teb…  3.9.26.0 3.10.0.0  msstore\r\n"
            + "1 Paket(e) haben Versionsnummern, die nicht ermittelt werden können. Verwenden Sie --include-unknown, um alle Ergebnisse anzuzeigen.\r\n"
        let export = """
            {"$schema":"https://aka.ms/winget-packages.schema.2.0.json","Sources":[{"Packages":[
            {"PackageIdentifier":"DolbyLaboratories.DolbyAccessOEM_rz1tebttyb220","Version":"3.9.26.0"},{"PackageIdentifier":"Git.Git","Version":"2.31.0"}],
            "SourceDetails":{"Name":"msstore"}}],"WinGetVersion":"1.6.3133"}
            """
        let resolved = try ThirdPartyManager.parseWingetUpgrade(table, exportJSON: export)
        #expect(resolved.map(\.name) == ["DolbyLaboratories.DolbyAccessOEM_rz1tebttyb220"])
        #expect(try ThirdPartyManager.parseWingetUpgrade(table).map(\.name) == ["DolbyLaboratories.DolbyAccessOEM_rz1teb…"])
        #expect(ThirdPartyManager.parseWingetExportVersions(export)["Git.Git"] == "2.31.0")
    }

    @Test func wingetWideCharactersCountTwoColumns() throws {
        // Constructed: a Japanese name; winget pads by display width, so the Source column
        // starts at the same display column as in the header.
        let table = "Name          Id            Version Available Source\n"
            + "----------------------------------------------------\n"
            + "日本語アプリ  Example.App   1.0     2.0       winget\n"
        #expect(try ThirdPartyManager.parseWingetUpgrade(table).map(\.name) == ["Example.App"])
    }

    @Test func snapRefreshListWithGermanHeaders() throws {
        let installed = try Fixture.text("thirdparty/snap-list-de.txt")
        let updates = ThirdPartyManager.parseSnapRefreshList(try Fixture.text("thirdparty/snap-refresh-list-de.txt"), installed: installed)
        #expect(updates == [PendingUpdate(name: "standard-notes", installedVersion: "", availableVersion: "3.3.5", source: "snap", security: false)])
        #expect(ThirdPartyManager.snapRows(installed).map { $0[0] } == ["core", "wechat", "pdftk"])
        // Constructed: the refresh of an installed snap picks up its installed version.
        let refresh = "Name    Version    Rev   Publisher   Notes\ncore    16-2.45    9066  canonical✓  core\n"
        #expect(ThirdPartyManager.parseSnapRefreshList(refresh, installed: installed).first?.installedVersion == "16-2.44.1")
        #expect(ThirdPartyManager.parseSnapRefreshList("All snaps up to date.\n", installed: installed).isEmpty)
    }

    @Test func flatpakColumns() throws {
        // The recorded line (default columns, space-padded as documentation shows it).
        let rows = ThirdPartyManager.parseFlatpakColumns(try Fixture.text("thirdparty/flatpak-remote-ls-updates.txt"),
                                                         columns: ["name", "application", "version", "branch", "arch"])
        #expect(rows == [["name": "GNOME Dictionary", "application": "org.gnome.Dictionary", "version": "3.26.0", "branch": "stable", "arch": "x86_64"]])
        // Constructed in the piped (tab-separated, headerless) form of patchctl's explicit columns:
        // an empty version (runtimes often have none), two branches of one runtime, and a size
        // written with a decimal comma as a German locale prints it.
        let installed = "org.gnome.Dictionary\t3.24.0\tstable\tflathub\norg.freedesktop.Platform.GL.default\t\t23.08\tflathub\norg.freedesktop.Platform.GL.default\t\t24.08\tflathub\n"
        let updates = "org.gnome.Dictionary\t3.26.0\tstable\tflathub\norg.freedesktop.Platform.GL.default\t\t24.08\tflathub\n"
        let findings = ThirdPartyManager.parseFlatpakUpdates(updates, installed: installed)
        #expect(findings.map(\.name) == ["org.gnome.Dictionary//stable", "org.freedesktop.Platform.GL.default//24.08"])
        #expect(findings[0].installedVersion == "3.24.0" && findings[0].availableVersion == "3.26.0" && findings[0].source == "flatpak")
        let sized = ThirdPartyManager.parseFlatpakColumns("Firefox\torg.mozilla.firefox\t1,2 GB\n", columns: ["name", "application", "download-size"])
        #expect(sized.first?["download-size"] == "1,2 GB")
    }

    @Test func linuxSectionsThroughARealShell() throws {
        let output = try StubShell.run(ThirdPartyManager.linuxScanSection, stubs: [
            "snap": """
                case "$*" in
                  "list --color=never") printf 'Name  Version  Rev  Tracking  Publisher  Notes\\ncore  16-2.44.1  8935  latest/stable  canonical  core\\n' ;;
                  "refresh --list --color=never") printf 'Name  Version  Rev  Publisher  Notes\\ncore  16-2.45  9066  canonical  core\\n' ;;
                esac
                """,
            "flatpak": """
                case "$1" in
                  list) printf 'org.gnome.Dictionary\\t3.24.0\\tstable\\tflathub\\n' ;;
                  remote-ls) printf 'org.gnome.Dictionary\\t3.26.0\\tstable\\tflathub\\n' ;;
                esac
                """,
        ])
        let findings = try ThirdPartyManager.linuxFindings(fromScanOutput: output)
        #expect(findings == [
            PendingUpdate(name: "core", installedVersion: "16-2.44.1", availableVersion: "16-2.45", source: "snap", security: false),
            PendingUpdate(name: "org.gnome.Dictionary//stable", installedVersion: "3.24.0", availableVersion: "3.26.0", source: "flatpak", security: false),
        ])
        // Neither tool installed: no sections, no findings.
        let none = try StubShell.run(ThirdPartyManager.linuxScanSection.replacingOccurrences(of: "command -v", with: "false"), stubs: [:])
        #expect(try ThirdPartyManager.linuxFindings(fromScanOutput: none).isEmpty)
        #expect { try ThirdPartyManager.parseLinuxSections(["snap-refresh": "error: cannot communicate with server", "snap-exit": "1"]) } throws: { error in
            (error as? ParseFailure)?.description == "snap refresh --list exited 1: error: cannot communicate with server"
        }
    }

    @Test func linuxInstallCommand() {
        let command = ThirdPartyManager.linuxInstallCommand([
            PendingUpdate(name: "core", installedVersion: "1", availableVersion: "2", source: "snap", security: false),
            PendingUpdate(name: "org.gnome.Dictionary//stable", installedVersion: "1", availableVersion: "2", source: "flatpak", security: false),
            PendingUpdate(name: "bash", installedVersion: "1", availableVersion: "2", source: "Debian:12/stable", security: false),
        ])
        #expect(command == "rc=0\nsnap refresh -- core || rc=$?\nflatpak update -y --noninteractive -- org.gnome.Dictionary//stable || rc=$?\nexit $rc")
    }

    @Test func windowsScanMergesThirdPartySections() throws {
        let platform = WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: "Windows", version: "10.0"))
        let output = "@@patchctl wua\r\n@@patchctl wua-result\r\n2\r\n@@patchctl reboot\r\n@@patchctl choco\r\n\(try Fixture.text("thirdparty/choco-outdated-r.txt"))@@patchctl choco-exit\r\n2\r\n@@patchctl winget\r\n\(try Fixture.text("thirdparty/winget-upgrade-unknown.txt"))@@patchctl winget-exit\r\n0\r\n@@patchctl winget-export\r\n"
        let findings = try platform.parseScan(output)
        #expect(findings.updates.map(\.source) == ["choco", "winget", "winget"])
        let failing = "@@patchctl wua\n@@patchctl wua-result\n2\n@@patchctl choco\nChocolatey v2.2.2\nError retrieving packages from source\n@@patchctl choco-exit\n1\n"
        #expect { try platform.parseScan(failing) } throws: { error in
            (error as? ParseFailure)?.description == "choco outdated exited 1: Error retrieving packages from source"
        }
        #expect(try WindowsPlatformTests.script(of: WindowsPlatform.scanCommand(refresh: false, thirdParty: true)).contains("outdated -r --no-color"))
    }

    @Test func windowsInstallMixesTaskAndThirdParty() throws {
        let platform = WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: "Windows", version: "10.0"))
        let updates = [
            PendingUpdate(name: "KB5072033", installedVersion: "", availableVersion: "9769e8ee-5e2e-4f54-92ee-d616ce08ca7f.1", source: "windows-update: x", security: true),
            PendingUpdate(name: "Git.Git", installedVersion: "2.30.0", availableVersion: "2.31.0", source: "winget", security: false),
            PendingUpdate(name: "firefox", installedVersion: "121.0", availableVersion: "122.0", source: "choco", security: false),
        ]
        let script = try WindowsPlatformTests.script(of: platform.installCommand(updates))
        #expect(script.contains("@('9769e8ee-5e2e-4f54-92ee-d616ce08ca7f')"))
        #expect(script.contains("upgrade --id 'Git.Git' --exact --version '2.31.0' --silent"))
        #expect(script.contains("choco.exe upgrade 'firefox' --version '122.0' -y"))
        #expect(script.hasSuffix("exit ($wu -bor $bad)"))
        let onlyThirdParty = try WindowsPlatformTests.script(of: platform.installCommand(Array(updates.dropFirst())))
        #expect(!onlyThirdParty.contains("ScheduledTask") && onlyThirdParty.contains("$wu=0"))
        let onlyWU = try WindowsPlatformTests.script(of: platform.installCommand([updates[0]]))
        #expect(onlyWU.hasSuffix("exit $wu"))
    }

    @Test func windowsInstalledVersionsIncludeChocoAndWinget() {
        let platform = WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: "Windows", version: "10.0"))
        let output = "@@patchctl installed-updates\r\n@@patchctl choco-installed\r\nfirefox|122.0\r\nchocolatey|2.2.2\r\n@@patchctl winget-export\r\n{\"Sources\":[{\"Packages\":[{\"PackageIdentifier\":\"Git.Git\",\"Version\":\"2.31.0\"}]}]}\r\n"
        let versions = platform.parseInstalledVersions(output)
        #expect(versions["firefox"] == "122.0" && versions["Git.Git"] == "2.31.0")
    }

    @Test func sourcesNameTheManager() {
        #expect(ThirdPartyManager.allCases.map(\.source) == ["winget", "choco", "brew", "brew-cask", "snap", "flatpak"])
        #expect(ThirdPartyManager(source: "brew-cask") == .brewCask && ThirdPartyManager(source: "windows-update: x") == nil)
    }

    @Test func posixScriptRunsTheLinuxSectionsOnceAfterEveryFamilysScanAndParsesInstalledVersions() throws {
        let script = ScanScript.posix.command(refresh: false)
        #expect(script.hasPrefix("out=$(\n" + Platforms.factsCommand))
        // Once, on Linux only, last inside the one capture.
        #expect(script.components(separatedBy: ThirdPartyManager.linuxScanSection).count == 2)
        let linux = try #require(script.range(of: "if [ \"$pc_kernel\" = Linux ]; then\n" + ThirdPartyManager.linuxScanSection + "\nfi\n) 2>&1\nprintf '%s\\n' \"$out\""))
        #expect(linux.upperBound == script.endIndex)
        for family in ScanScript.posixFamilies {
            let scan = try #require(script.range(of: family.platform.scanCommand(refresh: false)), "\(family.platform)")
            #expect(scan.upperBound <= linux.lowerBound, "\(family.platform)")
        }
        let output = "@@patchctl snap-list\nName  Version  Rev  Tracking  Publisher  Notes\ncore  16-2.45  9066  latest/stable  canonical  core\n@@patchctl flatpak-installed\norg.gnome.Dictionary\t3.26.0\tstable\tflathub\n"
        #expect(ThirdPartyManager.parseLinuxInstalledVersions(output) == ["core": "16-2.45", "org.gnome.Dictionary//stable": "3.26.0"])
        #expect(ThirdPartyManager.linuxInstalledVersionsCommand.contains("flatpak list --columns=application,version,branch,origin"))
    }

    @Test func everyPOSIXScriptIsValidShell() throws {
        // `sh -n` parses without running: the combined scan (every registered family plus the
        // third-party sections) and the install/verify commands built here.
        let scripts = [
            ScanScript.posix.command(refresh: true), ScanScript.posix.command(refresh: false), ThirdPartyManager.linuxInstalledVersionsCommand,
            ThirdPartyManager.linuxInstallCommand([PendingUpdate(name: "core", installedVersion: "", availableVersion: "2", source: "snap", security: false)]),
            MacOSPlatform.scanCommand(refresh: true, greedyCasks: true),
            MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: "26")).installCommand([
                PendingUpdate(name: "macOS Tahoe 26.2-25C56", installedVersion: "", availableVersion: "26.2", source: "softwareupdate", security: true),
                PendingUpdate(name: "rav1e", installedVersion: "1", availableVersion: "2", source: "brew", security: false),
            ]),
            SusePlatform.scanCommand(refresh: true),
            SusePlatform(os: OSInfo(family: .suse, id: "sles", name: "SLES", version: "15")).installedVersionsCommand(["a", "patch:b"]),
        ]
        for script in scripts {
            let output = try StubShell.run("sh -n -c " + Shell.quote(script) + " && echo syntax-ok", stubs: [:])
            #expect(output.contains("syntax-ok"), "\(output)")
        }
    }
}
