/// Package managers beside the operating system's own: applications installed through winget,
/// Chocolatey, Homebrew, snap or flatpak. Every finding from one of them carries the manager's
/// name (the raw value) in `PendingUpdate.source`, so policies and reports can tell them apart
/// (`source == "winget"`), and `installCommand(for:)`-style helpers know which tool installs it.
///
/// None of them publishes security advisories the way the OS vendors do, so their findings are
/// never `security` and have no severity; a policy selects them by name or with `select: all`.
public enum ThirdPartyManager: String, Sendable, CaseIterable, Codable {
    case winget
    case choco
    /// Homebrew formulae (command-line packages).
    case brew
    /// Homebrew casks (applications).
    case brewCask = "brew-cask"
    case snap
    case flatpak

    /// The value written into `PendingUpdate.source`.
    public var source: String { rawValue }

    /// The manager a finding came from, when it came from one of these.
    public init?(source: String) {
        self.init(rawValue: source)
    }

    /// True for managers that install with their own command after the OS updates (snap,
    /// flatpak); the others' findings are part of their platform's `installCommand`.
    public var installsSeparately: Bool {
        switch self {
        case .snap, .flatpak: return true
        case .winget, .choco, .brew, .brewCask: return false
        }
    }
}
