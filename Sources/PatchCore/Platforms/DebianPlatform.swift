/// Debian, Ubuntu and their derivatives: apt and dpkg.
public struct DebianPlatform: Platform {
    public let os: OSInfo
    public var family: OSFamily { .debian }

    public init(os: OSInfo) {
        self.os = os
    }

    public static let identity = PlatformIdentity(lineage: [.equals("debian"), .equals("ubuntu")])

    public static func detect(_ facts: OSFacts) -> DebianPlatform? {
        guard identity.matches(facts) else { return nil }
        let release = facts.osRelease
        let id = release["ID"]?.lowercased() ?? "debian"
        // Debian testing/sid have no VERSION_ID; the codename is the best version there is.
        let version = release["VERSION_ID"] ?? release["VERSION_CODENAME"] ?? ""
        let codename = release["VERSION_CODENAME"] ?? release["UBUNTU_CODENAME"]
        return DebianPlatform(os: OSInfo(
            family: .debian, id: id, name: release["NAME"] ?? id, version: version, codename: codename,
            kernel: facts.kernelRelease, architecture: facts.machine))
    }

    // C locale: the parser reads apt's English. NoLocking: a read-only query must not
    // wait for (or block) an unattended-upgrades run holding the lock.
    static let environment = "export LC_ALL=C LANG=C DEBIAN_FRONTEND=noninteractive"

    public static let probe = "[ -x /usr/bin/apt-get ] && [ -x /usr/bin/dpkg-query ]"
    public static let scanShell = ScanShell.posix(probe: probe)

    public static func scanCommand(refresh: Bool) -> String {
        var lines = [environment]
        if refresh {
            lines += ["echo '\(Sections.marker) refresh'", "apt-get update -q 2>&1", "rc=$?", "echo '\(Sections.marker) refresh-exit'", "echo $rc"]
        }
        lines += [
            "echo '\(Sections.marker) apt'",
            "apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>&1",
            "rc=$?",
            "echo '\(Sections.marker) apt-exit'",
            "echo $rc",
            // Every package with its source package, in the same round trip: advisory feeds are keyed
            // by source package; the `ii` rows are also the installed count.
            "echo '\(Sections.marker) binaries'",
            "dpkg-query -W -f='\(binariesFormat)' 2>/dev/null",
            rebootCheck,
        ]
        return lines.joined(separator: "\n")
    }

    public func rebootCheckCommand() -> String { Self.rebootCheck }

    static let rebootCheck = "echo '\(Sections.marker) reboot'; if [ -e /var/run/reboot-required ]; then echo required; cat /var/run/reboot-required.pkgs 2>/dev/null; else echo none; fi"

    public func installCommand(_ updates: [PendingUpdate]) -> String {
        Self.aptInstallCommand(updates.map { "\($0.name)=\($0.availableVersion)" }, onlyUpgrade: true)
    }

    public func packageInstallCommand(_ package: PackageRecord, path: String?) -> String? {
        switch package.format {
        case .deb:
            // A path (not a name) makes apt install the file and resolve its dependencies.
            return path.map { Self.aptInstallCommand([$0]) }
        case .apt:
            return managerInstallCommand(name: package.name, version: package.version)
        default:
            return nil
        }
    }

    public func managerInstallCommand(name: String, version: String?) -> String? {
        Self.aptInstallCommand([version.map { "\(name)=\($0)" } ?? name])
    }

    /// The one `apt-get install` line (OS updates, library packages, policy bundles): no questions,
    /// changed configuration files kept, a lock held by unattended-upgrades waited for instead of
    /// failing at once, and `--` before the operands (`NAME`, `NAME=VERSION` or a .deb path).
    static func aptInstallCommand(_ operands: [String], onlyUpgrade: Bool = false) -> String {
        "\(environment); " + Shell.join([
            "apt-get", "-y", "-q",
            "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
            "-o", "DPkg::Lock::Timeout=300",
            "install",
        ] + (onlyUpgrade ? ["--only-upgrade"] : []) + ["--"] + operands)
    }

    /// `dpkg --audit` lists packages left unpacked or half-configured by an interrupted run.
    public func healthCommand() -> String {
        "LC_ALL=C dpkg --audit 2>&1; echo \"\(Sections.marker) audit-exit $?\""
    }

    public func parseHealth(_ output: String) -> PackageManagerHealth {
        let lines = output.split(separator: "\n").filter { !$0.hasPrefix(Sections.marker) }
        let detail = lines.map { $0.trimmed }.filter { !$0.isEmpty }.joined(separator: " ")
        guard !detail.isEmpty else { return .healthy }
        // dpkg explains itself in whole sentences: bounded, but never cut mid-sentence.
        return .broken(detail: BoundedMessage.bounded(detail, bytes: 2000), repair: "dpkg --configure -a && apt-get -f install")
    }

    /// `NAME<TAB>VERSION<TAB>STATUS` per named package (OS updates, library packages, bundle items).
    public func installedVersionsCommand(_ names: [String]) -> String {
        "dpkg-query -W -f='${Package}\\t${Version}\\t${db:Status-Abbrev}\\n' -- " + Shell.join(names) + " 2>/dev/null; true"
    }

