/// Installing Windows updates: the Windows Update Agent's download+install runs as a one-shot
/// scheduled task under SYSTEM, because the update API refuses remote (SSH/WinRM) sessions with
/// E_ACCESSDENIED (0x80070005) on many Windows versions, as mature tools found.
extension WindowsPlatform {
    /// What the install task reported.
    public struct InstallResult: Sendable, Equatable {
        /// One update's outcome (`IInstallationResult.GetUpdateResult`).
        public struct UpdateResult: Sendable, Equatable {
            public var updateID: String
            /// OperationResultCode: 2 succeeded, 3 succeeded with errors, 4 failed, 5 aborted.
            public var resultCode: Int
            public var hresult: String
            public var rebootRequired: Bool
            public var succeeded: Bool { resultCode == 2 || resultCode == 3 }
        }

        /// The whole installation's OperationResultCode, HRESULT and reboot flag (nil when the task
        /// never got as far as installing).
        public var resultCode: Int?
        public var hresult: String?
        public var rebootRequired: Bool
        public var updates: [UpdateResult]
        /// UpdateIDs that were asked for but are no longer pending (installed meanwhile, superseded,
        /// or hidden).
        public var missing: [String]
        /// `0xHRESULT: message` when the task's script threw.
        public var error: String?
        /// The task did not finish within the poll limit; it may still be running.
        public var timedOut: Bool

        public var succeeded: Bool {
            error == nil && !timedOut && (resultCode == nil ? updates.isEmpty : resultCode == 2 || resultCode == 3)
                && updates.allSatisfy(\.succeeded)
        }
    }

    /// The script the SYSTEM task runs. It reads the wanted UpdateIDs from `ids.txt` in its
    /// folder (given as its only argument), searches, accepts EULAs, downloads, installs, and
    /// writes `result.txt` (tab-separated lines), then `done`:
    /// `install RESULTCODE HRESULT REBOOTREQUIRED`, one `update ID RESULTCODE HRESULT REBOOTREQUIRED`
    /// per update, `missing ID` for each ID not found pending, or `error HRESULT MESSAGE`.
    static let taskScript = """
        param($d)
        $ErrorActionPreference='Stop';$o=@()
        try{
        $w=@(Get-Content "$d\\ids.txt")
        $s=New-Object -ComObject Microsoft.Update.Session;$s.ClientApplicationID='patchctl'
        $r=$s.CreateUpdateSearcher().Search("IsInstalled=0 and Type='Software' and IsHidden=0")
        $c=New-Object -ComObject Microsoft.Update.UpdateColl;$f=@()
        foreach($u in $r.Updates){if($w -contains $u.Identity.UpdateID){if(-not $u.EulaAccepted){$u.AcceptEula()};[void]$c.Add($u);$f+=$u.Identity.UpdateID}}
        foreach($i in $w){if($f -notcontains $i){$o+="missing`t$i"}}
        if($c.Count -gt 0){
        $l=$s.CreateUpdateDownloader();$l.Updates=$c;[void]$l.Download()
        $n=$s.CreateUpdateInstaller();$n.Updates=$c;$x=$n.Install()
        $o+="install`t$($x.ResultCode)`t$('0x{0:X8}' -f $x.HResult)`t$($x.RebootRequired)"
        for($i=0;$i -lt $c.Count;$i++){$e=$x.GetUpdateResult($i);$o+="update`t$($c.Item($i).Identity.UpdateID)`t$($e.ResultCode)`t$('0x{0:X8}' -f $e.HResult)`t$($e.RebootRequired)"}}
        }catch{$o+="error`t$('0x{0:X8}' -f $_.Exception.HResult)`t$($_.Exception.Message -replace '\\s+',' ')"}
        finally{$o|Set-Content "$d\\result.txt" -Encoding UTF8;New-Item "$d\\done" -ItemType File|Out-Null}
        """

