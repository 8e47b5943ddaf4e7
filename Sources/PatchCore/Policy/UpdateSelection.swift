/// Which pending updates a policy installs. Package rules are globs (`*`, `?`, `[a-z]`, `[!a]`)
/// over the package name, matched as the inventory's host globs are.
public struct UpdateSelection: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        case security, all
    }

    public var kind: Kind
    /// Updates whose vendor severity is known and lower are skipped; see `decide(_:)` for
    /// updates without one.
    public var minSeverity: Severity?
    /// When not empty, only packages matching one of these are installed.
    public var include: [String]
    public var exclude: [String]
    /// Never touched, whatever `include` or `kind` say (e.g. a pinned database server).
    public var hold: [String]
    /// Which managers' findings may be installed: `os` (the platform's own: apt, dnf, zypper,
    /// Windows Update, softwareupdate) and the third-party ones (`snap`, `flatpak`, `winget`,
    /// `choco`, `brew`, `brew-cask`). Empty: every manager.
    public var sources: [String]

    /// The names `sources` accepts.
    public static let sourceNames = ["os"] + ThirdPartyManager.allCases.map(\.rawValue)

    public init(kind: Kind = .security, minSeverity: Severity? = nil, include: [String] = [],
                exclude: [String] = [], hold: [String] = [], sources: [String] = []) {
        self.kind = kind
        self.minSeverity = minSeverity
        self.include = include
        self.exclude = exclude
        self.hold = hold
        self.sources = sources
    }

    /// The manager a finding came from: a third-party one, or `os`.
    public static func source(of update: PendingUpdate) -> String {
        ThirdPartyManager(source: update.source)?.rawValue ?? "os"
    }

    /// Rules apply in this order, the first that rejects giving the reason: hold, exclude,
    /// include, security-only, minimum severity.
    public func decide(_ update: PendingUpdate) -> SelectionDecision {
        if let glob = Self.firstMatch(of: update.name, in: hold) {
            return .skipped("held by policy (hold: \(glob))")
        }
        if let glob = Self.firstMatch(of: update.name, in: exclude) {
            return .skipped("excluded (exclude: \(glob))")
        }
        if !include.isEmpty, Self.firstMatch(of: update.name, in: include) == nil {
            return .skipped("not included")
        }
        if !sources.isEmpty, case let source = Self.source(of: update), !sources.contains(source) {
            return .skipped("from \(source), not among sources (\(sources.joined(separator: ", ")))")
        }
        if kind == .security, !update.security {
            return .skipped("not a security update")
        }
        if let minSeverity {
            // apt reports no severity at all, so for a security update without one the
            // security flag is the floor: it is selected rather than silently never patched.
            // An update with neither a severity nor the security flag has no rating to meet
            // the minimum with, so it is skipped (as vendors rate bug fixes "none").
            // Severities a vendor writes that we do not know ("Unspecified") count as absent.
            if let severity = update.severity.flatMap(Severity.init(text:)) {
                if severity < minSeverity {
                    return .skipped("severity \(severity.name) below minimum \(minSeverity.name)")
                }
            } else if !update.security {
                return .skipped("no severity reported, minimum \(minSeverity.name)")
            }
        }
        return .selected
    }

    private static func firstMatch(of name: String, in globs: [String]) -> String? {
        globs.first { GlobPattern($0).matches(name) }
    }
}

/// What a policy does with one pending update.
public enum SelectionDecision: Sendable, Equatable {
    case selected
    /// Left alone; the reason is shown to the operator as is.
    case skipped(String)
}
