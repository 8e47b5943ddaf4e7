/// The Windows scan: OS facts, the Windows Update Agent's pending updates, pending-reboot flags
/// and an installed-program count, printed by one PowerShell script in `@@patchctl` sections.
extension WindowsPlatform {
    /// One pending update as the Windows Update Agent describes it.
    public struct Update: Sendable, Equatable {
        public var updateID: String
        public var revision: Int
        /// `KB5072033`…; empty for drivers and some third-party catalog entries.
        public var kbArticleIDs: [String]
        /// `Critical`, `Important`, `Moderate`, `Low`, or empty (non-security updates have none).
        public var msrcSeverity: String
        /// `InstallationBehavior.RebootBehavior`: 0 never reboots, 1 always requires a reboot,
        /// 2 can request one.
        public var rebootBehavior: Int
        /// `LastDeploymentChangeTime` as `yyyy-MM-dd` (when Microsoft last published it).
        public var lastDeploymentChange: String
        public var isDownloaded: Bool
        /// Category names as Windows prints them (localised on some builds) and their ids.
        public var categories: [(name: String, id: String)]
        /// `CveIDs`: the CVEs the update fixes, as the update service lists them.
        public var cveIDs: [String] = []
        public var title: String

        public static func == (lhs: Update, rhs: Update) -> Bool {
            lhs.updateID == rhs.updateID && lhs.revision == rhs.revision && lhs.kbArticleIDs == rhs.kbArticleIDs
                && lhs.msrcSeverity == rhs.msrcSeverity && lhs.rebootBehavior == rhs.rebootBehavior
                && lhs.lastDeploymentChange == rhs.lastDeploymentChange && lhs.isDownloaded == rhs.isDownloaded
                && lhs.categories.map(\.name) == rhs.categories.map(\.name) && lhs.categories.map(\.id) == rhs.categories.map(\.id)
                && lhs.cveIDs == rhs.cveIDs && lhs.title == rhs.title
        }

        /// The WSUS "Security Updates" classification (its id is the same in every language).
        static let securityCategory = "0fa1201d-4330-4fa8-8ae9-b877473b6441"

        /// Security: classified "Security Updates", or rated by the MSRC (only security bulletins
        /// carry an MSRC severity). Definition and critical non-security updates are not.
        public var isSecurity: Bool {
            !msrcSeverity.isEmpty || categories.contains { $0.id.lowercased() == Self.securityCategory || $0.name == "Security Updates" }
        }

        /// `UPDATEID.REVISION`: what install selects and verification compares.
        public var exactVersion: String { "\(updateID).\(revision)" }
    }

    /// The scan's `os` section alone (`discover --login`): what `facts(fromScanOutput:)` reads.
    public static var factsScriptPowerShell: String {
        """
        \(preamble)
        S os
        $o=Get-CimInstance Win32_OperatingSystem
        "Caption`t$($o.Caption)";"Version`t$($o.Version)";"BuildNumber`t$($o.BuildNumber)";"Architecture`t$($o.OSArchitecture)"
        """
    }

    /// Facts, updates, reboot flags and installed-program count, in sections:
    /// `os` (`Key<TAB>value` lines), `wua` (one `update<TAB>…` line per update), then
    /// `wua-result` (the search's OperationResultCode) or `wua-error` (`0xHRESULT` and the message),
    /// `reboot` (one line per set flag), `installed`. Stdout is forced to UTF-8 so localised titles
    /// survive; `$ProgressPreference` off so no progress records reach the stream.
    ///
    /// `refresh` has no effect: the agent's online search always asks the update service (Windows
    /// Update, Microsoft Update or the WSUS server policy names), which is the refresh.
    ///
    /// `thirdParty`: also list Chocolatey and winget upgrades (`ThirdPartyManager.windowsScanScriptPowerShell`);
    /// `parseScan` merges them into the findings with `source` `choco` / `winget`.
    public static func scanScriptPowerShell(refresh: Bool = false, thirdParty: Bool = false) -> String {
        """
        \(preamble)
        S os
        $o=Get-CimInstance Win32_OperatingSystem
        "Caption`t$($o.Caption)";"Version`t$($o.Version)";"BuildNumber`t$($o.BuildNumber)";"Architecture`t$($o.OSArchitecture)"
        S wua
        try{
        $s=New-Object -ComObject Microsoft.Update.Session;$s.ClientApplicationID='patchctl'
        $r=$s.CreateUpdateSearcher().Search("IsInstalled=0 and Type='Software' and IsHidden=0")
        foreach($u in $r.Updates){
        $k=($u.KBArticleIDs|%{"KB$_"}) -join ','
        $c=($u.Categories|%{"$($_.Name)|$($_.CategoryID)"}) -join ';'
        $d='';if($u.LastDeploymentChangeTime){$d=$u.LastDeploymentChangeTime.ToString('yyyy-MM-dd')}
        $v=($u.CveIDs|%{"$_"}) -join ','
        "update`t$($u.Identity.UpdateID)`t$($u.Identity.RevisionNumber)`t$k`t$($u.MsrcSeverity)`t$($u.InstallationBehavior.RebootBehavior)`t$d`t$($u.IsDownloaded)`t$($c -replace '\\s+',' ')`t$($v -replace '\\s+','')`t$($u.Title -replace '\\s+',' ')"}
        S wua-result;"$($r.ResultCode)"
        }catch{S wua-error;'0x{0:X8}' -f $_.Exception.HResult;$_.Exception.Message -replace '\\s+',' '}
        \(rebootFlagsScript)
        S installed
        @(Get-ChildItem 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall','HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall' -EA 0).Count
        \(thirdParty ? ThirdPartyManager.windowsScanScriptPowerShell : "")
        """
    }

