/// SUSE Linux Enterprise (SLES, SLED, SLE Micro) and openSUSE (Leap, Tumbleweed): zypper and rpm.
///
/// Scan: `list-patches` (SUSE's advisories: category, severity, restart/interactive flags) and
/// `list-updates` (package name, edition, old edition, arch, repository) as XML, then
/// `info -t patch` for the needed patches, whose `Conflicts` list names the packages each patch
/// fixes. How they become findings (see `mergeFindings`):
/// - every package update is one `PendingUpdate`; a needed patch that lists the package passes on
///   its category (`security` → `security: true`) and severity (the highest of the patches that
///   list it), and is named in `source` as `ALIAS, patch:NAME`;
/// - a needed patch that covers no listed package update (its packages are not visible as updates,
///   or `info` gave nothing) becomes a finding of its own named `patch:NAME`, edition as version,
///   so it is never lost. zypper installs either form.
/// Install is exact: packages as `NAME=EDITION` (the scanned edition, with `--oldpackage` so a newer
/// edition published since the scan is not taken instead), patch findings as `patch:NAME` (a patch
/// has one edition), and with them `patch:NAME` for every patch all of whose package findings are
/// planned: zypper then installs the patch as such (it is "applied", and its reboot request is
/// known; the same packages installed bare leave zypper no reboot request, as the lab shows).
/// `zypper -n patch --category security` would install whatever is needed at install time, which is
/// not what was planned and approved, so it is not used.
public struct SusePlatform: Platform {
    public let os: OSInfo
    public var family: OSFamily { .suse }

    public init(os: OSInfo) {
        self.os = os
    }

    /// os-release `ID`/`ID_LIKE`: `sles`, `sled`, `sle-micro`, `opensuse-leap`, `opensuse-tumbleweed`,
    /// each with `suse` in `ID_LIKE`.
    public static let identity = PlatformIdentity(lineage: [.contains("suse"), .hasPrefix("sle")])

    public static func detect(_ facts: OSFacts) -> SusePlatform? {
        guard identity.matches(facts) else { return nil }
        let release = facts.osRelease
        let id = release["ID"]?.lowercased() ?? "suse"
        // Tumbleweed's VERSION_ID is its snapshot date, which is the best version there is.
        let version = release["VERSION_ID"] ?? release["VERSION"] ?? ""
        return SusePlatform(os: OSInfo(family: .suse, id: id, name: release["NAME"] ?? id, version: version,
                                       kernel: facts.kernelRelease, architecture: facts.machine))
    }

    // C locale: the parsers read zypper's English (messages and `info` labels are translated).
    static let environment = "export LC_ALL=C LANG=C"
    /// Read-only queries: never refresh implicitly (no network, no root needed); `--refresh` does that first.
    static let query = "zypper --non-interactive --xmlout --no-refresh"

    public static let probe = "[ -x /usr/bin/zypper ] && [ -x /usr/bin/rpm ]"
    public static let scanShell = ScanShell.posix(probe: probe)

    public static func scanCommand(refresh: Bool) -> String {
        var lines = [environment]
        if refresh {
            lines += ["echo '\(Sections.marker) refresh'", "zypper --non-interactive --xmlout refresh 2>&1", "rc=$?",
                      "echo '\(Sections.marker) refresh-exit'", "echo $rc"]
        }
        lines += [
            "echo '\(Sections.marker) patches'",
            "p=$(\(query) list-patches 2>&1)", "rc=$?", "printf '%s\\n' \"$p\"",
            "echo '\(Sections.marker) patches-exit'", "echo $rc",
            "echo '\(Sections.marker) updates'",
            "\(query) list-updates 2>&1", "rc=$?",
            "echo '\(Sections.marker) updates-exit'", "echo $rc",
            // The needed patches' names, picked out of the XML with grep/sed (no XML tool on a
            // minimal system): one `<update …>` start tag per line is how zypper prints them.
            "echo '\(Sections.marker) patch-info'",
            "n=$(printf '%s\\n' \"$p\" | grep -o '<update [^>]*>' | grep 'kind=\"patch\"' | grep 'status=\"needed\"' | sed 's/.* name=\"\\([^\"]*\\)\".*/\\1/' | sort -u)",
            "if [ -n \"$n\" ]; then set -f; zypper --non-interactive --no-refresh info -t patch $n 2>&1; set +f; fi",
            "echo '\(Sections.marker) installed'",
            "rpm -qa 2>/dev/null | wc -l",
            rebootCheck,
        ]
        return lines.joined(separator: "\n")
    }

