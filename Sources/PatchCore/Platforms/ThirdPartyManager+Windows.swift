import Foundation

/// Chocolatey and winget on Windows.
extension ThirdPartyManager {
    /// `choco outdated -r` (`--limit-output`): `name|current|available|pinned` per line. Pinned
    /// packages (`choco pin`) are left out, as `choco upgrade` skips them; so are lines whose
    /// available version equals the current one (older Chocolatey lists those too). Any other line
    /// (banners, warnings) is ignored.
    public static func parseChocoOutdated(_ text: String) -> [PendingUpdate] {
        PowerShell.normalizedLines(text).split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmed }
            guard fields.count == 4, !fields[0].isEmpty, fields[3] == "true" || fields[3] == "false" else { return nil }
            guard fields[3] == "false", fields[1] != fields[2] else { return nil }
            return PendingUpdate(name: fields[0], installedVersion: fields[1], availableVersion: fields[2], source: ThirdPartyManager.choco.source, security: false)
        }
    }

    /// Messages winget prints instead of a table when nothing is upgradable (English; other
    /// languages fall through to "no table": an empty result only when the output is empty).
    static let wingetNothingMessages = ["No installed package found matching input criteria", "No applicable update found",
                                        "No available upgrade found", "No applicable upgrade found"]

    /// `winget upgrade`'s table. It is meant for people, so it is read defensively:
    /// - The header's words are translated, so they are never compared: the table starts after
    ///   the line of dashes, and ends at the first empty line.
    /// - Columns are padded to the widest entry, so a row is read from the right: source,
    ///   available, version (`< 1.2` and `> 1.2` ranges are two tokens), id; the name is the rest.
    ///   A line whose last token does not start (within 2 columns of display width) where the
    ///   header's last word starts is not a row (footers like "6 upgrades available.").
    /// - Before winget 1.29 a redirected table was cut to 120 columns, ending cut names and ids
    ///   in `…`. A cut id is completed from `winget export` (`exportJSON`) when exactly one
    ///   exported PackageIdentifier starts with it; otherwise the finding keeps the cut id
    ///   (installing it will then fail visibly rather than upgrade the wrong package).
    /// - Spinner frames overwritten with `\r` are dropped; `Unknown` installed versions become "".
    /// Rows listed twice (the same id installed twice) are reported once.
    public static func parseWingetUpgrade(_ text: String, exportJSON: String? = nil) throws -> [PendingUpdate] {
        // By scalars: Swift holds "\r\n" as one Character, which a split on "\n" would not see.
        let lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { raw -> String in
            var line = raw
            if line.last == "\r" { line.removeLast() }
            if let lastCR = line.lastIndex(of: "\r") { line = line[line.index(after: lastCR)...] }
            return String(String.UnicodeScalarView(line))
        }
        guard let separator = lines.firstIndex(where: { $0.trimmed.count >= 10 && $0.trimmed.allSatisfy { $0 == "-" } }) else {
            let meaningful = lines.map { $0.trimmed }.filter { !$0.isEmpty }
            if meaningful.isEmpty || meaningful.contains(where: { line in wingetNothingMessages.contains { line.hasPrefix($0) } }) { return [] }
            throw ParseFailure("winget upgrade printed no table: \(meaningful.suffix(2).joined(separator: " "))")
        }
        let header = separator > 0 ? lines[separator - 1] : ""
        let sourceColumn = wordStarts(header).last
        let exported = exportJSON.map(parseWingetExport) ?? []
        var seen = Set<String>()
        var updates: [PendingUpdate] = []
        for line in lines[(separator + 1)...] {
            if line.trimmed.isEmpty { break }
            var tokens = line.split(separator: " ").map(String.init)
            guard tokens.count >= 5, let lastStart = wordStarts(line).last else { continue }
            if let sourceColumn, abs(lastStart - sourceColumn) > 2 { continue }
            tokens.removeLast()  // source
            let available = tokens.removeLast()
            var version = tokens.removeLast()
            if let range = tokens.last, range == "<" || range == ">" {
                version = tokens.removeLast() + " " + version
            }
            guard !tokens.isEmpty else { continue }
            var id = tokens.removeLast()
            if id.hasSuffix("\u{2026}") {
                let prefix = String(id.dropLast())
                let candidates = exported.filter { $0.hasPrefix(prefix) }
                if candidates.count == 1 { id = candidates[0] }
            }
            guard seen.insert(id).inserted else { continue }
            updates.append(PendingUpdate(name: id, installedVersion: version == "Unknown" ? "" : version, availableVersion: available,
                                         source: ThirdPartyManager.winget.source, security: false))
        }
        return updates
    }

    /// PackageIdentifiers from `winget export` JSON (schema 2.0: `Sources[].Packages[].PackageIdentifier`).
    public static func parseWingetExport(_ json: String) -> [String] {
        guard let data = json.trimmed.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return (object["Sources"] as? [[String: Any]] ?? []).flatMap { source in
            (source["Packages"] as? [[String: Any]] ?? []).compactMap { $0["PackageIdentifier"] as? String }
        }
    }

    /// PackageIdentifier → Version from `winget export --include-versions` JSON.
    public static func parseWingetExportVersions(_ json: String) -> [String: String] {
        guard let data = json.trimmed.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        var versions: [String: String] = [:]
        for source in object["Sources"] as? [[String: Any]] ?? [] {
            for package in source["Packages"] as? [[String: Any]] ?? [] {
                if let id = package["PackageIdentifier"] as? String, let version = package["Version"] as? String { versions[id] = version }
            }
        }
        return versions
    }

    /// Display-width positions where words start: East Asian wide characters and emoji take two
    /// columns in winget's (and a console's) layout.
    static func wordStarts(_ line: String) -> [Int] {
        var starts: [Int] = []
        var column = 0
        var previousWasSpace = true
        for character in line {
            let isSpace = character == " "
            if !isSpace && previousWasSpace { starts.append(column) }
            previousWasSpace = isSpace
            column += displayWidth(character)
        }
        return starts
    }

    static func displayWidth(_ character: Character) -> Int {
        guard let scalar = character.unicodeScalars.first?.value else { return 1 }
        switch scalar {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1FAFF, 0x20000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }

    /// The Windows part of a third-party scan, as PowerShell for `WindowsPlatform`'s scan script:
    /// sections `choco` + `choco-exit`, `winget` + `winget-exit` + `winget-export`, each only when
    /// the tool exists. winget is an App Execution Alias that is often not on PATH in SSH or
    /// SYSTEM sessions, so it is also looked for in the App Installer package folder.
    public static let windowsScanScriptPowerShell = """
        if(Get-Command choco.exe -EA 0){S choco;choco.exe outdated -r --no-color 2>&1|%{"$_"};S choco-exit;"$LASTEXITCODE"}
        $g=(Get-Command winget.exe -EA 0).Source;if(-not $g){$g=(Resolve-Path "$env:ProgramFiles\\WindowsApps\\Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe\\winget.exe" -EA 0|Select-Object -Last 1).Path}
        if($g){S winget;& $g upgrade --accept-source-agreements --disable-interactivity 2>&1|%{"$_"};S winget-exit;"$LASTEXITCODE"
        $f="$env:TEMP\\patchctl-winget-$PID.json";& $g export -o $f --include-versions --accept-source-agreements --disable-interactivity *>$null
        S winget-export;if(Test-Path $f){Get-Content $f -Raw;Remove-Item $f -EA 0}}
        """

    /// Findings from the Windows third-party sections (none when neither tool exists). Chocolatey
    /// exits 2 when it found outdated packages (with enhanced exit codes on) and 0 when not; any
    /// other exit fails. winget's own failures show as "no table".
    public static func parseWindowsSections(_ sections: [String: String]) throws -> [PendingUpdate] {
        var updates: [PendingUpdate] = []
        if let choco = sections["choco"] {
            let exit = sections["choco-exit"]?.trimmed ?? "0"
            guard exit == "0" || exit == "2" else {
                throw ParseFailure("choco outdated exited \(exit): \(SusePlatform.lastLine(PowerShell.normalizedLines(choco)))")
            }
            updates += parseChocoOutdated(choco)
        }
        if let winget = sections["winget"] {
            updates += try parseWingetUpgrade(winget, exportJSON: sections["winget-export"])
        }
        return updates
    }

    /// PowerShell that upgrades winget and Chocolatey findings to exactly their listed versions
    /// (`winget upgrade --id ID --exact --version V`, `choco upgrade NAME --version V`), one after
    /// another, printing `ok NAME EXIT` or `failed NAME EXIT` per package and leaving `$bad` 1 if
    /// any failed (the caller exits with it).
    public static func windowsInstallScriptPowerShell(_ updates: [PendingUpdate]) -> String {
        var lines = ["$ProgressPreference='SilentlyContinue';$bad=0",
                     // 3010/1641: installed, reboot required/started (the reboot policy decides about it).
                     "function R($n,$c){if(@(0,3010,1641) -contains $c){\"ok`t$n`t$c\"}else{\"failed`t$n`t$c\";$script:bad=1}}"]
        let winget = updates.filter { $0.source == ThirdPartyManager.winget.source }
        if !winget.isEmpty {
            lines.append("$g=(Get-Command winget.exe -EA 0).Source;if(-not $g){$g=(Resolve-Path \"$env:ProgramFiles\\WindowsApps\\Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe\\winget.exe\" -EA 0|Select-Object -Last 1).Path}")
            for update in winget {
                lines.append("& $g upgrade --id \(PowerShell.quote(update.name)) --exact --version \(PowerShell.quote(update.availableVersion)) --silent --accept-package-agreements --accept-source-agreements --disable-interactivity;R \(PowerShell.quote(update.name)) $LASTEXITCODE")
            }
        }
        for update in updates where update.source == ThirdPartyManager.choco.source {
            lines.append("choco.exe upgrade \(PowerShell.quote(update.name)) --version \(PowerShell.quote(update.availableVersion)) -y --no-progress --limit-output;R \(PowerShell.quote(update.name)) $LASTEXITCODE")
        }
        return lines.joined(separator: "\n")
    }
}
