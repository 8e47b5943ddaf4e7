import Foundation

/// Homebrew: `brew outdated --json=v2`, run as the user who owns the Homebrew prefix.
extension ThirdPartyManager {
    /// Parses `brew outdated --json=v2` (`{"formulae": [...], "casks": [...]}`). Formulae become
    /// `brew` findings, casks `brew-cask`. Pinned formulae are left out: their owner held them and
    /// `brew upgrade` refuses them. `installed_versions` is an array in current Homebrew and was a
    /// comma-separated string for casks in older releases; the last (newest) entry is the installed
    /// version. Entries whose installed version already equals the current one (`latest` casks
    /// listed by `--greedy`) are not updates. Empty output (brew printed nothing) is no update.
    public static func parseBrewOutdated(_ json: String) throws -> [PendingUpdate] {
        let trimmed = json.trimmed
        guard !trimmed.isEmpty else { return [] }
        guard let data = trimmed.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ParseFailure("brew outdated --json=v2 printed no JSON object: \(String(trimmed.prefix(200)))")
        }
        var updates: [PendingUpdate] = []
        for (key, manager) in [("formulae", ThirdPartyManager.brew), ("casks", .brewCask)] {
            for entry in object[key] as? [[String: Any]] ?? [] {
                guard let name = entry["name"] as? String, let current = entry["current_version"] as? String else { continue }
                if entry["pinned"] as? Bool == true { continue }
                let installed: String
                if let list = entry["installed_versions"] as? [String] {
                    installed = list.last ?? ""
                } else if let text = entry["installed_versions"] as? String {
                    installed = text.components(separatedBy: ", ").last ?? text
                } else {
                    installed = ""
                }
                guard installed != current else { continue }
                updates.append(PendingUpdate(name: name, installedVersion: installed, availableVersion: current,
                                             source: manager.source, security: false))
            }
        }
        return updates
    }

    /// POSIX sh that finds Homebrew and sets `b` (the brew executable) and `r` (the prefix that
    /// runs a command as the prefix's owner: `sudo -u OWNER -H` when running as root, since brew
    /// refuses to run as root and must not leave root-owned files in the owner's prefix).
    static let brewLocator = [
        "b=''; for c in /opt/homebrew/bin/brew /usr/local/bin/brew /home/linuxbrew/.linuxbrew/bin/brew; do if [ -x \"$c\" ]; then b=$c; break; fi; done",
        "o=''; r=''; if [ -n \"$b\" ]; then o=$(stat -L -f %Su \"$b\" 2>/dev/null || stat -L -c %U \"$b\" 2>/dev/null); if [ \"$(id -u)\" = 0 ] && [ -n \"$o\" ] && [ \"$o\" != root ]; then r=\"sudo -u $o -H\"; fi; fi",
    ].joined(separator: "\n")

    /// Environment for every brew call: no implicit `brew update` (slow, and a scan must not change
    /// anything), no analytics, no hints in the output.
    static let brewEnvironment = "env HOMEBREW_NO_AUTO_UPDATE=1 HOMEBREW_NO_ANALYTICS=1 HOMEBREW_NO_ENV_HINTS=1 HOMEBREW_NO_COLOR=1"

    /// The Homebrew part of a scan, in sections: `brew` (the JSON), `brew-exit`, `brew-stderr`,
    /// `brew-owner`. Prints nothing when Homebrew is absent. `refresh` runs `brew update` first.
    public static func brewScanSection(refresh: Bool, greedyCasks: Bool = false) -> String {
        var lines = [brewLocator, "if [ -n \"$b\" ]; then"]
        if refresh {
            lines.append("  $r \(brewEnvironment) \"$b\" update --quiet >/dev/null 2>&1")
        }
        lines += [
            "  e=$(mktemp 2>/dev/null || echo /tmp/patchctl-brew.$$)",
            "  echo '\(Sections.marker) brew'",
            "  $r \(brewEnvironment) \"$b\" outdated --json=v2\(greedyCasks ? " --greedy" : "") 2>\"$e\"",
            "  rc=$?",
            "  echo '\(Sections.marker) brew-exit'; echo $rc",
            "  echo '\(Sections.marker) brew-stderr'; cat \"$e\"; rm -f \"$e\"",
            "  echo '\(Sections.marker) brew-owner'; echo \"$o\"",
            "fi",
        ]
        return lines.joined(separator: "\n")
    }

    /// Findings from the Homebrew sections of a scan (none when Homebrew is absent). A failing
    /// `brew outdated` throws with its stderr rather than reporting "nothing outdated".
    public static func parseBrewSections(_ sections: [String: String]) throws -> [PendingUpdate] {
        guard let json = sections["brew"] else { return [] }
        let exit = sections["brew-exit"]?.trimmed ?? "0"
        guard exit == "0" else {
            let stderr = (sections["brew-stderr"] ?? "").split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty }
            let owner = sections["brew-owner"]?.trimmed ?? "?"
            throw ParseFailure("brew outdated (as \(owner)) exited \(exit): \(stderr.suffix(3).joined(separator: " "))")
        }
        return try parseBrewOutdated(json)
    }

    /// Upgrades the named formulae and casks as the prefix's owner. Homebrew installs the current
    /// version (it keeps no older ones to choose from), so "exact" here means: the version listed
    /// at scan time, or a newer one if the tap moved on — which the verification then reports.
    public static func brewUpgradeCommand(formulae: [String], casks: [String]) -> String {
        guard !formulae.isEmpty || !casks.isEmpty else { return "true" }
        var lines = [brewLocator, "if [ -z \"$b\" ]; then echo 'Homebrew not found' >&2; exit 127; fi", "rc=0"]
        if !formulae.isEmpty {
            lines.append("$r \(brewEnvironment) \"$b\" upgrade --formula -- " + Shell.join(formulae) + " || rc=$?")
        }
        if !casks.isEmpty {
            // --greedy: a cask that updates itself is only upgraded by brew when asked to.
            lines.append("$r \(brewEnvironment) \"$b\" upgrade --cask --greedy -- " + Shell.join(casks) + " || rc=$?")
        }
        return lines.joined(separator: "\n")
    }
}
