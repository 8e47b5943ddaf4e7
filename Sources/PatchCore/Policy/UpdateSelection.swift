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
    /// `cves`: when not empty, exactly the updates fixing one of these CVE ids (upper case) are
    /// installed, whatever `updates`, `min_severity` and `kev` say; hold, exclude, include and
    /// sources still apply first (emergency patching must not override a hold).
    public var cves: [String]
    /// `kev`: updates fixing a CVE on CISA's Known Exploited Vulnerabilities catalogue are selected
    /// (even below `min_severity`); alone, only those are.
    public var kev: Bool

    /// The names `sources` accepts.
    public static let sourceNames = ["os"] + ThirdPartyManager.allCases.map(\.rawValue)

    public init(kind: Kind = .security, minSeverity: Severity? = nil, include: [String] = [],
                exclude: [String] = [], hold: [String] = [], sources: [String] = [], cves: [String] = [], kev: Bool = false) {
        self.kind = kind
        self.minSeverity = minSeverity
        self.include = include
        self.exclude = exclude
        self.hold = hold
        self.sources = sources
        self.cves = cves
        self.kev = kev
    }

    /// The manager a finding came from: a third-party one, or `os`.
    public static func source(of update: PendingUpdate) -> String {
        ThirdPartyManager(source: update.source)?.rawValue ?? "os"
    }

    /// Rules apply in this order, the first that rejects giving the reason: hold, exclude,
    /// include, sources; then `cves` alone decides when set; otherwise security-only, then
    /// `kev` (a KEV fix is selected outright) and the minimum severity.
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
        if !cves.isEmpty {
            // Emergency patching: the listed CVEs are the whole criterion (a fix the vendor did
            // not flag as security, or rated low, is still installed).
            let fixed = update.cves.map { $0.id.uppercased() }
            return cves.contains(where: fixed.contains) ? .selected : .skipped("fixes none of the listed CVEs (cves: \(cves.joined(separator: ", ")))")
        }
        if kind == .security, !update.security, !(kev && update.fixesKEV) {
            return .skipped("not a security update")
        }
        if kev {
            if update.fixesKEV { return .selected }
            if minSeverity == nil { return .skipped("fixes no known exploited (KEV) CVE") }
        }
        if let minSeverity {
            // The normalised severity: the vendor's word or, where the platform gives none (apt),
            // the CVEs' severities from the advisory feeds. A security update nobody rated is
            // the floor: it is selected rather than silently never patched. An update with
            // neither a rating nor the security flag has nothing to meet the minimum with, so it
            // is skipped (as vendors rate bug fixes "none"). Unknown vendor words
            // ("Unspecified") count as no rating.
            let severity = update.normalizedSeverity
            if severity == .unknown {
                if !update.security { return .skipped("no severity reported, minimum \(minSeverity.name)") }
            } else if severity < minSeverity {
                return .skipped("severity \(severity.name)\(Self.vendorWord(of: update, for: severity)) below minimum \(minSeverity.name)")
            }
        }
        return .selected
    }

    /// The word the normalised severity came from, when it differs from its name: the vendor's
    /// own (" (Moderate)") or a CVE's from the feed (" (CVE-2024-1234: unimportant)"); else "".
    static func vendorWord(of update: PendingUpdate, for severity: Severity) -> String {
        if let word = update.severity, Severity(text: word) == severity {
            return word.lowercased() == severity.name ? "" : " (\(word))"
        }
        guard let cve = update.cves.first(where: { $0.severity == severity }), let word = cve.vendorSeverity,
              word.lowercased() != severity.name else { return "" }
        return " (\(cve.id): \(word))"
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
