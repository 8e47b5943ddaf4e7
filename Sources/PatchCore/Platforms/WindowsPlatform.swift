/// Windows, reached over OpenSSH for Windows (or WinRM). Every command this type returns is a
/// complete `powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand …`
/// line (see `PowerShell`), so it runs the same whether the remote shell is cmd.exe or PowerShell.
///
/// How the engine uses it:
/// 1. Scan: the inventory says which shell answers (`shell_type: powershell|cmd`, `connection: winrm`),
///    and so which script runs (`ScanScript.powershell`: this type's `scanCommand(refresh:thirdParty:)`).
///    Its `os` section gives the facts (`facts(fromScanOutput:)`), and `Platforms.detect` picks this
///    platform from them as it picks any other (kernel name `Windows_NT`); `parseScan` gives the findings.
/// 2. Deploy: `installCommand(_:)` (or `installBatches` first when one command would be longer
///    than `PowerShell.cmdLineLimit`), then `installedVersionsCommand`/`parseInstalledVersions`;
///    `parseInstallResult` reads the install's own report for messages.
/// 3. Reboot, boot id, logged-in users: the usual protocol methods, Windows versions.
///
/// Findings: see `findings(_:)` — named `KB…` (or the title), versioned `UPDATEID.REVISION`.
/// Commands that should stay under cmd.exe's limit are tested to (`PowerShell.cmdLineLimit`).
public struct WindowsPlatform: Platform {
    public let os: OSInfo
    public var family: OSFamily { .windows }

    /// Windows updates are installed by the SYSTEM task; polling gives up after this long.
    public var installTimeoutSeconds: Int

    public init(os: OSInfo, installTimeoutSeconds: Int = 7200) {
        self.os = os
        self.installTimeoutSeconds = installTimeoutSeconds
    }

    /// The kernel name `facts(fromScanOutput:)` reports.
    public static let identity = PlatformIdentity(kernelName: "Windows_NT")

