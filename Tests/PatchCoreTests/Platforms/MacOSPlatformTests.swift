import Foundation
import Testing
@testable import PatchCore

@Suite("macOS softwareupdate and Homebrew parsers on real outputs")
struct MacOSPlatformTests {
    static let platform = MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: "26"))

    @Test func tahoeLabelsTitlesVersionsAndRestart() throws {
        let items = try MacOSPlatform.parseSoftwareUpdateList(try Fixture.text("macos/softwareupdate-list-tahoe.txt"))
        #expect(items == [
            .init(label: "Command Line Tools for Xcode 26.2-26.2", title: "Command Line Tools for Xcode 26.2", version: "26.2",
                  recommended: true, action: nil),
            .init(label: "macOS Tahoe 26.2-25C56", title: "macOS Tahoe 26.2", version: "26.2", recommended: true, action: "restart"),
        ])
    }

    @Test func olderFormatWithIndentedLabels() throws {
        let items = try MacOSPlatform.parseSoftwareUpdateList(try Fixture.text("macos/softwareupdate-list-mountainlion.txt"))
        #expect(items.map(\.label) == ["MacBookAirEFIUpdate2.4-2.4", "ProAppsQTCodecs-1.0", "JavaForOSX-1.0"])
        #expect(items[0] == .init(label: "MacBookAirEFIUpdate2.4-2.4", title: "MacBook Air EFI Firmware Update", version: "2.4",
                                  recommended: true, action: "restart"))
        #expect(items[2].title == "Java for OS X 2012-005" && items[2].version == "1.0" && items[2].action == nil)
    }

    @Test func olderFormatWithTabsAndParenthesesInTitles() throws {
        let items = try MacOSPlatform.parseSoftwareUpdateList(try Fixture.text("macos/softwareupdate-list-mojave.txt"))
        #expect(items.count == 4)
        #expect(items[1] == .init(label: "Security Update 2020-005-10.14.6", title: "Security Update 2020-005", version: "10.14.6",
                                  recommended: true, action: "restart"))
        #expect(items[3].title == "Command Line Tools (macOS Mojave version 10.14) for Xcode" && items[3].version == "10.3")
        #expect(items[1].finding(runningVersion: "10.14.6").security)
        #expect(!items[0].finding(runningVersion: "10.14.6").security)
    }

    @Test func nothingAvailable() throws {
        #expect(try MacOSPlatform.parseSoftwareUpdateList(try Fixture.text("macos/softwareupdate-list-none.txt")).isEmpty)
        #expect(try MacOSPlatform.parseSoftwareUpdateList("").isEmpty)
    }

    @Test func commasAndLocalisedSizesDoNotSplitFields() throws {
        // Constructed from the Tahoe line's documented shape: a title with a comma and a size
        // written the way a German locale would ("1,2 GB"). Sizes are never read.
        let text = "* Label: Safari 26.2, Tahoe-26.2\n\tTitle: Safari 26.2, Tahoe, Version: 26.2, Size: 1,2 GB, Recommended: YES,\n"
        let item = try #require(try MacOSPlatform.parseSoftwareUpdateList(text).first)
        #expect(item.title == "Safari 26.2, Tahoe" && item.version == "26.2" && item.recommended && item.action == nil)
    }

    @Test func entryWithoutDetailIsAnError() {
        #expect(throws: ParseFailure.self) { try MacOSPlatform.parseSoftwareUpdateList("* Label: Lonely-1.0\n") }
    }

    @Test func scanFindingsSecurityByRunningMajor() throws {
        let output = """
            @@patchctl sw_vers
            ProductName:\t\tmacOS
            ProductVersion:\t\t26.1
            BuildVersion:\t\t25B78
            @@patchctl softwareupdate
            \(try Fixture.text("macos/softwareupdate-list-tahoe.txt"))
            @@patchctl softwareupdate-exit
            0
            @@patchctl installed
                 812
            @@patchctl brew
            \(try Fixture.text("macos/brew-outdated-formula.json"))
            @@patchctl brew-exit
            0
            @@patchctl brew-stderr
            @@patchctl brew-owner
            alice
            @@patchctl reboot
            none
            """
        let findings = try Self.platform.parseScan(output)
        #expect(findings.installedCount == 812 && !findings.rebootRequired)
        #expect(findings.updates.map(\.name) == ["Command Line Tools for Xcode 26.2-26.2", "macOS Tahoe 26.2-25C56", "pygobject3", "rav1e"])
        let os = try #require(findings.updates.first { $0.name.hasPrefix("macOS") })
        #expect(os.security && os.source == "softwareupdate, action=restart" && os.availableVersion == "26.2")
        #expect(!findings.updates[0].security && findings.updates[0].source == "softwareupdate")
        #expect(findings.updates[2] == PendingUpdate(name: "pygobject3", installedVersion: "3.36.1", availableVersion: "3.38.0", source: "brew", security: false))
        #expect(Self.platform.refinedOS(fromScanOutput: output).version == "26.1")
        #expect(Self.platform.refinedOS(fromScanOutput: output).codename == "Tahoe")
        // A new major is never a security update.
        let upgrade = MacOSPlatform.SoftwareUpdateItem(label: "macOS Tahoe 26.0-25A354", title: "macOS Tahoe 26", version: "26.0", recommended: true, action: "restart")
        #expect(!upgrade.finding(runningVersion: "15.6").security)
    }

    @Test func softwareupdateFailureIsReported() {
        let output = "@@patchctl softwareupdate\nSoftware Update Tool\n\nFinding available software\nCan't connect to the Apple Software Update server.\n@@patchctl softwareupdate-exit\n1\n@@patchctl reboot\nnone\n"
        #expect { try Self.platform.parseScan(output) } throws: { error in
            (error as? ParseFailure)?.description == "softwareupdate --list exited 1: Can't connect to the Apple Software Update server."
        }
    }

    @Test func rebootMarkerNewerThanBoot() throws {
        let output = "@@patchctl softwareupdate\nNo new software available.\n@@patchctl softwareupdate-exit\n0\n@@patchctl reboot\nrequired\n"
        #expect(try Self.platform.parseScan(output).rebootRequired)
        // The check itself, through a real shell: marker absent → none.
        let check = try StubShell.run(Self.platform.rebootCheckCommand(), stubs: ["sysctl": "echo '{ sec = 1732500000, usec = 0 } Mon Nov 25 00:00:00 2024'"])
        #expect(Sections.split(check)["reboot"] == "none")
    }

    @Test func brewFormulaeAndOldStyleCasks() throws {
        let formulae = try ThirdPartyManager.parseBrewOutdated(try Fixture.text("macos/brew-outdated-formula.json"))
        #expect(formulae.map(\.name) == ["pygobject3", "rav1e"] && formulae.allSatisfy { $0.source == "brew" && !$0.security })
        let casks = try ThirdPartyManager.parseBrewOutdated(try Fixture.text("macos/brew-outdated-cask-greedy.json"))
        // "latest" → "latest" is not an update.
        #expect(casks.map(\.name) == ["amethyst", "balenaetcher", "electrum", "lg-onscreen-control"])
        #expect(casks.allSatisfy { $0.source == "brew-cask" })
        #expect(casks[3].installedVersion == "5.47,yi5XuIZw6hg" && casks[3].availableVersion == "5.48,uYXSwyUCNFBbSch9PFw")
    }

    @Test func brewArrayCasksPinnedFormulaeAndEmptyOutput() throws {
        // Constructed in current Homebrew's documented v2 shape (arrays for casks too), since the
        // recordings found show the older string form only.
        let json = """
            {"formulae":[{"name":"node","installed_versions":["20.0.0","21.0.0"],"current_version":"22.0.0","pinned":false,"pinned_version":null},
            {"name":"postgresql@14","installed_versions":["14.10"],"current_version":"14.11","pinned":true,"pinned_version":"14.10"}],
            "casks":[{"name":"firefox","installed_versions":["121.0"],"current_version":"122.0"}]}
            """
        let updates = try ThirdPartyManager.parseBrewOutdated(json)
        #expect(updates == [
            PendingUpdate(name: "node", installedVersion: "21.0.0", availableVersion: "22.0.0", source: "brew", security: false),
            PendingUpdate(name: "firefox", installedVersion: "121.0", availableVersion: "122.0", source: "brew-cask", security: false),
        ])
        #expect(try ThirdPartyManager.parseBrewOutdated("").isEmpty)
        #expect(throws: ParseFailure.self) { try ThirdPartyManager.parseBrewOutdated("Error: Running Homebrew as root is extremely dangerous") }
    }

    @Test func brewFailureCarriesItsStderr() throws {
        let sections = ["brew": "", "brew-exit": "1", "brew-stderr": "Error: Running Homebrew as root is extremely dangerous and no longer supported.", "brew-owner": "root"]
        #expect { try ThirdPartyManager.parseBrewSections(sections) } throws: { error in
            (error as? ParseFailure)?.description == "brew outdated (as root) exited 1: Error: Running Homebrew as root is extremely dangerous and no longer supported."
        }
        #expect(try ThirdPartyManager.parseBrewSections([:]).isEmpty)
    }

    @Test func brewRunsAsThePrefixOwnerWhenRoot() throws {
        // Through a real shell: `id -u` says root, `stat` says alice owns brew; the stub brew
        // records how it was called. (Only runs where /opt/homebrew does not exist, i.e. here.)
        let script = ThirdPartyManager.brewLocator.replacingOccurrences(of: "/opt/homebrew/bin/brew", with: "$STUBDIR/brew")
            + "\necho \"r=$r o=$o b=${b##*/}\""
        let output = try StubShell.run("STUBDIR=$(dirname \"$(command -v id)\"); " + script, stubs: [
            "id": "echo 0", "stat": "echo alice", "brew": "echo brew",
        ])
        #expect(output.contains("r=sudo -u alice -H o=alice b=brew"))
    }

    @Test func installBySourceAndMarker() {
        let command = Self.platform.installCommand([
            PendingUpdate(name: "macOS Tahoe 26.2-25C56", installedVersion: "", availableVersion: "26.2", source: "softwareupdate, action=restart", security: true),
            PendingUpdate(name: "rav1e", installedVersion: "0.3.3", availableVersion: "0.3.4", source: "brew", security: false),
            PendingUpdate(name: "firefox", installedVersion: "121.0", availableVersion: "122.0", source: "brew-cask", security: false),
        ])
        #expect(command.contains("softwareupdate --install 'macOS Tahoe 26.2-25C56'"))
        #expect(!command.contains("--restart"))
        #expect(command.contains("date +%s > /var/db/patchctl/reboot-required"))
        #expect(command.contains("\"$b\" upgrade --formula -- rav1e") && command.contains("upgrade --cask --greedy -- firefox"))
        #expect(command.hasSuffix("exit $rc"))
    }

    @Test func installedVersionsFromHistoryAndBrew() {
        // The history table is constructed in the documented layout (`softwareupdate --history`:
        // Display Name / Version / Date); no raw recording was found.
        let output = """
            @@patchctl names
            macOS Tahoe 26.2-25C56
            rav1e
            JavaForOSX-1.0
            @@patchctl history
            Display Name                                       Version    Date
            ------------                                       -------    ----
            macOS Tahoe 26.1                                   26.1       11/04/2025, 09:12:40
            macOS Tahoe 26.2                                   26.2       12/13/2025, 10:01:02
            @@patchctl brew-versions
            rav1e 0.3.3 0.3.4
            @@patchctl brew-cask-versions
            """
        #expect(Self.platform.parseInstalledVersions(output) == ["macOS Tahoe 26.2-25C56": "26.2", "rav1e": "0.3.4"])
    }

    @Test(arguments: [("25.1.0", "26", "Tahoe"), ("24.6.0", "15", "Sequoia"), ("23.6.0", "14", "Sonoma"), ("20.6.0", "11", "Big Sur"), ("19.6.0", "10.15", nil)])
    func detectsDarwin(kernel: String, version: String, codename: String?) {
        let facts = OSFacts(osRelease: [:], kernelName: "Darwin", kernelRelease: kernel, machine: "arm64")
        let platform = MacOSPlatform.detect(facts)
        #expect(platform?.os.version == version && platform?.os.codename == codename && platform?.family == .macos)
        #expect(MacOSPlatform.detect(OSFacts(osRelease: ["ID": "debian"], kernelName: "Linux", kernelRelease: "6.1", machine: "x86_64")) == nil)
    }

    @Test func bootIDAndUsers() {
        #expect(Self.platform.bootIDCommand() == "sysctl -n kern.bootsessionuuid")
        #expect(Self.platform.parseLoggedInUsers("alice    console      Nov 25 08:01\nalice    ttys000      Nov 25 08:02\n")
                == [LoggedInUser(user: "alice", terminal: "console"), LoggedInUser(user: "alice", terminal: "ttys000")])
    }
}
