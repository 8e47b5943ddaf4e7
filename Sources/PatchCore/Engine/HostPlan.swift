/// What one host's deploy installs, split by the tool that installs it: the OS family's
/// package manager, or a third-party manager that installs on its own (snap, flatpak).
struct HostPlan {
    let platform: any Platform
    /// The scan this plan was made from.
    let findings: ScanFindings
    /// Every approved update, OS and third-party.
    let updates: [PendingUpdate]
    /// Installed by `platform.installCommand`.
    let osUpdates: [PendingUpdate]
    /// Installed by `ThirdPartyManager.linuxInstallCommand`.
    let thirdParty: [PendingUpdate]

    init(platform: any Platform, findings: ScanFindings, updates: [PendingUpdate]) {
        self.platform = platform
        self.findings = findings
        self.updates = updates
        // The manager says whether it installs apart from the platform (Homebrew, winget and
        // Chocolatey findings go through the platform's own install command).
        let separate = { (update: PendingUpdate) in ThirdPartyManager(source: update.source)?.installsSeparately == true }
        thirdParty = updates.filter(separate)
        osUpdates = updates.filter { !separate($0) }
    }

    var installCommand: String? { osUpdates.isEmpty ? nil : platform.installCommand(osUpdates, of: findings.updates) }
    var thirdPartyCommand: String? { thirdParty.isEmpty ? nil : ThirdPartyManager.linuxInstallCommand(thirdParty) }
    /// The package operations, in the order they run.
    var commands: [String] { [installCommand, thirdPartyCommand].compactMap { $0 } }
}
