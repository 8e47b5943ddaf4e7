/// RHEL and its family (CentOS, Rocky, Alma, Oracle Linux, Fedora, Amazon Linux): dnf, or yum
/// on EL7, over rpm.
///
/// A scan reads `dnf check-update` (the candidates), `dnf updateinfo list --available` (which
/// advisories those candidates carry: the security flag, the severity, and the advisory ids,
/// written into `source` as `ID[, ID...] (REPO)`), the rpm database (installed versions and the
/// count) and `dnf needs-restarting -r`. Without `--refresh` dnf runs with `-C` (cached metadata
/// only), as apt's simulation reads only its lists; `--refresh` runs `dnf makecache` first.
/// Versions are `[EPOCH:]VERSION-RELEASE` with the epoch only when not 0, as dnf prints them.
public struct RhelPlatform: Platform {
    public let os: OSInfo
    public var family: OSFamily { .rhel }

    public init(os: OSInfo) {
        self.os = os
    }

    /// os-release ids of the family; the derivatives also name `rhel` or `fedora` in `ID_LIKE`.
    public static let identity = PlatformIdentity(lineage: ["rhel", "centos", "rocky", "almalinux", "ol", "fedora", "amzn"].map { .equals($0) })

    public static func detect(_ facts: OSFacts) -> RhelPlatform? {
        guard identity.matches(facts) else { return nil }
        let release = facts.osRelease
        let id = release["ID"]?.lowercased() ?? "rhel"
        // The codename lives only in VERSION's parentheses ("9.5 (Blue Onyx)"); Fedora's
        // VERSION_CODENAME is set but empty.
        var codename = release["VERSION_CODENAME"].flatMap { $0.isEmpty ? nil : $0 }
        if codename == nil, let version = release["VERSION"], let open = version.firstIndex(of: "("), let close = version.lastIndex(of: ")"), open < close {
            codename = String(version[version.index(after: open)..<close])
        }
        return RhelPlatform(os: OSInfo(
            family: .rhel, id: id, name: release["NAME"] ?? id, version: release["VERSION_ID"] ?? "", codename: codename,
            kernel: facts.kernelRelease, architecture: facts.machine))
    }

    // C locale: the parsers read dnf's English. dnf where it exists (EL8+, Fedora; on Fedora 41+
    // that is dnf5, whose output these parsers have not been checked against), yum on EL7.
    static let environment = "export LC_ALL=C LANG=C; if [ -x /usr/bin/dnf ]; then pm=dnf; else pm=yum; fi"

    public static let probe = "[ -x /usr/bin/rpm ] && { [ -x /usr/bin/dnf ] || [ -x /usr/bin/yum ]; }"
    public static let scanShell = ScanShell.posix(probe: probe)

    /// The format of every rpm query here: one package per line, tab-separated.
    static let rpmFormat = "%{NAME}\\t%{ARCH}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\n"

    public static func scanCommand(refresh: Bool) -> String {
        var lines = [environment]
        if refresh {
            lines += ["echo '\(Sections.marker) refresh'", "$pm -q makecache 2>&1", "rc=$?", "echo '\(Sections.marker) refresh-exit'", "echo $rc"]
        }
        lines += [
            // check-update exits 100 when updates are pending, 0 when none, 1 on error.
            "echo '\(Sections.marker) check-update'",
            "$pm -q -C check-update 2>&1",
            "rc=$?",
            "echo '\(Sections.marker) check-update-exit'",
            "echo $rc",
            "echo '\(Sections.marker) updateinfo'",
            // yum (EL7) takes the scope as a word, dnf as an option.
            "if [ $pm = dnf ]; then dnf -q -C updateinfo list --available 2>&1; else yum -q -C updateinfo list available 2>&1; fi",
            "rc=$?",
            "echo '\(Sections.marker) updateinfo-exit'",
            "echo $rc",
            // The same advisories by CVE (`CVE-ID  SEVERITY/Sec.  NEVRA`): each update's CVE ids.
            "echo '\(Sections.marker) updateinfo-cves'",
            "if [ $pm = dnf ]; then dnf -q -C updateinfo list --available --with-cve 2>&1; else yum -q -C updateinfo list cves available 2>&1; fi",
            "rc=$?",
            "echo '\(Sections.marker) updateinfo-cves-exit'",
            "echo $rc",
            "echo '\(Sections.marker) rpm'",
            "rpm -qa --qf '\(rpmFormat)' 2>/dev/null",
            rebootCheck,
        ]
        return lines.joined(separator: "\n")
    }

    public func rebootCheckCommand() -> String { Self.environment + "\n" + Self.rebootCheck }

