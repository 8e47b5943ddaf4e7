/// Library installs on Windows, as PowerShell run through `PowerShell.encodedCommand` (one line
/// that works whether OpenSSH's shell is cmd.exe or PowerShell, and over WinRM). Every script
/// prints `@@patchctl` sections, read by the parsers below.
public enum WindowsPackageCommands {
    static let preamble = WindowsPlatform.preamble

    /// OS facts only (the scan's `os` section, without the Windows Update search).
    public static var facts: String {
        PowerShell.encodedCommand(preamble + """

            S os
            $o=Get-CimInstance Win32_OperatingSystem
            "Caption`t$($o.Caption)";"Version`t$($o.Version)";"BuildNumber`t$($o.BuildNumber)";"Architecture`t$($o.OSArchitecture)"
            """)
    }

    /// A private folder under the login user's TEMP; prints its path with forward slashes, the
    /// form OpenSSH for Windows' SFTP server takes (`C:/Users/ops/AppData/Local/Temp/patchctl-install.…`).
    public static var makeFolder: String {
        PowerShell.encodedCommand(preamble + """

            $d=Join-Path $env:TEMP ('patchctl-install.'+[guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $d | Out-Null
            S folder
            $d.Replace('\\','/')
            """)
    }

    public static func hash(_ path: String) -> String {
        PowerShell.encodedCommand(preamble + "\nS hash\n(Get-FileHash -Algorithm SHA256 -LiteralPath \(PowerShell.quote(path))).Hash.ToLower()")
    }

    public static func removeFolder(_ path: String) -> String {
        PowerShell.encodedCommand(preamble + "\nRemove-Item -Recurse -Force -LiteralPath \(PowerShell.quote(path)) -ErrorAction SilentlyContinue")
    }

    /// The silent install. msiexec and exe installers run through Start-Process -Wait so their
    /// own exit code is the result (msiexec: 0, 3010 and 1641 are successes).
    public static func install(_ record: PackageRecord, path: String?) -> String? {
        let body: String
        switch record.format {
        case .msi:
            guard let path else { return nil }
            let log = path + ".log"
            body = """
                $p=Start-Process -FilePath msiexec.exe -ArgumentList @('/i',('"'+\(PowerShell.quote(path))+'"'),'/qn','/norestart','/l*v',('"'+\(PowerShell.quote(log))+'"')) -Wait -PassThru
                S exit
                $p.ExitCode
                """
        case .exe:
            guard let path else { return nil }
            let arguments = record.installArguments.map { PowerShell.quote($0) } ?? "''"
            body = """
                $a=\(arguments)
                if($a){$p=Start-Process -FilePath \(PowerShell.quote(path)) -ArgumentList $a -Wait -PassThru}else{$p=Start-Process -FilePath \(PowerShell.quote(path)) -Wait -PassThru}
                S exit
                $p.ExitCode
                """
        case .winget:
            body = """
                winget install --id \(PowerShell.quote(record.name)) --version \(PowerShell.quote(record.version)) --exact --silent --accept-package-agreements --accept-source-agreements --disable-interactivity | Out-Null
                S exit
                $LASTEXITCODE
                """
        case .choco:
            body = """
                choco install \(PowerShell.quote(record.name)) --version \(PowerShell.quote(record.version)) -y --no-progress | Out-Null
                S exit
                $LASTEXITCODE
                """
        default:
            return nil
        }
        return PowerShell.encodedCommand(preamble + "\n" + body)
    }

    /// Prints the installed version: Programs and Features (msi, exe, and what winget installs
    /// through them) by display name, or Chocolatey's own list.
    public static func installedVersion(_ record: PackageRecord) -> String {
        let name = PowerShell.quote(record.name)
        let body: String
        if record.format == .choco {
            body = "S version\n$l=choco list --exact \(name) -r 2>$null|Select-Object -First 1\nif($l){($l -split '\\|')[1]}"
        } else {
            body = """
                S version
                $k='HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*','HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\*'
                $e=Get-ItemProperty -Path $k -ErrorAction SilentlyContinue|Where-Object{$_.DisplayName -eq \(name) -or $_.PSChildName -eq \(name)}|Select-Object -First 1
                if($e){$e.DisplayVersion}
                """
        }
        return PowerShell.encodedCommand(preamble + "\n" + body)
    }

    /// The text of one section (`folder`, `hash`, `exit`, `version`), trimmed; nil when absent or empty.
    public static func section(_ name: String, in output: String) -> String? {
        guard let text = Sections.split(PowerShell.normalizedLines(output))[name]?.trimmed, !text.isEmpty else { return nil }
        return text
    }

    /// What an installer's exit code means. msiexec's codes are documented by Windows Installer;
    /// most exe installers follow them.
    public struct Exit: Equatable, Sendable {
        public var succeeded: Bool
        public var rebootRequired: Bool
        public var meaning: String
    }

    public static func exit(_ code: Int) -> Exit {
        switch code {
        case 0: return Exit(succeeded: true, rebootRequired: false, meaning: "success")
        case 3010: return Exit(succeeded: true, rebootRequired: true, meaning: "success, a restart is required (ERROR_SUCCESS_REBOOT_REQUIRED)")
        case 1641: return Exit(succeeded: true, rebootRequired: true, meaning: "success, the installer started a restart (ERROR_SUCCESS_REBOOT_INITIATED)")
        case 1602: return Exit(succeeded: false, rebootRequired: false, meaning: "cancelled (ERROR_INSTALL_USEREXIT)")
        case 1603: return Exit(succeeded: false, rebootRequired: false, meaning: "fatal error during installation (ERROR_INSTALL_FAILURE); see the .log beside the package")
        case 1618: return Exit(succeeded: false, rebootRequired: false, meaning: "another installation is in progress (ERROR_INSTALL_ALREADY_RUNNING)")
        case 1619: return Exit(succeeded: false, rebootRequired: false, meaning: "the package could not be opened (ERROR_INSTALL_PACKAGE_OPEN_FAILED)")
        case 1620: return Exit(succeeded: false, rebootRequired: false, meaning: "the package is not a valid Windows Installer package (ERROR_INSTALL_PACKAGE_INVALID)")
        case 1625: return Exit(succeeded: false, rebootRequired: false, meaning: "forbidden by system policy (ERROR_INSTALL_PACKAGE_REJECTED)")
        case 1633: return Exit(succeeded: false, rebootRequired: false, meaning: "this platform is not supported (ERROR_INSTALL_PLATFORM_UNSUPPORTED)")
        case 1638: return Exit(succeeded: false, rebootRequired: false, meaning: "another version of the product is installed (ERROR_PRODUCT_VERSION)")
        default: return Exit(succeeded: false, rebootRequired: false, meaning: "installer exit code \(code)")
        }
    }
}
