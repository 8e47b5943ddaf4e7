/// macOS: Apple's `softwareupdate` for the OS, Safari, command line tools and firmware, and
/// Homebrew formulae and casks (`brew outdated --json=v2`, run as the prefix's owner).
///
/// Findings: a `softwareupdate` entry is named by its *label* (what `--install` takes), versioned
/// by its `Version`, with `source` `softwareupdate` (or `softwareupdate, action=restart` when
/// installing it restarts the Mac). Homebrew findings have `source` `brew` / `brew-cask`.
/// `security` is set for titles that say "Security" (Security Update, Rapid Security Response,
/// Background Security Improvement) and for macOS updates within the running major version (Apple
/// ships its security fixes in those); a new major macOS never counts as a security update.
///
/// Reboot required: macOS keeps no "restart pending" flag that a script can read. patchctl's own
/// install writes `/var/db/patchctl/reboot-required` (the time) when softwareupdate says a restart
/// is needed; the scan reports a reboot as required while that time is later than the boot time.
/// Pending updates with `Action: restart` are *not* a pending reboot — they need one once
/// installed, which their `source` says.
public struct MacOSPlatform: Platform {
    public let os: OSInfo
    public var family: OSFamily { .macos }

    public init(os: OSInfo) {
        self.os = os
    }

    /// macOS has no os-release: the facts' `uname -s` is `Darwin`. The product version is only in
    /// `sw_vers`, which the scan prints (`refinedOS(fromScanOutput:)`); here it is derived from the
    /// Darwin major (20–24 → macOS 11–15, 25 → 26 "Tahoe"), good for the major only.
    /// macOS has no os-release: the kernel name tells.
    public static let identity = PlatformIdentity(kernelName: "Darwin")

    public static func detect(_ facts: OSFacts) -> MacOSPlatform? {
        guard identity.matches(facts) else { return nil }
        let darwinMajor = Int(facts.kernelRelease.split(separator: ".").first ?? "") ?? 0
        let version: String
        switch darwinMajor {
        case 25...: version = String(darwinMajor + 1)
        case 20...24: version = String(darwinMajor - 9)
        case 5...19: version = "10.\(darwinMajor - 4)"
        default: version = ""
        }
        return MacOSPlatform(os: OSInfo(family: .macos, id: "macos", name: "macOS", version: version,
                                        codename: codename(major: version), kernel: facts.kernelRelease, architecture: facts.machine))
    }

    static func codename(major: String) -> String? {
        switch major.split(separator: ".").first.map(String.init) ?? "" {
        case "11": "Big Sur"
        case "12": "Monterey"
        case "13": "Ventura"
        case "14": "Sonoma"
        case "15": "Sequoia"
        case "26": "Tahoe"
        default: nil
        }
    }

    public static let probe = "[ -x /usr/sbin/softwareupdate ]"
    public static let scanShell = ScanShell.posix(probe: probe)

    static let environment = "export LC_ALL=C LANG=C"
    static let rebootMarker = "/var/db/patchctl/reboot-required"

    /// `softwareupdate --list` always asks Apple's catalog (there is no useful cached answer), so
    /// `refresh` only adds `brew update`.
    public static func scanCommand(refresh: Bool) -> String {
        scanCommand(refresh: refresh, greedyCasks: false)
    }

    /// `greedyCasks`: also list casks that update themselves (`brew outdated --greedy`).
    public static func scanCommand(refresh: Bool, greedyCasks: Bool) -> String {
        [
            environment,
            "echo '\(Sections.marker) sw_vers'", "sw_vers 2>/dev/null",
            "echo '\(Sections.marker) softwareupdate'", "softwareupdate --list 2>&1", "rc=$?",
            "echo '\(Sections.marker) softwareupdate-exit'", "echo $rc",
            "echo '\(Sections.marker) installed'", "pkgutil --pkgs 2>/dev/null | wc -l",
            ThirdPartyManager.brewScanSection(refresh: refresh, greedyCasks: greedyCasks),
            rebootCheck,
        ].joined(separator: "\n")
    }

    public func rebootCheckCommand() -> String { Self.rebootCheck }

    /// `kern.boottime` is `{ sec = 1732500000, usec = 0 } Mon Nov 25 …`.
    static let rebootCheck = [
        "echo '\(Sections.marker) reboot'",
        "m=$(cat \(rebootMarker) 2>/dev/null); t=$(sysctl -n kern.boottime 2>/dev/null | sed 's/.*sec = \\([0-9]*\\).*/\\1/')",
        "if [ -n \"$m\" ] && [ -n \"$t\" ] && [ \"$m\" -gt \"$t\" ] 2>/dev/null; then echo required; else echo none; fi",
    ].joined(separator: "\n")

