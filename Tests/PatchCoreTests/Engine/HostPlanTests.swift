import Foundation
import Testing
@testable import PatchCore

/// The plan splits updates by the tool that installs them, asking the manager, not the family.
@Suite("Host plan")
struct HostPlanTests {
    static func update(_ name: String, source: String) -> PendingUpdate {
        PendingUpdate(name: name, installedVersion: "1", availableVersion: "2", source: source, security: false)
    }

    @Test func snapAndFlatpakInstallAfterTheFamilysOwnCommand() {
        let debian = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
        let apt = Self.update("openssl", source: "Debian:12/stable")
        let snap = Self.update("core22", source: "snap")
        let flatpak = Self.update("org.gnome.Platform//46", source: "flatpak")
        let plan = HostPlan(platform: debian, findings: ScanFindings(updates: [], installedCount: nil, rebootRequired: false),
                            updates: [snap, apt, flatpak])
        #expect(plan.osUpdates == [apt])
        #expect(plan.thirdParty == [snap, flatpak])
        #expect(plan.commands == [debian.installCommand([apt]), ThirdPartyManager.linuxInstallCommand([snap, flatpak])])
    }

    @Test func homebrewWingetAndChocolateyGoThroughThePlatformsCommand() {
        let macOS = MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: "15"))
        let brew = Self.update("wget", source: "brew")
        let cask = Self.update("firefox", source: "brew-cask")
        let plan = HostPlan(platform: macOS, findings: ScanFindings(updates: [], installedCount: nil, rebootRequired: false), updates: [brew, cask])
        #expect(plan.thirdParty.isEmpty)
        #expect(plan.commands == [macOS.installCommand([brew, cask])])
        for manager in ThirdPartyManager.allCases {
            #expect(manager.installsSeparately == [.snap, .flatpak].contains(manager), "\(manager)")
        }
    }

    @Test func nothingPlannedRunsNothing() {
        let debian = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
        let plan = HostPlan(platform: debian, findings: ScanFindings(updates: [], installedCount: nil, rebootRequired: false), updates: [])
        #expect(plan.installCommand == nil && plan.thirdPartyCommand == nil && plan.commands.isEmpty)
    }
}