    /// Registers, starts and polls a one-shot SYSTEM task that installs exactly these updates (by
    /// UpdateID; `availableVersion` is `UPDATEID.REVISION`), prints the task's result lines in a
    /// `result` section, removes the task and its folder, and sets `$wu` to 0 only when every
    /// update installed (the caller appends `exit $wu`). Polling stops after `timeoutSeconds`; the task and its folder are then left in
    /// place (removing a running task could stop the installation half-way) and the output says
    /// `timeout`. Never reboots: that is the reboot policy's decision.
    public static func installScriptPowerShell(updateIDs: [String], timeoutSeconds: Int = 7200) -> String {
        let ids = updateIDs.map { PowerShell.quote($0) }.joined(separator: ",")
        return """
            \(preamble)
            $n='patchctl-'+[guid]::NewGuid().ToString('N');$d="$env:SystemRoot\\Temp\\$n"
            New-Item $d -ItemType Directory|Out-Null
            @(\(ids))|Set-Content "$d\\ids.txt"
            @'
            \(taskScript)
            '@|Set-Content "$d\\run.ps1" -Encoding UTF8
            try{
            $a=New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -File `"$d\\run.ps1`" `"$d`""
            $p=New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
            Register-ScheduledTask -TaskName $n -Action $a -Principal $p -Force|Out-Null
            Start-ScheduledTask -TaskName $n
            $t=(Get-Date).AddSeconds(\(timeoutSeconds))
            while(-not(Test-Path "$d\\done") -and (Get-Date) -lt $t){Start-Sleep 5}
            $k=@('timeout');if(Test-Path "$d\\done"){$k=@(Get-Content "$d\\result.txt")}
            S result;$k
            }finally{
            if(Test-Path "$d\\done"){Unregister-ScheduledTask -TaskName $n -Confirm:$false -EA 0;Remove-Item $d -Recurse -Force -EA 0}}
            $wu=1;if(($k|?{$_ -like 'install*'}) -and -not($k|?{$_ -match '^(error|timeout|update\\t\\S+\\t[^23]\\t)'})){$wu=0}
            """
    }

    /// Reads the `result` section (or the bare result lines).
    public static func parseInstallResult(_ output: String) -> InstallResult {
        let text = PowerShell.normalizedLines(output)
        let body = Sections.split(text)["result"] ?? text
        var result = InstallResult(resultCode: nil, hresult: nil, rebootRequired: false, updates: [], missing: [], error: nil, timedOut: false)
        for line in body.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmed }
            switch fields.first {
            case "install" where fields.count >= 4:
                result.resultCode = Int(fields[1])
                result.hresult = fields[2]
                result.rebootRequired = fields[3].lowercased() == "true"
            case "update" where fields.count >= 5:
                result.updates.append(.init(updateID: fields[1].lowercased(), resultCode: Int(fields[2]) ?? -1, hresult: fields[3],
                                            rebootRequired: fields[4].lowercased() == "true"))
            case "missing" where fields.count >= 2:
                result.missing.append(fields[1].lowercased())
            case "error" where fields.count >= 2:
                let name = hresultName(fields[1]).map { " (\($0))" } ?? ""
                result.error = "\(fields[1])\(name): \(fields.dropFirst(2).joined(separator: " "))"
            case "timeout":
                result.timedOut = true
            default:
                continue
            }
        }
        return result
    }

    /// Splits updates into groups whose install commands each fit cmd.exe's 8191-character limit
    /// (each UpdateID adds about 110 characters once encoded). For the engine when one
    /// `installCommand` would be longer than `PowerShell.cmdLineLimit`: install the groups one
    /// after another.
    public static func installBatches(_ updates: [PendingUpdate], timeoutSeconds: Int = 7200) -> [[PendingUpdate]] {
        var batches: [[PendingUpdate]] = []
        var current: [PendingUpdate] = []
        for update in updates {
            let candidate = current + [update]
            let command = PowerShell.encodedCommand(installScriptPowerShell(updateIDs: candidate.map(updateID), timeoutSeconds: timeoutSeconds) + "\nexit $wu")
            if command.count > PowerShell.cmdLineLimit, !current.isEmpty {
                batches.append(current)
                current = [update]
            } else {
                current = candidate
            }
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// The UpdateID part of a finding's `UPDATEID.REVISION` version.
    static func updateID(_ update: PendingUpdate) -> String {
        let version = update.availableVersion
        guard let dot = version.lastIndex(of: "."), Int(version[version.index(after: dot)...]) != nil else { return version }
        return String(version[..<dot])
    }
}