    /// Only fully installed (`ii`) packages count: a half-installed one has not reached its version.
    public func parseInstalledVersions(_ output: String) -> [String: String] {
        var versions: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[2].trimmed == "ii" else { continue }
            versions[String(fields[0])] = String(fields[1])
        }
        return versions
    }

    public func parseScan(_ output: String) throws -> ScanFindings {
        let sections = Sections.split(output)
        if let refreshExit = sections["refresh-exit"], refreshExit.trimmed != "0" {
            let refresh = sections["refresh"] ?? ""
            let lines = refresh.split(separator: "\n").map { $0.trimmed }
            let reason = lines.first(where: Self.isAptError) ?? lines.last { !$0.isEmpty } ?? "no output"
            throw ParseFailure("metadata refresh (apt-get update) failed (exit \(refreshExit.trimmed)): \(reason)")
        }
        guard let apt = sections["apt"], let exit = sections["apt-exit"] else {
            throw ParseFailure("scan output lacks the apt section")
        }
        guard exit.trimmed == "0" else {
            let errors = BoundedMessage.bounded(apt.split(separator: "\n").filter(Self.isAptError).map { $0.trimmed }.joined(separator: " "), bytes: 2000)
            throw ParseFailure("apt-get -s dist-upgrade exited \(exit.trimmed): \(errors.isEmpty ? String(apt.suffix(300)) : errors)")
        }
        let binaries = sections["binaries"].map(Self.parseBinaries)
        // Older outputs (and fakes) print only the count.
        let installed = binaries.map { $0.count } ?? sections["installed"].flatMap { Int($0.trimmed) }
        let (rebootRequired, rebootPackages) = Self.parseReboot(sections["reboot"] ?? "")
        var findings = ScanFindings(updates: try Self.parseSimulation(apt), installedCount: installed,
                                    rebootRequired: rebootRequired, rebootPackages: rebootPackages)
        findings.installedBinaries = binaries ?? []
        return findings
    }

    /// An error line of apt's: `E: …`, or `Error: …` where apt 3.0's new output is on (`APT::Output-Version`
    /// 30: the `apt` command's default, and apt-get's when a configuration sets it). The `Inst` lines the
    /// scan reads are the same in both outputs (Fixtures/debian13-lab).
    static func isAptError<S: StringProtocol>(_ line: S) -> Bool {
        line.hasPrefix("E:") || line.hasPrefix("Error:")
    }

    /// `reboot` section: `required` then the packages that asked, or `none`.
    static func parseReboot(_ text: String) -> (Bool, [String]) {
        let lines = text.split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty }
        guard lines.first == "required" else { return (false, []) }
        var seen = Set<String>()
        return (true, lines.dropFirst().filter { seen.insert($0).inserted })
    }

    /// Reads `apt-get -s` output. Only `Inst` lines with an installed version are updates;
    /// the others are new packages pulled in as dependencies. A finding is (name, architecture):
    /// a multi-arch host lists libc6 once per architecture, and both are kept; a line repeating
    /// one already read is dropped, so what is shown is what history keeps.
    public static func parseSimulation(_ text: String) throws -> [PendingUpdate] {
        var updates: [PendingUpdate] = []
        var seen = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where raw.hasPrefix("Inst ") {
            guard let update = try parseInstLine(Substring(raw.dropFirst(5)), line: index + 1) else { continue }
            guard seen.insert(update.name + "\u{0}" + (update.architecture ?? "")).inserted else { continue }
            updates.append(update)
        }
        return updates
    }

    /// `NAME [INSTALLED] (CANDIDATE ORIGIN[, ORIGIN...] [ARCH])`, possibly followed by dependency
    /// annotations in brackets (`[]`, `[a:amd64 on b:i386]`) that we ignore.
    static func parseInstLine(_ rest: Substring, line: Int) throws -> PendingUpdate? {
        let failure = ParseFailure("unexpected apt-get -s line \(line): Inst \(rest)")
        guard let space = rest.firstIndex(of: " ") else { throw failure }
        let name = String(rest[..<space])
        var tail = rest[rest.index(after: space)...]
        guard tail.hasPrefix("[") else { return nil }
        guard let close = tail.firstIndex(of: "]") else { throw failure }
        let installed = String(tail[tail.index(after: tail.startIndex)..<close])
        tail = tail[tail.index(after: close)...].drop(while: { $0 == " " })
        guard tail.hasPrefix("("), let end = tail.firstIndex(of: ")") else { throw failure }
        let inside = tail[tail.index(after: tail.startIndex)..<end]
        guard let versionEnd = inside.firstIndex(of: " ") else { throw failure }
        let candidate = String(inside[..<versionEnd])
        var origins = inside[inside.index(after: versionEnd)...]
        var architecture: String?
        if origins.hasSuffix("]"), let open = origins.lastIndex(of: "[") {
            architecture = String(origins[origins.index(after: open)..<origins.index(before: origins.endIndex)])
            origins = origins[..<open]
        }
        let source = origins.trimmed
        return PendingUpdate(name: name, installedVersion: installed, availableVersion: candidate,
                             source: source, security: isSecurity(source), architecture: architecture)
    }

    /// True when any archive offering the candidate is a security suite: Debian's
    /// `Debian-Security` origin, or any `*-security` archive (Ubuntu pockets, ESM, local mirrors).
    static func isSecurity(_ source: String) -> Bool {
        source.split(separator: ",").contains { part in
            let origin = part.trimmed
            if origin.hasPrefix("Debian-Security:") { return true }
            guard let slash = origin.lastIndex(of: "/") else { return false }
            return origin[origin.index(after: slash)...].hasSuffix("-security")
        }
    }
}