    public func rebootCheckCommand() -> String { Self.rebootCheck }

    /// `zypper needs-rebooting` exits 102 when a reboot is needed, 0 when not (it tests
    /// `/run/reboot-needed`, which libzypp creates when an installed package or patch asks for a
    /// reboot). zypper older than 1.14 lacks the command, so the file is reported as well.
    static let rebootCheck = "echo '\(Sections.marker) reboot'; zypper needs-rebooting >/dev/null 2>&1; echo \"needs-rebooting $?\"; if [ -e /run/reboot-needed ]; then echo reboot-needed-file; fi"

    public func installCommand(_ updates: [PendingUpdate]) -> String {
        installCommand(updates, of: updates)
    }

    public func installCommand(_ updates: [PendingUpdate], of findings: [PendingUpdate]) -> String {
        var targets = updates.map { $0.name.hasPrefix("patch:") ? $0.name : "\($0.name)=\($0.availableVersion)" }
        targets += Self.wholePatches(planned: updates, findings: findings).map { "patch:" + $0 }
        // ZYPP_LOCK_TIMEOUT: wait for another zypper/PackageKit run instead of failing at once (exit 7).
        // --no-recommends: install what was planned (and its requirements), not new recommended packages.
        // Exits 102/103 (reboot/restart of zypper needed) follow a successful install. 102 says an
        // installed patch asks for a reboot, and nothing else keeps that: `zypper needs-rebooting`
        // tests only /run/reboot-needed, which libzypp writes for packages in /etc/zypp/needreboot,
        // not for patches. So the request is left there (a tmpfs: the next boot clears it), where
        // the re-scan, later scans and zypper itself find it.
        return "\(Self.environment) ZYPP_LOCK_TIMEOUT=300; " + Shell.join([
            "zypper", "--non-interactive", "install", "--auto-agree-with-licenses", "--oldpackage", "--no-recommends", "--",
        ] + targets) + "; rc=$?; case $rc in 102) [ -e /run/reboot-needed ] || : >/run/reboot-needed; rc=0;; 103) rc=0;; esac; exit $rc"
    }

    /// Patches (by name, first-seen order) that cover planned package findings and no finding
    /// left out of the plan: installing `patch:NAME` then adds nothing that was not planned.
    static func wholePatches(planned: [PendingUpdate], findings: [PendingUpdate]) -> [String] {
        let plannedNames = Set(planned.map(\.name))
        var names: [String] = []
        for update in planned where !update.name.hasPrefix("patch:") {
            for patch in update.advisories where !names.contains(patch) && !plannedNames.contains("patch:" + patch) {
                let covered = findings.filter { !$0.name.hasPrefix("patch:") && $0.advisories.contains(patch) }.map(\.name)
                if covered.allSatisfy(plannedNames.contains) { names.append(patch) }
            }
        }
        return names
    }

    public func packageInstallCommand(_ package: PackageRecord, path: String?) -> String? {
        package.format == .zypper ? managerInstallCommand(name: package.name, version: package.version) : nil
    }

    /// `zypper install NAME=VERSION` (`--oldpackage`: the pinned version even when older), or the newest `NAME`.
    public func managerInstallCommand(name: String, version: String?) -> String? {
        let operand = version.map { ["--oldpackage", "--", "\(name)=\($0)"] } ?? ["--", name]
        return "export LC_ALL=C; " + Shell.join(["zypper", "--non-interactive", "install"] + operand)
    }

    /// `zypper verify --dry-run` checks that every installed package's dependencies are satisfied
    /// (an interrupted or forced rpm transaction leaves them broken) without changing anything.
    public func healthCommand() -> String {
        "LC_ALL=C zypper --non-interactive --no-refresh verify --dry-run 2>&1; echo \"\(Sections.marker) verify-exit $?\""
    }

