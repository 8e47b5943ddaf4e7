import Foundation

/// snap and flatpak on Linux, as opt-in sections the engine can append to any Linux scan.
extension ThirdPartyManager {
    /// POSIX sh printing, for each tool that exists: `snap-list`, `snap-refresh`, `snap-exit`;
    /// `flatpak-installed`, `flatpak-updates`, `flatpak-exit`. Prints nothing when neither exists,
    /// so `ScanScript.posix` runs it after every Linux family's scan (after its own sections, inside
    /// the same `out=$( … )` capture). The C locale keeps snap's headers English; flatpak is asked for
    /// explicit columns, so its layout does not depend on version or locale.
    public static let linuxScanSection = [
        "if command -v snap >/dev/null 2>&1; then",
        "  echo '\(Sections.marker) snap-list'; LC_ALL=C snap list --color=never 2>&1",
        "  echo '\(Sections.marker) snap-refresh'; LC_ALL=C snap refresh --list --color=never 2>&1; rc=$?",
        "  echo '\(Sections.marker) snap-exit'; echo $rc",
        "fi",
        "if command -v flatpak >/dev/null 2>&1; then",
        "  echo '\(Sections.marker) flatpak-installed'; LC_ALL=C flatpak list --columns=\(flatpakColumns.joined(separator: ",")) 2>&1",
        "  echo '\(Sections.marker) flatpak-updates'; LC_ALL=C flatpak remote-ls --updates --columns=\(flatpakColumns.joined(separator: ",")) 2>&1; rc=$?",
        "  echo '\(Sections.marker) flatpak-exit'; echo $rc",
        "fi",
    ].joined(separator: "\n")

    static let flatpakColumns = ["application", "version", "branch", "origin"]

    /// Installed versions of snap and flatpak findings, for verification after an install:
    /// sections `snap-list` and `flatpak-installed`, read by `parseLinuxInstalledVersions`.
    public static let linuxInstalledVersionsCommand = [
        "if command -v snap >/dev/null 2>&1; then echo '\(Sections.marker) snap-list'; LC_ALL=C snap list --color=never 2>/dev/null; fi",
        "if command -v flatpak >/dev/null 2>&1; then echo '\(Sections.marker) flatpak-installed'; LC_ALL=C flatpak list --columns=\(flatpakColumns.joined(separator: ",")) 2>/dev/null; fi",
        "true",
    ].joined(separator: "\n")

    /// Snap name → version and `APPLICATION//BRANCH` → version.
    public static func parseLinuxInstalledVersions(_ output: String) -> [String: String] {
        let sections = Sections.split(output)
        var versions: [String: String] = [:]
        for row in snapRows(sections["snap-list"] ?? "") { versions[row[0]] = row[1] }
        for row in parseFlatpakColumns(sections["flatpak-installed"] ?? "", columns: flatpakColumns) {
            if let app = row["application"], let branch = row["branch"] { versions["\(app)//\(branch)"] = row["version"] ?? "" }
        }
        return versions
    }

    /// Findings from the Linux third-party sections of a scan output (none when absent).
    public static func parseLinuxSections(_ sections: [String: String]) throws -> [PendingUpdate] {
        var updates: [PendingUpdate] = []
        if let refresh = sections["snap-refresh"] {
            let exit = sections["snap-exit"]?.trimmed ?? "0"
            guard exit == "0" else { throw ParseFailure("snap refresh --list exited \(exit): \(SusePlatform.lastLine(refresh))") }
            updates += parseSnapRefreshList(refresh, installed: sections["snap-list"] ?? "")
        }
        if let flatpak = sections["flatpak-updates"] {
            let exit = sections["flatpak-exit"]?.trimmed ?? "0"
            guard exit == "0" else { throw ParseFailure("flatpak remote-ls --updates exited \(exit): \(SusePlatform.lastLine(flatpak))") }
            updates += parseFlatpakUpdates(flatpak, installed: sections["flatpak-installed"] ?? "")
        }
        return updates
    }

    /// The same, from a whole scan output.
    public static func linuxFindings(fromScanOutput output: String) throws -> [PendingUpdate] {
        try parseLinuxSections(Sections.split(output))
    }

