/// What a package name, version and architecture may look like, per package manager. Names and
/// versions come from endpoints and end up as operands of apt, dpkg-query, dnf, rpm, zypper,
/// brew, snap, flatpak, winget and choco: shell quoting keeps them one word, but a word such as
/// `-oDPkg::Pre-Invoke::=…` is still an option to apt. So every finding is checked against its
/// manager's grammar right after parsing; one that fails is reported and never planned (the
/// commands also put `--` before their operands where the tool accepts it).
public enum PackageGrammar: Sendable, Equatable {
    /// Debian policy 5.6.1/5.6.12: names of letters, digits, `+ - .`, starting alphanumeric
    /// (apt adds `:ARCH` for foreign multi-arch packages); versions `[EPOCH:]UPSTREAM[-REVISION]`.
    case debian
    /// rpm: names of letters, digits, `_ + - .`; `[EPOCH:]VERSION-RELEASE` of letters, digits, `. _ + ~ ^`.
    case rpm
    /// zypper: rpm names, plus `patch:NAME` for patches (names like `SUSE-SLE-Module-Basesystem-15-SP5-2024-123`).
    case zypper
    /// Windows Update: a KB (`KB5034441`, `KB2267602#1a2b3c4d`) or, without one, the update's title.
    case windowsUpdate
    /// macOS softwareupdate labels (`macOS Sonoma 14.2-23C64`: spaces allowed).
    case softwareUpdate
    /// winget ids (`Microsoft.VisualStudioCode`, `ARP\Machine\X64\{GUID}`, a store id), Chocolatey ids,
    /// Homebrew formulae and casks, snaps and flatpak refs (`org.gnome.Platform//45`).
    case thirdParty(ThirdPartyManager)

    /// The grammar that applies to `update` on a host of `family`.
    public static func of(_ update: PendingUpdate, family: OSFamily) -> PackageGrammar {
        if let manager = ThirdPartyManager(source: update.source) { return .thirdParty(manager) }
        switch family {
        case .debian: return .debian
        case .rhel: return .rpm
        case .suse: return .zypper
        case .macos: return .softwareUpdate
        case .windows: return .windowsUpdate
        case .unknown: return .rpm
        }
    }

    /// Why `update` cannot be planned, or nil when it fits the grammar.
    public func problem(with update: PendingUpdate) -> String? {
        if let problem = nameProblem(update.name) { return "package name \(Self.shown(update.name)) \(problem)" }
        for (what, version) in [("available version", update.availableVersion), ("installed version", update.installedVersion)] {
            // An empty installed version means "not installed yet" (patches, new store apps).
            if version.isEmpty, what == "installed version" { continue }
            if let problem = versionProblem(version) { return "\(what) \(Self.shown(version)) of \(Self.shown(update.name)) \(problem)" }
        }
        if let architecture = update.architecture, !Self.all(architecture, 1...64, Self.architectureCharacter) {
            return "architecture \(Self.shown(architecture)) of \(Self.shown(update.name)) is not a valid architecture"
        }
        if let problem = Self.textProblem(update.source, limit: 4096) { return "source of \(Self.shown(update.name)) \(problem)" }
        return nil
    }

