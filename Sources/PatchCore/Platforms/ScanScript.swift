import PatchSSH

/// The one command a scan runs on a host, in its shell's language: facts and the family's scan
/// together, so a scan costs one round trip. Either way the platform is then picked from the
/// facts by `Platforms.detect`, the same for every family.
public enum ScanScript: Sendable, Equatable {
    /// sh on Linux, macOS and the BSDs: every family scanned through POSIX sh (`ScanShell.posix`).
    case posix
    /// PowerShell on Windows, over OpenSSH (whatever its default shell) or WinRM.
    case powershell

    /// The inventory says which shell answers (`shell_type`, `connection: winrm`): the command
    /// has to be written for it before anything is known about the host.
    public init(for host: Host) {
        self = host.isWindows ? .powershell : .posix
    }

    public func command(refresh: Bool) -> String {
        switch self {
        case .posix: Self.posixScript(refresh: refresh)
        // Encoded: the same line works whether OpenSSH's shell is cmd.exe or PowerShell, and over WinRM.
        case .powershell: WindowsPlatform.scanCommand(refresh: refresh, thirdParty: true)
        }
    }

    /// The facts in a scan's output.
    public func facts(from result: CommandResult) throws -> OSFacts {
        switch self {
        case .posix:
            return try Platforms.parseFacts(result.stdout)
        case .powershell:
            guard let facts = WindowsPlatform.facts(fromScanOutput: result.stdout) else {
                let said = (result.stderr.isEmpty ? result.stdout : result.stderr).trimmed
                throw ParseFailure("the Windows scan printed no OS facts (exit \(result.exitStatus)): \(String(said.prefix(300)))")
            }
            return facts
        }
    }

    /// Findings the script adds to the family's own (snap and flatpak on Linux; Windows's
    /// winget and Chocolatey are part of its own scan).
    public func thirdPartyFindings(_ stdout: String) throws -> [PendingUpdate] {
        switch self {
        case .posix: try ThirdPartyManager.linuxFindings(fromScanOutput: stdout)
        case .powershell: []
        }
    }

    // MARK: - The POSIX script, from parts

    /// Facts, the choice of family, that family's scan, and the Linux third-party sections, all
    /// inside one capture printed in one write: apt prints in dribs, and every packet that reaches
    /// the controller costs it a wake-up (most of a scan's controller CPU before this).
    static func posixScript(refresh: Bool) -> String {
        let parts = [Platforms.factsCommand, posixChoice, posixDispatch(refresh: refresh), posixLinuxSections]
        return "out=$(\n" + parts.joined(separator: "\n") + "\n) 2>&1\nprintf '%s\\n' \"$out\""
    }

    /// The POSIX families in registry order, with their probes.
    static var posixFamilies: [(platform: any Platform.Type, probe: String)] {
        Platforms.all.compactMap { platform in
            if case let .posix(probe) = platform.scanShell { (platform, probe) } else { nil }
        }
    }

    /// Sets `pc_family` to the first family, in registry order, whose identity the facts match:
    /// the order and the tests of `Platforms.detect`, so the scan that runs is the one the parser
    /// reads. Only a host without os-release is left to the probes (its package tools). os-release
    /// is read like `Platforms.parseOSRelease`: the last assignment, outer quotes removed, lowercased.
    static var posixChoice: String {
        var lines = [
            "pc_kernel=$(uname -s)",
            "pc_release=$(cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null)",
            #"pc_value() { printf '%s\n' "$pc_release" | sed -n "s/^[[:space:]]*$1=//p" | tail -n 1 | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/" | tr '[:upper:]' '[:lower:]'; }"#,
            #"pc_lineage=" $(pc_value ID) $(pc_value ID_LIKE) ""#,
            "pc_family=",
        ]
        var branches = posixFamilies.map { ($0.platform.identity.shellCondition, familyName($0.platform)) }
        branches += posixFamilies.map { ("[ -z \"$pc_release\" ] && { \($0.probe); }", familyName($0.platform)) }
        for (index, (condition, name)) in branches.enumerated() {
            lines.append((index == 0 ? "if " : "elif ") + condition + "; then pc_family=" + name)
        }
        lines.append("fi")
        // Said in the output: a mismatch with the parser's choice would otherwise show only as a parse error.
        lines.append("echo '\(Sections.marker) scan-family'; echo \"$pc_family\"")
        return lines.joined(separator: "\n")
    }

    static func posixDispatch(refresh: Bool) -> String {
        var lines: [String] = []
        for (index, family) in posixFamilies.enumerated() {
            lines.append((index == 0 ? "if " : "elif ") + "[ \"$pc_family\" = \(familyName(family.platform)) ]; then")
            lines.append(family.platform.scanCommand(refresh: refresh))
        }
        lines.append("fi")
        return lines.joined(separator: "\n")
    }

    /// snap and flatpak where they exist, after any Linux family's own scan (macOS lists Homebrew itself).
    static var posixLinuxSections: String {
        "if [ \"$pc_kernel\" = Linux ]; then\n" + ThirdPartyManager.linuxScanSection + "\nfi"
    }

    static func familyName(_ platform: any Platform.Type) -> String {
        String(describing: platform)
    }
}