    /// softwareupdate labels one by one (each needs root; a restart-requiring one records the
    /// pending restart), then Homebrew as the prefix's owner. The restart itself is the deploy
    /// engine's decision (reboot policy), so `--restart` is never passed. Apple silicon caveat:
    /// macOS updates there also need a volume owner's credentials (`--user`/`--stdinpass`), which
    /// patchctl does not hold; such an install fails and is reported.
    public func installCommand(_ updates: [PendingUpdate]) -> String {
        var lines = [Self.environment, "rc=0"]
        for update in updates where update.source.hasPrefix("softwareupdate") {
            lines += [
                "out=$(softwareupdate --install \(Shell.quote(update.name)) 2>&1); s=$?; printf '%s\\n' \"$out\"; [ $s -ne 0 ] && rc=$s",
                "case \"$out\" in *[Rr]estart*) mkdir -p /var/db/patchctl && date +%s > \(Self.rebootMarker);; esac",
            ]
        }
        let formulae = updates.filter { $0.source == ThirdPartyManager.brew.source }.map(\.name)
        let casks = updates.filter { $0.source == ThirdPartyManager.brewCask.source }.map(\.name)
        if !formulae.isEmpty || !casks.isEmpty {
            lines.append(ThirdPartyManager.brewUpgradeCommand(formulae: formulae, casks: casks))
        }
        lines.append("exit $rc")
        return lines.joined(separator: "\n")
    }

    public func packageInstallCommand(_ package: PackageRecord, path: String?) -> String? {
        switch package.format {
        case .pkg:
            return path.map { Shell.join(["installer", "-pkg", $0, "-target", "/"]) }
        case .dmg:
            // A disk image holding an application: mounted read-only, the .app copied to /Applications.
            guard let path else { return nil }
            return "m=$(mktemp -d /tmp/patchctl-dmg.XXXXXX) || exit 1; " + Shell.join(["hdiutil", "attach", "-nobrowse", "-readonly", "-mountpoint"])
                + " \"$m\" " + Shell.quote(path) + " >/dev/null || { rmdir \"$m\"; exit 1; }; "
                + "app=$(find \"$m\" -maxdepth 1 -name '*.app' | head -n 1); rc=1; "
                + "if [ -n \"$app\" ]; then rm -rf \"/Applications/$(basename \"$app\")\" && cp -R \"$app\" /Applications/; rc=$?; fi; "
                + "hdiutil detach \"$m\" -quiet; rmdir \"$m\"; exit $rc"
        case .brew:
            return Shell.join(["brew", "install", "--", package.name])
        default:
            return nil
        }
    }

    /// Prints a `version` section: the package receipt (.pkg, named by its identifier as
    /// `pkgutil --pkgs` lists it), the application's bundle version (.dmg) or Homebrew's.
    public func packageVersionCommand(_ package: PackageRecord) -> String? {
        let name = Shell.quote(package.name)
        let version: String
        switch package.format {
        case .pkg: version = "pkgutil --pkg-info \(name) 2>/dev/null | awk '/^version:/ {print $2}'"
        case .dmg: version = "defaults read " + Shell.quote("/Applications/\(package.name).app/Contents/Info") + " CFBundleShortVersionString 2>/dev/null"
        case .brew: version = "brew list --versions \(name) 2>/dev/null | awk '{print $NF}'"
        default: return nil
        }
        return "echo '\(Sections.marker) version'; \(version); true"
    }

    public func parsePackageVersion(_ output: String, of package: PackageRecord) -> String? {
        let version = Sections.split(output)["version"]?.split(separator: "\n").first?.trimmed ?? ""
        return version.isEmpty ? nil : version
    }

    /// Bundle items come from the library only (Homebrew formulae are library entries of format brew).
    public func managerInstallCommand(name: String, version: String?) -> String? { nil }

    /// Neither softwareupdate nor Homebrew has a half-installed state to repair.
    public func healthCommand() -> String { "true" }

    public func parseHealth(_ output: String) -> PackageManagerHealth { .healthy }

    /// `softwareupdate --history --all` (what was installed, by title and version) for labels, and
    /// `brew list --versions` for formulae and casks; the names are echoed so the parser can tie a
    /// label to its history title.
    public func installedVersionsCommand(_ names: [String]) -> String {
        [
            Self.environment,
            "echo '\(Sections.marker) names'", "printf '%s\\n' " + Shell.join(names),
            "echo '\(Sections.marker) history'", "softwareupdate --history --all 2>/dev/null",
            ThirdPartyManager.brewLocator,
            "echo '\(Sections.marker) brew-versions'",
            "if [ -n \"$b\" ]; then $r \(ThirdPartyManager.brewEnvironment) \"$b\" list --versions -- " + Shell.join(names) + " 2>/dev/null; fi",
            "echo '\(Sections.marker) brew-cask-versions'",
            "if [ -n \"$b\" ]; then $r \(ThirdPartyManager.brewEnvironment) \"$b\" list --cask --versions -- " + Shell.join(names) + " 2>/dev/null; fi",
            "true",
        ].joined(separator: "\n")
    }