    public func parseHealth(_ output: String) -> PackageManagerHealth {
        var exit: Int?
        var lines: [String] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix(Sections.marker + " verify-exit ") {
                exit = Int(line.dropFirst(Sections.marker.count + 13).trimmed)
            } else if !line.trimmed.isEmpty {
                lines.append(line.trimmed)
            }
        }
        // Another process holding the zypp lock is not damage: the install waits for it.
        if exit == 7 { return .healthy }
        if exit == 0, lines.contains(where: { $0.contains("Dependencies of all installed packages are satisfied") }) {
            return .healthy
        }
        let meaning = exit.map { " (exit \($0)\(Self.exitMeaning($0).map { ": " + $0 } ?? ""))" } ?? ""
        let detail = lines.filter { !$0.hasPrefix("Loading repository data") && !$0.hasPrefix("Reading installed packages") }
            .joined(separator: " ")
        return .broken(detail: String(("zypper verify" + meaning + ": " + detail).prefix(500)),
                       repair: "zypper --non-interactive verify")
    }

    /// rpm for packages (newest install first wins: a multiversion package such as the kernel has
    /// several editions installed at once, and the one just installed is the newest); zypper's
    /// search for `patch:` findings (`status="installed"` once applied).
    public func installedVersionsCommand(_ names: [String]) -> String {
        let packages = names.filter { !$0.hasPrefix("patch:") }
        let patches = names.filter { $0.hasPrefix("patch:") }.map { String($0.dropFirst(6)) }
        var script = "echo '\(Sections.marker) rpm'"
        if !packages.isEmpty {
            script += "; rpm -q --qf '%{INSTALLTIME}\\t%{NAME}\\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\\n' -- "
                + Shell.join(packages) + " 2>/dev/null"
        }
        script += "; echo '\(Sections.marker) patches'"
        if !patches.isEmpty {
            script += "; LC_ALL=C \(Self.query) search -s -t patch --match-exact -- " + Shell.join(patches) + " 2>/dev/null"
        }
        return script + "; true"
    }

    public func parseInstalledVersions(_ output: String) -> [String: String] {
        let sections = Sections.split(output)
        var versions: [String: String] = [:]
        var newest: [String: Int] = [:]
        for line in (sections["rpm"] ?? "").split(separator: "\n") {
            // `package X is not installed` lines have no tabs and are skipped.
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 3, let time = Int(fields[0]) else { continue }
            let name = String(fields[1])
            if time >= newest[name, default: Int.min] {
                newest[name] = time
                versions[name] = String(fields[2])
            }
        }
        if let xml = sections["patches"], let document = try? Self.parseXML(xml) {
            for solvable in document.all("solvable") where solvable["kind"] == "patch" && solvable["status"] == "installed" {
                guard let name = solvable["name"] else { continue }
                versions["patch:" + name] = solvable["edition"] ?? "1"
            }
        }
        return versions
    }

    public func parseScan(_ output: String) throws -> ScanFindings {
        let sections = Sections.split(output)
        if let refreshExit = sections["refresh-exit"], refreshExit.trimmed != "0" {
            let document = try? Self.parseXML(sections["refresh"] ?? "")
            let reason = document.map(Self.errorMessages).flatMap { $0.isEmpty ? nil : $0.joined(separator: " ") }
                ?? Self.lastLine(sections["refresh"] ?? "")
            throw ParseFailure("metadata refresh (zypper refresh) failed (exit \(refreshExit.trimmed)): \(reason)")
        }
        guard let patchesText = sections["patches"], let updatesText = sections["updates"] else {
            throw ParseFailure("scan output lacks the zypper sections")
        }
        let patches = try Self.parsePatches(patchesText, exit: Int(sections["patches-exit"]?.trimmed ?? ""))
        let updates = try Self.parseUpdates(updatesText, exit: Int(sections["updates-exit"]?.trimmed ?? ""))
        let packagesOfPatches = Self.parsePatchInfo(sections["patch-info"] ?? "")
        let installed = sections["installed"].flatMap { Int($0.trimmed) }
        return ScanFindings(updates: Self.mergeFindings(patches: patches, updates: updates, packagesOfPatches: packagesOfPatches),
                            installedCount: installed, rebootRequired: Self.parseReboot(sections["reboot"] ?? ""))
    }

    /// `needs-rebooting N` (102: needed, 0: not), then `reboot-needed-file` when that file exists
    /// (the answer for a zypper too old to know the command).
    static func parseReboot(_ text: String) -> Bool {
        let lines = text.split(separator: "\n").map { $0.trimmed }
        if lines.contains("needs-rebooting 102") { return true }
        if lines.contains("needs-rebooting 0") { return false }
        return lines.contains("reboot-needed-file")
    }

    static func lastLine(_ text: String) -> String {
        text.split(separator: "\n").map { $0.trimmed }.last { !$0.isEmpty } ?? "no output"
    }
}