    public static func detect(_ facts: OSFacts) -> WindowsPlatform? {
        guard identity.matches(facts) else { return nil }
        let release = facts.osRelease
        return WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: release["NAME"] ?? "Windows",
                                          version: release["VERSION_ID"] ?? facts.kernelRelease, codename: release["BUILD_ID"].map { "build \($0)" },
                                          kernel: facts.kernelRelease, architecture: facts.machine))
    }

    /// The platform for a Windows scan's output (its `os` section), or nil when it has none.
    public static func detect(scanOutput: String) -> WindowsPlatform? {
        facts(fromScanOutput: scanOutput).flatMap(detect)
    }

    /// The scan's `os` section as `OSFacts`: `Caption` → NAME, `Version` (10.0.22631) →
    /// VERSION_ID and kernel release, `BuildNumber` → BUILD_ID, `OSArchitecture` → machine.
    public static func facts(fromScanOutput output: String) -> OSFacts? {
        guard let section = Sections.split(PowerShell.normalizedLines(output))["os"] else { return nil }
        var values: [String: String] = [:]
        for line in section.split(separator: "\n") {
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { values[String(parts[0])] = parts[1].trimmed }
        }
        guard let version = values["Version"] else { return nil }
        var release = ["ID": "windows", "VERSION_ID": version]
        release["NAME"] = values["Caption"]
        release["BUILD_ID"] = values["BuildNumber"]
        return OSFacts(osRelease: release, kernelName: "Windows_NT", kernelRelease: version, machine: values["Architecture"] ?? "")
    }

    public static let scanShell = ScanShell.powershell

    public static func scanCommand(refresh: Bool) -> String {
        scanCommand(refresh: refresh, thirdParty: false)
    }

    /// `thirdParty`: also Chocolatey and winget upgrades, merged into the findings.
    public static func scanCommand(refresh: Bool, thirdParty: Bool) -> String {
        PowerShell.encodedCommand(scanScriptPowerShell(refresh: refresh, thirdParty: thirdParty))
    }

    public func parseScan(_ output: String) throws -> ScanFindings {
        let sections = Sections.split(PowerShell.normalizedLines(output))
        let updates = try Self.parseUpdates(sections)
        let flags = Self.parseRebootFlags(sections["reboot"] ?? "")
        let thirdParty = try ThirdPartyManager.parseWindowsSections(sections)
        return ScanFindings(updates: Self.findings(updates) + thirdParty, installedCount: sections["installed"].flatMap { Int($0.trimmed) },
                            rebootRequired: !flags.isEmpty, rebootPackages: flags)
    }

    /// Prints the `reboot` section alone (read it with `parseRebootCheck`; `parseScan` reads the
    /// same section inside a whole scan).
    public func rebootCheckCommand() -> String {
        PowerShell.encodedCommand(Self.preamble + "\n" + Self.rebootFlagsScript)
    }

    /// Whether a reboot is pending, and which flags say so.
    public func parseRebootCheck(_ output: String) -> (required: Bool, flags: [String]) {
        let flags = Self.parseRebootFlags(Sections.split(PowerShell.normalizedLines(output))["reboot"] ?? "")
        return (!flags.isEmpty, flags)
    }

    /// Installs exactly the findings' UpdateIDs (revision is informational: Windows Update offers
    /// one revision of an update at a time) via the SYSTEM task (see `installScriptPowerShell`),
    /// then winget/Chocolatey findings at their listed versions in the session itself
    /// (`ThirdPartyManager.windowsInstallScriptPowerShell`). Exits 0 only when everything installed.
    public func installCommand(_ updates: [PendingUpdate]) -> String {
        let thirdParty = updates.filter { ThirdPartyManager(source: $0.source) != nil }
        let windowsUpdates = updates.filter { ThirdPartyManager(source: $0.source) == nil }
        var script = windowsUpdates.isEmpty ? Self.preamble + "\n$wu=0"
            : Self.installScriptPowerShell(updateIDs: windowsUpdates.map(Self.updateID), timeoutSeconds: installTimeoutSeconds)
        script += "\n" + (thirdParty.isEmpty ? "exit $wu" : ThirdPartyManager.windowsInstallScriptPowerShell(thirdParty) + "\nexit ($wu -bor $bad)")
        return PowerShell.encodedCommand(script)
    }

    /// Library packages: PowerShell from `WindowsPackageCommands` (msiexec, exe, winget, choco).
    public func packageInstallCommand(_ package: PackageRecord, path: String?) -> String? {
        WindowsPackageCommands.install(package, path: path)
    }

    public func packageVersionCommand(_ package: PackageRecord) -> String? {
        package.format.family == .windows ? WindowsPackageCommands.installedVersion(package) : nil
    }

    public func parsePackageVersion(_ output: String, of package: PackageRecord) -> String? {
        WindowsPackageCommands.section("version", in: output)
    }

    /// Bundle items come from the library only: winget and Chocolatey install library entries.
    public func managerInstallCommand(name: String, version: String?) -> String? { nil }

    /// The Windows Update service must not be disabled (every search and install would fail with
    /// 0x80070422). Prints its start type and status.
    public func healthCommand() -> String {
        PowerShell.encodedCommand(Self.preamble + "\n$v=Get-Service wuauserv;\"$($v.StartType)`t$($v.Status)\"")
    }

    public func parseHealth(_ output: String) -> PackageManagerHealth {
        let line = PowerShell.normalizedLines(output).split(separator: "\n").first { $0.contains("\t") }.map(String.init) ?? ""
        if line.hasPrefix("Disabled") {
            return .broken(detail: "the Windows Update service (wuauserv) is disabled (\(line.replacingOccurrences(of: "\t", with: ", ")))",
                           repair: "Set-Service wuauserv -StartupType Manual")
        }
        return .healthy
    }

    /// Installed updates (`IsInstalled=1`), printed like the scan's lines; the parser names them
    /// the way `findings` does, under every name a finding could have had (KB, KB#id, title).
    public func installedVersionsCommand(_ names: [String]) -> String {
        PowerShell.encodedCommand("""
            \(Self.preamble)
            S installed-updates
            $s=New-Object -ComObject Microsoft.Update.Session;$s.ClientApplicationID='patchctl'
            $r=$s.CreateUpdateSearcher().Search("IsInstalled=1 and Type='Software'")
            foreach($u in $r.Updates){$k=($u.KBArticleIDs|%{"KB$_"}) -join ',';"installed`t$($u.Identity.UpdateID)`t$($u.Identity.RevisionNumber)`t$k`t$($u.Title -replace '\\s+',' ')"}
            if(Get-Command choco.exe -EA 0){S choco-installed;choco.exe list -r --no-color 2>&1|%{"$_"}}
            $g=(Get-Command winget.exe -EA 0).Source;if(-not $g){$g=(Resolve-Path "$env:ProgramFiles\\WindowsApps\\Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe\\winget.exe" -EA 0|Select-Object -Last 1).Path}
            if($g){$f="$env:TEMP\\patchctl-winget-$PID.json";& $g export -o $f --include-versions --accept-source-agreements --disable-interactivity *>$null
            S winget-export;if(Test-Path $f){Get-Content $f -Raw;Remove-Item $f -EA 0}}
            """)
    }

    public func parseInstalledVersions(_ output: String) -> [String: String] {
        var versions: [String: String] = [:]
        for line in PowerShell.normalizedLines(output).split(separator: "\n") where line.hasPrefix("installed\t") {
            let fields = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 5 else { continue }
            let id = fields[1].lowercased()
            let version = "\(id).\(fields[2])"
            let title = fields[4].trimmed
            if let kb = fields[3].split(separator: ",").first.map(String.init) {
                versions[kb] = version
                versions["\(kb)#\(id.prefix(8))"] = version
            }
            if !title.isEmpty { versions[title] = version }
        }
        // Chocolatey (`choco list -r`: name|version; before 2.0 that listed the remote feed unless
        // --local-only, which 2.0 removed) and winget (`winget export --include-versions`).
        let sections = Sections.split(PowerShell.normalizedLines(output))
        for line in (sections["choco-installed"] ?? "").split(separator: "\n") {
            let fields = line.split(separator: "|").map { $0.trimmed }
            if fields.count == 2 { versions[fields[0]] = fields[1] }
        }
        for (id, version) in ThirdPartyManager.parseWingetExportVersions(sections["winget-export"] ?? "") {
            versions[id] = version
        }
        return versions
    }

    /// `LastBootUpTime` in UTC ticks: the same number for the whole of one boot.
    public func bootIDCommand() -> String {
        PowerShell.encodedCommand(Self.preamble + "\n(Get-CimInstance Win32_OperatingSystem).LastBootUpTime.ToUniversalTime().Ticks")
    }

    /// `shutdown.exe /r /t SECONDS /c "message"` (Windows shows the message to every session and
    /// counts down); reason code `p:2:17`: planned, operating system, hot fix. The comment is cut
    /// to shutdown's 512-character limit.
    public func rebootCommand(graceMinutes: Int, message: String) -> String {
        let seconds = max(0, min(graceMinutes, 5_256_000)) * 60
        let comment = String(message.replacingOccurrences(of: "\n", with: " ").prefix(512))
        return PowerShell.encodedCommand(Self.preamble + "\nshutdown.exe /r /t \(seconds) /d p:2:17 /c \(PowerShell.quote(comment))\nexit $LASTEXITCODE")
    }

    /// `quser` (query user) lists interactive sessions, console and Remote Desktop, active or
    /// disconnected; it prints "No User exists for *" on stderr (exit 1) when there are none, and is
    /// missing on Home editions, where the console user from Win32_ComputerSystem is printed instead.
    public func loggedInUsersCommand() -> String {
        PowerShell.encodedCommand("""
            $ProgressPreference='SilentlyContinue';try{[Console]::OutputEncoding=New-Object Text.UTF8Encoding $false}catch{}
            if(Get-Command quser.exe -EA 0){quser.exe 2>&1|%{"$_"}}else{$u=(Get-CimInstance Win32_ComputerSystem).UserName;if($u){"console-user`t$u"}}
            """)
    }

    public func parseLoggedInUsers(_ output: String) -> [LoggedInUser] {
        Self.parseQuser(output)
    }
}