    /// `snap refresh --list` (`Name Version Rev [Size] Publisher Notes`) joined with `snap list`
    /// (`Name Version Rev Tracking Publisher Notes`) for the installed version. The first line of
    /// each is the header (translated when not run in the C locale, so it is skipped by position,
    /// never matched by text); "All snaps up to date." has too few columns to be a row.
    public static func parseSnapRefreshList(_ text: String, installed: String) -> [PendingUpdate] {
        let installedVersions = Dictionary(snapRows(installed).map { ($0[0], $0[1]) }, uniquingKeysWith: { first, _ in first })
        return snapRows(text).map { row in
            PendingUpdate(name: row[0], installedVersion: installedVersions[row[0]] ?? "", availableVersion: row[1],
                          source: ThirdPartyManager.snap.source, security: false)
        }
    }

    static func snapRows(_ text: String) -> [[String]] {
        let rows = text.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter { $0.count >= 4 }
        return Array(rows.dropFirst())
    }

    /// `flatpak remote-ls --updates --columns=application,version,branch,origin` joined with
    /// `flatpak list` (same columns) for the installed version. Findings are named by flatpak's ref
    /// shorthand `APPLICATION//BRANCH`, which `flatpak update` takes and which keeps two branches of
    /// one runtime apart.
    public static func parseFlatpakUpdates(_ text: String, installed: String) -> [PendingUpdate] {
        let current = Dictionary(parseFlatpakColumns(installed, columns: flatpakColumns).compactMap { row -> (String, String)? in
            guard let app = row["application"], let branch = row["branch"] else { return nil }
            return ("\(app)//\(branch)", row["version"] ?? "")
        }, uniquingKeysWith: { first, _ in first })
        return parseFlatpakColumns(text, columns: flatpakColumns).compactMap { row in
            guard let app = row["application"], let branch = row["branch"] else { return nil }
            let ref = "\(app)//\(branch)"
            return PendingUpdate(name: ref, installedVersion: current[ref] ?? "", availableVersion: row["version"] ?? "",
                                 source: ThirdPartyManager.flatpak.source, security: false)
        }
    }

    /// Rows of a flatpak table with known columns. Piped, flatpak separates columns with tabs and
    /// prints no header; on a terminal (or as shown in documentation) columns are padded with
    /// spaces, so two or more spaces also separate. Cells keep their inner single spaces ("GNOME
    /// Dictionary", a size such as "1,2 GB" in a comma-decimal locale). A header row (its first
    /// cell "Application ID", "Application" or "Name") and lines with the wrong cell count are skipped.
    public static func parseFlatpakColumns(_ text: String, columns: [String]) -> [[String: String]] {
        text.split(separator: "\n").compactMap { line in
            var cells: [String]
            if line.contains("\t") {
                cells = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmed }
            } else {
                cells = line.components(separatedBy: "  ").map { $0.trimmed }.filter { !$0.isEmpty }
            }
            while cells.count > columns.count, cells.last == "" { cells.removeLast() }
            guard cells.count == columns.count, !["Application ID", "Application", "Name"].contains(cells[0]) else { return nil }
            return Dictionary(uniqueKeysWithValues: zip(columns, cells))
        }
    }

    /// POSIX sh that updates snap and flatpak findings. Neither tool installs an older version on
    /// request (snap refreshes to its channel's current revision, flatpak to the remote's commit),
    /// so "exact" means the version current at install time; verification reports a difference.
    public static func linuxInstallCommand(_ updates: [PendingUpdate]) -> String {
        var lines = ["rc=0"]
        let snaps = updates.filter { $0.source == ThirdPartyManager.snap.source }.map(\.name)
        let flatpaks = updates.filter { $0.source == ThirdPartyManager.flatpak.source }.map(\.name)
        if !snaps.isEmpty { lines.append(Shell.join(["snap", "refresh", "--"] + snaps) + " || rc=$?") }
        if !flatpaks.isEmpty { lines.append(Shell.join(["flatpak", "update", "-y", "--noninteractive", "--"] + flatpaks) + " || rc=$?") }
        lines.append("exit $rc")
        return lines.joined(separator: "\n")
    }
}