    /// Common start of every script: stop on errors, UTF-8 output without BOM, no progress
    /// records, and `S NAME` to print a section marker.
    static let preamble = """
        $ErrorActionPreference='Stop';$ProgressPreference='SilentlyContinue'
        try{[Console]::OutputEncoding=New-Object Text.UTF8Encoding $false}catch{}
        function S($n){"\(Sections.marker) $n"}
        """

    /// The three pending-reboot flags: Windows Update's `RebootRequired` key, Component Based
    /// Servicing's `RebootPending` key, and Session Manager's `PendingFileRenameOperations` value
    /// (files replaced at next boot; also set by non-update installers, so the noisiest flag).
    static let rebootFlagsScript = """
        S reboot
        if(Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired'){'WindowsUpdate\\RebootRequired'}
        if(Test-Path 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending'){'CBS\\RebootPending'}
        if((Get-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' -EA 0).PendingFileRenameOperations){'SessionManager\\PendingFileRenameOperations'}
        """

    /// Reads one `update<TAB>…` line: 11 fields, the title last (it has no tabs), the CVE ids
    /// before it; a 10-field line (a script from before CVE ids) has none.
    static func parseUpdateLine(_ line: Substring) throws -> Update {
        var fields = line.split(separator: "\t", maxSplits: 10, omittingEmptySubsequences: false).map(String.init)
        if fields.count == 10 { fields.insert("", at: 9) }
        guard fields.count == 11, fields[0] == "update", let revision = Int(fields[2]) else {
            throw ParseFailure("unexpected Windows Update line: \(String(line.prefix(200)))")
        }
        let categories = fields[8].split(separator: ";").map { entry -> (name: String, id: String) in
            let parts = entry.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
            return (parts[0].trimmed, parts.count > 1 ? parts[1].trimmed.lowercased() : "")
        }
        return Update(updateID: fields[1].lowercased(), revision: revision,
                      kbArticleIDs: fields[3].split(separator: ",").map { $0.trimmed }.filter { !$0.isEmpty },
                      msrcSeverity: fields[4].trimmed, rebootBehavior: Int(fields[5]) ?? 0, lastDeploymentChange: fields[6],
                      isDownloaded: fields[7].lowercased() == "true", categories: categories,
                      // Only well-formed ids, at most 1 000 (a cumulative update lists about a hundred).
                      cveIDs: Array(fields[9].split(separator: ",").map { $0.trimmed }.filter(RhelPlatform.isCVEId).prefix(1000)),
                      title: fields[10].trimmed)
    }

    /// The `wua` section's updates. A `wua-error` section (the search threw) fails with the
    /// HRESULT, its name where known, and the message.
    public static func parseUpdates(_ sections: [String: String]) throws -> [Update] {
        if let error = sections["wua-error"] {
            let lines = error.split(separator: "\n").map { $0.trimmed }
            let code = lines.first ?? "?"
            let message = lines.dropFirst().joined(separator: " ")
            let name = hresultName(code).map { " (\($0))" } ?? ""
            throw ParseFailure("Windows Update search failed: \(code)\(name): \(message)")
        }
        guard let wua = sections["wua"] else { throw ParseFailure("scan output lacks the Windows Update section") }
        if let result = sections["wua-result"]?.trimmed, result != "2", result != "3" {
            throw ParseFailure("Windows Update search ended with result code \(result) (\(operationResult(result)))")
        }
        return try wua.split(separator: "\n").filter { $0.hasPrefix("update\t") }.map(parseUpdateLine)
    }