    public func parseInstalledVersions(_ output: String) -> [String: String] {
        let sections = Sections.split(output)
        var versions: [String: String] = [:]
        let history = Self.parseHistory(sections["history"] ?? "")
        for label in (sections["names"] ?? "").split(separator: "\n").map(String.init) {
            // New-style labels are "TITLE-VERSION" or "TITLE-BUILD"; history lists titles.
            var candidates = [label]
            if let dash = label.lastIndex(of: "-") { candidates.append(String(label[..<dash])) }
            if let version = candidates.lazy.compactMap({ history[$0] }).first { versions[label] = version }
        }
        for key in ["brew-versions", "brew-cask-versions"] {
            for line in (sections[key] ?? "").split(separator: "\n") {
                let fields = line.split(separator: " ")
                guard fields.count >= 2 else { continue }
                versions[String(fields[0])] = String(fields[fields.count - 1])
            }
        }
        return versions
    }

    /// `softwareupdate --history`: a header (`Display Name  Version  Date`), a dashed line, then
    /// fixed-width rows. Columns are cut where the header's words start; the latest row per title
    /// wins (rows are oldest first).
    static func parseHistory(_ text: String) -> [String: String] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { Array($0) }
        guard let header = lines.first(where: { String($0).contains("Display Name") }) else { return [:] }
        let headerText = String(header)
        guard let versionStart = headerText.range(of: "Version")?.lowerBound, let dateStart = headerText.range(of: "Date")?.lowerBound else { return [:] }
        let versionColumn = headerText.distance(from: headerText.startIndex, to: versionStart)
        let dateColumn = headerText.distance(from: headerText.startIndex, to: dateStart)
        var result: [String: String] = [:]
        for line in lines where line != header && !String(line).allSatisfy({ $0 == "-" || $0 == " " }) && line.count > versionColumn {
            let name = String(line[0..<versionColumn]).trimmed
            let version = String(line[versionColumn..<min(dateColumn, line.count)]).trimmed
            if !name.isEmpty, !version.isEmpty { result[name] = version }
        }
        return result
    }

    /// Boot session UUID: new on every boot, like Linux's boot_id.
    public func bootIDCommand() -> String {
        "sysctl -n kern.bootsessionuuid"
    }

    public func parseScan(_ output: String) throws -> ScanFindings {
        let sections = Sections.split(output)
        guard let listing = sections["softwareupdate"] else {
            throw ParseFailure("scan output lacks the softwareupdate section")
        }
        let exit = sections["softwareupdate-exit"]?.trimmed ?? "0"
        guard exit == "0" else {
            throw ParseFailure("softwareupdate --list exited \(exit): \(SusePlatform.lastLine(listing))")
        }
        let running = Self.parseSwVers(sections["sw_vers"] ?? "")?.version ?? os.version
        var updates = try Self.parseSoftwareUpdateList(listing).map { $0.finding(runningVersion: running) }
        updates += try ThirdPartyManager.parseBrewSections(sections)
        let reboot = (sections["reboot"] ?? "").split(separator: "\n").map { $0.trimmed }.contains("required")
        return ScanFindings(updates: updates, installedCount: sections["installed"].flatMap { Int($0.trimmed) }, rebootRequired: reboot)
    }

    /// `sw_vers`: `ProductName:`, `ProductVersion:`, `BuildVersion:` (tab- or space-separated).
    public static func parseSwVers(_ text: String) -> (name: String, version: String, build: String?)? {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].trimmed] = line[line.index(after: colon)...].trimmed
        }
        guard let version = fields["ProductVersion"] else { return nil }
        return (fields["ProductName"] ?? "macOS", version, fields["BuildVersion"])
    }

    /// The OS facts with the exact product version and build from the scan's `sw_vers` section
    /// (detection only knows the Darwin version). For the engine to store instead of `os`.
    public func refinedOS(fromScanOutput output: String) -> OSInfo {
        guard let product = Self.parseSwVers(Sections.split(output)["sw_vers"] ?? "") else { return os }
        var refined = os
        refined.name = product.name
        refined.version = product.version
        refined.codename = Self.codename(major: product.version) ?? os.codename
        return refined
    }
}
