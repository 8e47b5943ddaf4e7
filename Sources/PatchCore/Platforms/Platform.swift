/// Facts gathered before the platform is known: enough to pick one.
public struct OSFacts: Sendable, Equatable {
    /// `/etc/os-release` as key → unquoted value.
    public var osRelease: [String: String]
    /// `uname -s`, `-r`, `-m`.
    public var kernelName: String
    public var kernelRelease: String
    public var machine: String

    public init(osRelease: [String: String], kernelName: String, kernelRelease: String, machine: String) {
        self.osRelease = osRelease
        self.kernelName = kernelName
        self.kernelRelease = kernelRelease
        self.machine = machine
    }

    /// `ID` plus every `ID_LIKE` entry, lowercased.
    public var lineage: [String] {
        let id = osRelease["ID"].map { [$0.lowercased()] } ?? []
        let like = (osRelease["ID_LIKE"] ?? "").lowercased().split(separator: " ").map(String.init)
        return id + like
    }
}

/// One operating-system family: how to recognise it, scan it, and install on it (OS updates,
/// library packages, bundle items) with its own commands.
/// Parsers are pure functions of recorded command output, so they are tested on real outputs.
public protocol Platform: Sendable {
    var family: OSFamily { get }
    var os: OSInfo { get }

    /// How the facts name this family; `detect` and the scan script's choice both test it.
    static var identity: PlatformIdentity { get }
    /// Returns the platform for these facts (they match `identity`), or nil when they describe another family.
    static func detect(_ facts: OSFacts) -> Self?

    /// The shell the family is scanned through, in the one command that also prints the facts
    /// (the platform is not known before the facts are read).
    static var scanShell: ScanShell { get }
    /// Prints, in sections, everything `parseScan` needs; with `refresh`, package metadata is
    /// refreshed first (needs root) and its outcome reported in a section of its own.
    static func scanCommand(refresh: Bool) -> String
    func parseScan(_ output: String) throws -> ScanFindings
    /// Installs exactly these versions non-interactively.
    func installCommand(_ updates: [PendingUpdate]) -> String
    /// The same, knowing every finding of the scan the updates were chosen from: a platform whose
    /// advisories install as units of their own (SUSE's patches) installs one only when every
    /// finding it covers is planned. Defaults to `installCommand(updates)`.
    func installCommand(_ updates: [PendingUpdate], of findings: [PendingUpdate]) -> String
    /// Prints whether a reboot is pending, in the form `parseScan` reads.
    func rebootCheckCommand() -> String

    /// Reports whether the package manager is usable (not left half-way by an interrupted run).
    func healthCommand() -> String
    func parseHealth(_ output: String) -> PackageManagerHealth
    /// Prints the installed version of each named package, for before/after verification.
    func installedVersionsCommand(_ names: [String]) -> String
    func parseInstalledVersions(_ output: String) -> [String: String]

    /// Installs a library package of one of this family's formats, its file (when the format has
    /// one) at `path` on the endpoint; nil when the family does not install it that way.
    func packageInstallCommand(_ package: PackageRecord, path: String?) -> String?
    /// Prints a library package's installed version, read back by `parsePackageVersion`.
    func packageVersionCommand(_ package: PackageRecord) -> String?
    /// The installed version `packageVersionCommand` printed, or nil when not (fully) installed.
    func parsePackageVersion(_ output: String, of package: PackageRecord) -> String?
    /// Installs a package by name from the host's own repositories (a policy bundle item the
    /// library does not hold): exactly `version`, or the newest offered. nil: the family has no
    /// package manager patchctl installs from by name. Verified with `installedVersionsCommand`.
    func managerInstallCommand(name: String, version: String?) -> String?

    /// Prints the current boot's unique id: a reboot is proven by a different one.
    func bootIDCommand() -> String
    /// Schedules a reboot in `graceMinutes` (0: now), warning logged-in users with `message`.
    func rebootCommand(graceMinutes: Int, message: String) -> String
    /// Lists interactive sessions (user and terminal), for deferment.
    func loggedInUsersCommand() -> String
    func parseLoggedInUsers(_ output: String) -> [LoggedInUser]
}

/// The Linux families read a library package's version with their own package database query.
extension Platform {
    public func packageVersionCommand(_ package: PackageRecord) -> String? {
        package.format.family == family ? installedVersionsCommand([package.name]) : nil
    }

    public func parsePackageVersion(_ output: String, of package: PackageRecord) -> String? {
        parseInstalledVersions(output)[package.name]
    }
}

/// Whether a host's package manager can run, and how to repair it when not.
public enum PackageManagerHealth: Sendable, Equatable {
    case healthy
    case broken(detail: String, repair: String)
}

/// One interactive login session on an endpoint.
public struct LoggedInUser: Sendable, Equatable, Codable {
    public var user: String
    public var terminal: String
    public init(user: String, terminal: String) {
        self.user = user
        self.terminal = terminal
    }
}

/// The platforms patchctl knows, in the order they are tried: adding one is a line here.
public enum Platforms {
    static let all: [any Platform.Type] = [DebianPlatform.self, RhelPlatform.self, SusePlatform.self, MacOSPlatform.self, WindowsPlatform.self]

    /// The first platform, in registry order, that the facts describe (POSIX and Windows alike).
    public static func detect(_ facts: OSFacts) -> (any Platform)? {
        for platform in all {
            if let found = platform.detect(facts) { return found }
        }
        return nil
    }

    /// Prints os-release and uname between section markers; POSIX sh only.
    public static let factsCommand = [
        "echo '\(Sections.marker) os-release'",
        "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null",
        "echo '\(Sections.marker) uname'",
        "uname -s; uname -r; uname -m",
    ].joined(separator: "; ")

    public static func parseFacts(_ output: String) throws -> OSFacts {
        let sections = Sections.split(output)
        guard let uname = sections["uname"] else {
            throw ParseFailure("no uname section in facts output")
        }
        let lines = uname.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 3 else { throw ParseFailure("uname printed \(lines.count) lines, expected 3") }
        return OSFacts(osRelease: parseOSRelease(sections["os-release"] ?? ""),
                       kernelName: lines[0], kernelRelease: lines[1], machine: lines[2])
    }

    /// os-release is shell-style `KEY=value` with optional single or double quotes.
    public static func parseOSRelease(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for raw in text.split(separator: "\n") {
            let line = raw.trimmed
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<equals])
            var value = String(line[line.index(after: equals)...])
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
                if first == "\"" {
                    value = value.replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\$", with: "$")
                        .replacingOccurrences(of: "\\`", with: "`").replacingOccurrences(of: "\\\\", with: "\\")
                }
            }
            result[key] = value
        }
        return result
    }
}

/// Why a platform parser rejected an output: the engine reports it as the host's error, with the
/// host's name and what was being read (`host: scan: …`).
public struct ParseFailure: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Several commands' outputs in one stream, separated by `@@patchctl NAME` lines, so a scan
/// costs one round trip.
public enum Sections {
    public static let marker = "@@patchctl"

    /// Section name → its text (without the trailing newline).
    public static func split(_ output: String) -> [String: String] {
        var result: [String: String] = [:]
        var current: String?
        var lines: [Substring] = []
        func flush() {
            if let current { result[current] = lines.joined(separator: "\n") }
        }
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(marker + " ") {
                flush()
                current = String(line.dropFirst(marker.count + 1)).trimmed
                lines = []
            } else {
                lines.append(line)
            }
        }
        flush()
        return result.mapValues { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
    }
}