    /// `needs-restarting -r` (dnf's plugin; yum-utils' own command on EL7) and, for when it is
    /// missing, the installed kernels to compare with the running one.
    static let rebootCheck = [
        "echo '\(Sections.marker) reboot'",
        "if [ $pm = dnf ]; then dnf -q -C needs-restarting -r 2>&1; else needs-restarting -r 2>&1; fi",
        "rc=$?",
        "echo '\(Sections.marker) reboot-exit'",
        "echo $rc",
        // rpm also prints "package kernel-uek is not installed" lines: the parser skips them.
        "echo '\(Sections.marker) kernels'",
        "rpm -q --qf '\(rpmFormat)' \(kernelPackages.joined(separator: " ")) 2>/dev/null",
        "echo '\(Sections.marker) running-kernel'",
        "uname -r",
    ].joined(separator: "\n")

    /// Packages whose version is a kernel's `uname -r` (with the architecture appended).
    static let kernelPackages = ["kernel-core", "kernel", "kernel-uek-core", "kernel-uek", "kernel-rt-core", "kernel-rt"]

    /// `dnf upgrade NAME-[EPOCH:]VERSION-RELEASE.ARCH`: exactly the planned build, nothing newer.
    public func installCommand(_ updates: [PendingUpdate]) -> String {
        let targets = updates.map { update in
            update.name + "-" + update.availableVersion + (update.architecture.map { "." + $0 } ?? "")
        }
        return "export LC_ALL=C LANG=C; if [ -x /usr/bin/dnf ]; then pm=dnf; else pm=yum; fi; $pm -y upgrade -- " + Shell.join(targets)
    }

    public func packageInstallCommand(_ package: PackageRecord, path: String?) -> String? {
        switch package.format {
        case .rpm:
            guard let path else { return nil }
            return "export LC_ALL=C; if command -v dnf >/dev/null 2>&1; then " + Shell.join(["dnf", "-y", "install", "--", path])
                + "; else " + Shell.join(["yum", "-y", "install", "--", path]) + "; fi"
        case .dnf:
            return managerInstallCommand(name: package.name, version: package.version)
        default:
            return nil
        }
    }

    /// `dnf install NAME-VERSION` (or the newest `NAME`).
    public func managerInstallCommand(name: String, version: String?) -> String? {
        "export LC_ALL=C; " + Shell.join(["dnf", "-y", "install", "--", version.map { "\(name)-\($0)" } ?? name])
    }

    /// Duplicate packages in the rpm database are what an interrupted transaction leaves (the
    /// analogue of dpkg's half-installed packages); a database dnf cannot open fails the check too.
    /// Other `dnf check` findings (a third-party package's missing dependency) do not stop a deploy.
    public func healthCommand() -> String {
        Self.environment + "; if [ $pm = dnf ]; then dnf -q -C check --duplicates 2>&1; else yum -q -C check duplicates 2>&1; fi; " +
            "echo \"\(Sections.marker) check-exit $?\""
    }

    public func parseHealth(_ output: String) -> PackageManagerHealth {
        var exit: String?
        var lines: [String] = []
        for line in output.split(separator: "\n") {
            if line.hasPrefix(Sections.marker + " check-exit ") {
                exit = String(line.dropFirst(Sections.marker.count + " check-exit ".count)).trimmed
            } else if !line.trimmed.isEmpty {
                lines.append(line.trimmed)
            }
        }
        if exit == "0" { return .healthy }
        let detail = lines.isEmpty ? "package manager check exited \(exit ?? "without a status")" : lines.joined(separator: " ")
        let repair = detail.contains("is a duplicate with")
            ? "dnf remove --duplicates (yum-complete-transaction, then package-cleanup --cleandupes on EL7)"
            : "dnf check, and repair what it lists (rpm --rebuilddb for a damaged database)"
        return .broken(detail: String(detail.prefix(500)), repair: repair)
    }

    public func installedVersionsCommand(_ names: [String]) -> String {
        "rpm -q --qf '\(Self.rpmFormat)' -- " + Shell.join(names) + " 2>/dev/null; true"
    }

    /// Name → `[EPOCH:]VERSION-RELEASE`. Several copies of one name: per architecture the newest
    /// (a kernel stays installed beside its successor), across architectures the oldest (a
    /// multilib package has reached a version only when every architecture has).
    public func parseInstalledVersions(_ output: String) -> [String: String] {
        var byName: [String: RPMVersion] = [:]
        for (name, versions) in Dictionary(grouping: Self.parseRPMList(output), by: \.name) {
            let newestPerArch = Dictionary(grouping: versions, by: \.arch).values.compactMap { $0.map(\.version).max() }
            byName[name] = newestPerArch.min()
        }
        return byName.mapValues(\.description)
    }
}