    /// Findings: named by KB (`KB5072033`; with `#` and the first 8 hex of the UpdateID when two
    /// pending updates share a KB, as Defender's platform updates for two channels do), or by title
    /// when there is no KB; versioned `UPDATEID.REVISION`; `source` `windows-update: TITLE`;
    /// severity the MSRC rating; `cves` its CVE ids, each rated with the update's MSRC severity.
    public static func findings(_ updates: [Update]) -> [PendingUpdate] {
        var kbCount: [String: Int] = [:]
        for update in updates { if let kb = update.kbArticleIDs.first { kbCount[kb, default: 0] += 1 } }
        return updates.map { update in
            let name = findingName(update, shared: update.kbArticleIDs.first.map { kbCount[$0, default: 0] > 1 } ?? false)
            let rating = update.msrcSeverity.isEmpty ? nil : update.msrcSeverity
            let cves = update.cveIDs.map { id in
                CVEReference(id: id, severity: rating.flatMap(Severity.init(text:)) ?? .unknown, vendorSeverity: rating, source: "msrc")
            }
            return PendingUpdate(name: name, installedVersion: "", availableVersion: update.exactVersion, source: "windows-update: " + update.title,
                                 security: update.isSecurity, severity: rating?.lowercased(), cves: cves)
        }
    }

    static func findingName(_ update: Update, shared: Bool) -> String {
        guard let kb = update.kbArticleIDs.first else { return update.title }
        return shared ? "\(kb)#\(update.updateID.prefix(8))" : kb
    }

    /// `reboot` section: one line per flag that is set.
    static func parseRebootFlags(_ text: String) -> [String] {
        text.split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty }
    }

    /// OperationResultCode names (WUA `OperationResultCode` enumeration).
    static func operationResult(_ code: String) -> String {
        switch code {
        case "0": "not started"
        case "1": "in progress"
        case "2": "succeeded"
        case "3": "succeeded with errors"
        case "4": "failed"
        case "5": "aborted"
        default: "unknown"
        }
    }

    /// Names of the HRESULTs Windows Update reports most (from Microsoft's Windows Update error
    /// code reference), for messages; others print as the bare code.
    static func hresultName(_ code: String) -> String? {
        switch code.uppercased().replacingOccurrences(of: "0X", with: "0x") {
        case "0x80070005": "E_ACCESSDENIED: the update API refuses this session (run it as SYSTEM)"
        case "0x80070422": "ERROR_SERVICE_DISABLED: the Windows Update service is disabled"
        case "0x8024402C": "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED: the update server's name does not resolve (proxy or DNS)"
        case "0x80072EE2": "ERROR_INTERNET_TIMEOUT: the update server did not answer in time"
        case "0x80072EFD": "ERROR_INTERNET_CANNOT_CONNECT: no connection to the update server"
        case "0x8024401C": "WU_E_PT_HTTP_STATUS_REQUEST_TIMEOUT: the update server timed out"
        case "0x80244022": "WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL: the update server answered 503"
        case "0x80244017": "WU_E_PT_HTTP_STATUS_DENIED: the update server refused the request (401)"
        case "0x80244019": "WU_E_PT_HTTP_STATUS_NOT_FOUND: the update server answered 404 (WSUS URL?)"
        case "0x8024001E": "WU_E_SERVICE_STOP: the Windows Update service stopped during the operation"
        case "0x8024000B": "WU_E_CALL_CANCELLED: the operation was cancelled"
        case "0x80240016": "WU_E_INSTALL_NOT_ALLOWED: another installation is in progress, or a reboot is pending"
        case "0x80240022": "WU_E_ALL_UPDATES_FAILED: every update failed"
        case "0x80240017": "WU_E_NOT_APPLICABLE: the update does not apply to this computer"
        case "0x80240438": "WU_E_PT_ENDPOINT_UNREACHABLE: no route to the update service"
        case "0x8024200B": "WU_E_UH_INSTALLERFAILURE: the update's installer failed"
        case "0x8024A000": "WU_E_AU_NOSERVICE: Automatic Updates could not service the request"
        default: nil
        }
    }
}
