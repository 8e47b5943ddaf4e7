/// Reading a RHEL-family scan: pure functions of the recorded outputs.
extension RhelPlatform {
    /// One package as rpm lists it.
    struct InstalledPackage: Equatable {
        var name: String
        var arch: String
        var version: RPMVersion
    }

    /// One line (or wrapped group of lines) of `dnf check-update`: the newest candidate for an installed name.arch.
    struct Candidate: Equatable {
        var name: String
        var arch: String
        var version: RPMVersion
        var repo: String
    }

    /// `dnf check-update` read: the candidates, whether an "Obsoleting Packages" section followed
    /// (replacements of installed packages under another name, which are not updates of an
    /// installed name and are not reported), and lines that began a record but did not finish one.
    struct CheckUpdate: Equatable {
        var candidates: [Candidate] = []
        var obsoleting = false
        var unread: [String] = []
    }

    /// One line of `dnf updateinfo list`: an advisory and one package build it ships.
    struct Advisory: Equatable {
        var id: String
        var security: Bool
        /// `Critical`, `Important`, `Moderate`, `Low` as the vendor writes it; nil when unknown.
        var severity: String?
        var name: String
        var arch: String
        var version: RPMVersion
    }

    public func parseScan(_ output: String) throws -> ScanFindings {
        let sections = Sections.split(output)
        if let refreshExit = sections["refresh-exit"], refreshExit.trimmed != "0" {
            throw ParseFailure("metadata refresh (dnf makecache) failed (exit \(refreshExit.trimmed)): \(Self.reason(sections["refresh"] ?? ""))")
        }
        guard let checkUpdate = sections["check-update"], let exit = sections["check-update-exit"]?.trimmed else {
            throw ParseFailure("scan output lacks the check-update section")
        }
        var candidates: [Candidate] = []
        switch exit {
        case "0":
            break  // nothing pending, whatever else was printed
        case "100":
            let read = Self.parseCheckUpdate(checkUpdate)
            if let line = read.unread.first {
                throw ParseFailure("unexpected dnf check-update line: \(line)")
            }
            if read.candidates.isEmpty && !read.obsoleting {
                throw ParseFailure("dnf check-update reported updates (exit 100) but listed none: \(String(checkUpdate.suffix(300)))")
            }
            candidates = read.candidates
        default:
            throw ParseFailure("dnf check-update exited \(exit): \(Self.reason(checkUpdate))")
        }
        if let infoExit = sections["updateinfo-exit"]?.trimmed, infoExit != "0" {
            throw ParseFailure("dnf updateinfo list exited \(infoExit): \(Self.reason(sections["updateinfo"] ?? ""))")
        }
        let installed = sections["rpm"].map(Self.parseRPMList)
        // CVE ids are extra: a dnf or yum that cannot list them (exit != 0) leaves the updates without, not the scan failed.
        let cves = sections["updateinfo-cves-exit"]?.trimmed == "0" ? Self.parseUpdateInfo(sections["updateinfo-cves"] ?? "").filter { Self.isCVEId($0.id) } : []
        let updates = Self.pendingUpdates(candidates, advisories: Self.parseUpdateInfo(sections["updateinfo"] ?? ""), installed: installed ?? [], cves: cves)
        let (rebootRequired, rebootPackages) = Self.parseReboot(
            sections["reboot"] ?? "", kernels: sections["kernels"] ?? "",
            runningKernel: sections["running-kernel"]?.trimmed ?? os.kernel ?? "")
        return ScanFindings(updates: updates, installedCount: installed?.count,
                            rebootRequired: rebootRequired, rebootPackages: rebootPackages)
    }