    func nameProblem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "is empty" }
        if first == "-" { return "starts with '-' (it would be read as an option)" }
        switch self {
        case .debian:
            let parts = name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard Self.isAlphanumeric(first), Self.all(parts[0], 2...255, { Self.isAlphanumeric($0) || "+-.".unicodeScalars.contains($0) }),
                  parts.count == 1 || Self.all(parts[1], 1...64, Self.architectureCharacter)
            else { return "is not a Debian package name (policy 5.6.1: a-z, 0-9, + - . starting alphanumeric)" }
        case .rpm:
            guard Self.all(name, 1...255, Self.rpmNameCharacter) else { return "is not an rpm package name (letters, digits, _ + - .)" }
        case .zypper:
            let bare = name.hasPrefix("patch:") ? String(name.dropFirst(6)) : name
            guard let start = bare.unicodeScalars.first, start != "-",
                  Self.all(bare, 1...255, { Self.rpmNameCharacter($0) || $0 == ":" })
            else { return "is not a zypper package or patch name (letters, digits, _ + - . :)" }
        case .windowsUpdate, .softwareUpdate:
            if let problem = Self.textProblem(name, limit: 512) { return problem }
        case let .thirdParty(manager):
            let allowed: (Unicode.Scalar) -> Bool
            switch manager {
            case .winget: allowed = { Self.isAlphanumeric($0) || "._+-\\{}…".unicodeScalars.contains($0) }
            case .choco: allowed = { Self.isAlphanumeric($0) || "._-".unicodeScalars.contains($0) }
            case .brew, .brewCask: allowed = { Self.isAlphanumeric($0) || "@+._-/".unicodeScalars.contains($0) }
            case .snap: allowed = { Self.isAlphanumeric($0) || $0 == "-" }
            case .flatpak: allowed = { Self.isAlphanumeric($0) || "._-/".unicodeScalars.contains($0) }
            }
            guard Self.all(name, 1...255, allowed) else { return "is not a valid \(manager.rawValue) id" }
        }
        return nil
    }

    func versionProblem(_ version: String) -> String? {
        guard let first = version.unicodeScalars.first else { return "is empty" }
        if first == "-" { return "starts with '-' (it would be read as an option)" }
        switch self {
        case .debian:
            guard Self.isAlphanumeric(first), Self.all(version, 1...255, { Self.isAlphanumeric($0) || ".+~:-".unicodeScalars.contains($0) })
            else { return "is not a Debian version (policy 5.6.12: letters, digits, . + ~ : -)" }
        case .rpm, .zypper:
            guard Self.all(version, 1...255, { Self.isAlphanumeric($0) || "._+~^:-".unicodeScalars.contains($0) })
            else { return "is not an rpm version (letters, digits, . _ + ~ ^ : -)" }
        case .windowsUpdate, .softwareUpdate, .thirdParty:
            if let problem = Self.textProblem(version, limit: 255) { return problem }
            if version.unicodeScalars.contains(where: { $0 == " " }) && self != .softwareUpdate { return "contains spaces" }
        }
        return nil
    }

    /// Free text (titles, labels, origins): printable, bounded, no control characters.
    static func textProblem(_ text: String, limit: Int) -> String? {
        if text.utf8.count > limit { return "is longer than \(limit) bytes" }
        if text.unicodeScalars.contains(where: isControl) { return "contains control characters" }
        return nil
    }

    /// What a terminal would act on (the one list, `TerminalText`'s), and U+FFFD: what the
    /// transport made of a NUL or of bytes that were not UTF-8.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        TerminalText.isControl(scalar) || scalar == "\u{FFFD}"
    }

    static func isAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    static func rpmNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || "_+-.".unicodeScalars.contains(scalar)
    }

    static func architectureCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isAlphanumeric(scalar) || scalar == "_" || scalar == "-"
    }

    static func all<S: StringProtocol>(_ text: S, _ length: ClosedRange<Int>, _ allowed: (Unicode.Scalar) -> Bool) -> Bool {
        length.contains(text.utf8.count) && text.unicodeScalars.allSatisfy(allowed)
    }

    /// A value as a message shows it: quoted, control characters escaped, long ones shortened.
    static func shown(_ text: String) -> String {
        let short = text.unicodeScalars.count > 80 ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(80))) + "…" : text
        return "\"" + short.unicodeScalars.map { scalar in
            if scalar == "\"" || scalar == "\\" { return "\\" + String(scalar) }
            return isControl(scalar) ? TerminalText.visible(scalar) : String(scalar)
        }.joined() + "\""
    }
}

/// A finding an endpoint reported that does not fit its package manager's grammar: shown to the
/// operator, never planned or installed.
public struct RejectedUpdate: Codable, Sendable, Equatable {
    public var name: String
    public var reason: String

    public init(name: String, reason: String) {
        self.name = name
        self.reason = reason
    }
}

extension ScanFindings {
    /// Moves every update that does not fit its grammar out of `updates` into the result.
    mutating func rejectInvalid(family: OSFamily) -> [RejectedUpdate] {
        var rejected: [RejectedUpdate] = []
        updates.removeAll { update in
            guard let problem = PackageGrammar.of(update, family: family).problem(with: update) else { return false }
            rejected.append(RejectedUpdate(name: update.name, reason: problem))
            return true
        }
        return rejected
    }
}