    /// The candidates as pending updates: installed version from rpm, and the advisories that
    /// ship a build newer than the installed one and no newer than the candidate (several, when
    /// updates were skipped: the candidate carries every fix in between).
    ///
    /// `cves`: `updateinfo list --with-cve` lines (an advisory's CVE in place of its id); an update
    /// names each CVE shipped by a build in the same window, with the advisory's severity.
    static func pendingUpdates(_ candidates: [Candidate], advisories: [Advisory], installed: [InstalledPackage],
                               cves: [Advisory] = []) -> [PendingUpdate] {
        candidates.map { candidate in
            let sameName = installed.filter { $0.name == candidate.name }
            let sameArch = sameName.filter { $0.arch == candidate.arch }
            // An update may change the architecture (noarch <-> x86_64): then any installed copy is the one replaced.
            let current = (sameArch.isEmpty ? sameName : sameArch).map(\.version).max()
            let inWindow = { (advisory: Advisory) in
                advisory.name == candidate.name && advisory.arch == candidate.arch && advisory.version <= candidate.version
                    && current.map { advisory.version > $0 } ?? true
            }
            let applicable = advisories.filter(inWindow)
            let security = applicable.filter(\.security)
            // The vendor's own word of the most severe rated advisory (the normalised scale is derived from it).
            let severity = security.filter { rank($0) > 0 }.max { rank($0) < rank($1) }?.severity?.lowercased()
            // The advisory that sets the severity first, then the other security ones, then the rest.
            let ordered = security.sorted { rank($0) > rank($1) || (rank($0) == rank($1) && $0.id > $1.id) }
                + applicable.filter { !$0.security }.sorted { $0.id > $1.id }
            var seen = Set<String>()
            let ids = ordered.map(\.id).filter { seen.insert($0).inserted }
            return PendingUpdate(
                name: candidate.name, installedVersion: current?.description ?? "", availableVersion: candidate.version.description,
                source: ids.isEmpty ? candidate.repo : "\(ids.joined(separator: ", ")) (\(candidate.repo))",
                security: !security.isEmpty, architecture: candidate.arch, severity: severity, advisories: ids,
                cves: cveReferences(cves.filter(inWindow)))
        }
    }

    /// One reference per CVE: the most severe advisory's word, and the earliest build that ships the fix.
    static func cveReferences(_ lines: [Advisory]) -> [CVEReference] {
        Dictionary(grouping: lines, by: \.id).map { id, lines in
            let rated = lines.max { rank($0) < rank($1) }
            let word = rated?.severity
            return CVEReference(id: id, severity: word.flatMap(Severity.init(text:)) ?? .unknown, vendorSeverity: word,
                                fixedVersion: lines.map(\.version).min()?.description, source: "updateinfo")
        }.sorted { $0.id < $1.id }
    }

    /// `CVE-YYYY-NNNN…`, bounded: what goes into history as a CVE id.
    static func isCVEId(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return text.utf8.count <= 32 && parts.count == 3 && parts[0] == "CVE" && parts[1].count == 4
            && parts[1].allSatisfy { $0.isASCII && $0.isNumber } && parts[2].count >= 4 && parts[2].allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func rank(_ advisory: Advisory) -> Int {
        advisory.severity.flatMap(Severity.init(text:)).map { $0.rawValue + 1 } ?? 0
    }

    /// `dnf check-update` (and yum's): `NAME.ARCH  [EPOCH:]VERSION-RELEASE  REPO` per package.
    /// A column too wide for the terminal pushes the rest of the record to an indented next line
    /// (yum always wraps at 80 columns; dnf 4 only on a terminal), so a record may span up to
    /// three lines. Anything else before, between or after (plugin and mirror chatter,
    /// "Security: ..." notes about the running kernel, warnings) is not a record and is skipped;
    /// the records stop at "Obsoleting Packages".
    static func parseCheckUpdate(_ text: String) -> CheckUpdate {
        var result = CheckUpdate()
        var pending: [Substring] = []
        func giveUp() {
            if !pending.isEmpty { result.unread.append(pending.joined(separator: " ")) }
            pending = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if line.trimmed == "Obsoleting Packages" {
                giveUp()
                result.obsoleting = true
                break
            }
            guard !tokens.isEmpty else { continue }
            if line.first == " " || line.first == "\t" {
                // A continuation belongs to an unfinished record; without one it is chatter
                // (" * base: mirror...", a wrapped "Loaded plugins" line).
                guard !pending.isEmpty else { continue }
                pending += tokens
                if !isEVR(pending[1]) { giveUp() }
            } else {
                giveUp()
                guard tokens.count <= 3, splitNameArch(tokens[0]) != nil, tokens.count < 2 || isEVR(tokens[1]) else { continue }
                pending = Array(tokens)
            }
            if pending.count == 3 {
                if let (name, arch) = splitNameArch(pending[0]), let version = RPMVersion(pending[1]) {
                    result.candidates.append(Candidate(name: name, arch: arch, version: version, repo: String(pending[2])))
                }
                pending = []
            } else if pending.count > 3 {
                giveUp()
            }
        }
        giveUp()
        return result
    }

    /// `dnf updateinfo list`: `ID  LABEL  NAME-[EPOCH:]VERSION-RELEASE.ARCH`, the label being
    /// `Critical/Sec.` (any severity, `Unknown/Sec.` without one; Amazon Linux writes it in lower
    /// case), `bugfix`, `enhancement`, `newpackage`... Other lines are skipped.
    static func parseUpdateInfo(_ text: String) -> [Advisory] {
        text.split(separator: "\n").compactMap { line in
            let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard tokens.count >= 3, let (name, arch, version) = splitNEVRA(tokens[2]) else { return nil }
            let label = tokens[1].lowercased()
            let security: Bool, severity: String?
            if label.hasSuffix("/sec.") {
                security = true
                let level = String(tokens[1].dropLast("/sec.".count))
                severity = Severity(text: level) == nil ? nil : level
            } else if ["bugfix", "enhancement", "newpackage", "security", "unknown"].contains(label) {
                (security, severity) = (label == "security", nil)
            } else {
                return nil
            }
            return Advisory(id: String(tokens[0]), security: security, severity: severity, name: name, arch: arch, version: version)
        }
    }

    /// `rpm -q --qf '%{NAME}\t%{ARCH}\t%{EPOCHNUM}\t%{VERSION}\t%{RELEASE}\n'` lines; others
    /// ("package foo is not installed") are skipped.
    static func parseRPMList(_ text: String) -> [InstalledPackage] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 5, let epoch = Int(fields[2]), !fields[0].isEmpty, !fields[3].isEmpty else { return nil }
            return InstalledPackage(name: String(fields[0]), arch: String(fields[1]),
                                    version: RPMVersion(epoch: epoch, version: String(fields[3]), release: String(fields[4])))
        }
    }

    /// `needs-restarting -r` says whether a reboot is needed and why (dnf: "  * NAME" lines;
    /// yum-utils: "  NAME -> VERSION"). When it gave no answer (not installed, an unknown
    /// wording), the newest installed kernel is compared with the running one: a newer one
    /// means a reboot is pending. A running kernel that no installed package provides (a
    /// container, a custom kernel) gives no answer: no reboot is reported.
    static func parseReboot(_ text: String, kernels: String, runningKernel: String) -> (Bool, [String]) {
        if text.contains("Reboot is required") {
            var seen = Set<String>()
            let packages = text.split(separator: "\n").compactMap { line -> String? in
                guard line.first == " " else { return nil }
                let tokens = line.split(separator: " ")
                let name = tokens.first == "*" ? tokens.dropFirst().first : (tokens.count == 3 && tokens[1] == "->" ? tokens.first : nil)
                return name.map(String.init)
            }.filter { seen.insert($0).inserted }
            return (true, packages)
        }
        if text.contains("Reboot should not be necessary") || text.contains("Reboot is probably not necessary") {
            return (false, [])
        }
        let installed = parseRPMList(kernels)
        func release(_ package: InstalledPackage) -> String { "\(package.version.version)-\(package.version.release).\(package.arch)" }
        guard let running = installed.first(where: { release($0) == runningKernel }),
              let newest = installed.filter({ $0.name == running.name && $0.arch == running.arch }).max(by: { $0.version < $1.version }),
              newest.version != running.version else {
            return (false, [])
        }
        return (true, [newest.name])
    }

    /// `NAME.ARCH` split at the last dot (names may hold dots: `java-1.8.0-openjdk.x86_64`).
    static func splitNameArch(_ token: Substring) -> (String, String)? {
        guard let dot = token.lastIndex(of: "."), dot != token.startIndex else { return nil }
        let arch = token[token.index(after: dot)...]
        guard !arch.isEmpty, arch.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else { return nil }
        return (String(token[..<dot]), String(arch))
    }

    /// `[EPOCH:]VERSION-RELEASE`: neither version nor release holds a dash or a colon.
    static func isEVR(_ token: Substring) -> Bool {
        var rest = token
        if let colon = rest.firstIndex(of: ":") {
            guard Int(rest[..<colon]) != nil else { return false }
            rest = rest[rest.index(after: colon)...]
        }
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !rest.contains(":")
    }

    /// `NAME-[EPOCH:]VERSION-RELEASE.ARCH`, read from the right.
    static func splitNEVRA(_ token: Substring) -> (String, String, RPMVersion)? {
        guard let (nevr, arch) = splitNameArch(token),
              let releaseDash = nevr.lastIndex(of: "-") else { return nil }
        let head = nevr[..<releaseDash]
        guard let versionDash = head.lastIndex(of: "-"), versionDash != head.startIndex else { return nil }
        let evr = nevr[nevr.index(after: versionDash)...]
        guard isEVR(evr), let version = RPMVersion(evr) else { return nil }
        return (String(head[..<versionDash]), arch, version)
    }

    /// A one-line reason from a failed dnf run: its `Error:` lines, else its last line.
    static func reason(_ output: String) -> String {
        let lines = output.split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty }
        let errors = lines.filter { $0.hasPrefix("Error:") || $0.hasPrefix("Error ") }
        var reason = errors.isEmpty ? (lines.last ?? "no output") : errors.joined(separator: " ")
        if output.contains("Cache-only enabled but no cache") {
            reason += " (no metadata cache yet: scan with --refresh, which runs dnf makecache)"
        }
        return String(reason.prefix(500))
    }
}
