/// Reading zypper's outputs: `list-patches` and `list-updates` XML, `info -t patch` text, and
/// what its exit codes mean.
extension SusePlatform {
    /// One needed patch (SUSE's advisory) from `list-patches`.
    public struct Patch: Sendable, Equatable {
        public var name: String
        public var edition: String
        public var arch: String?
        /// `security`, `recommended`, `optional`, `feature`, `document`, `yast`.
        public var category: String
        /// `critical`, `important`, `moderate`, `low`; nil for `unspecified`.
        public var severity: String?
        /// `restart="true"`: installing it needs a reboot. `interactive`: it shows a message or
        /// license, which `zypper patch` skips in non-interactive mode unless told otherwise.
        public var restart: Bool
        public var interactive: Bool
        /// Every repository alias offering it (the same patch is often listed once per repository).
        public var repositories: [String]
        /// The CVEs its `<issue-list>` names (`<issue type="cve" id="CVE-…">`), in order, once each.
        public var cves: [String] = []
    }

    /// One package update from `list-updates`.
    public struct PackageUpdate: Sendable, Equatable {
        public var name: String
        public var edition: String
        /// Empty when zypper does not say (versions before `edition-old` existed, e.g. SLE 12).
        public var oldEdition: String
        public var arch: String?
        /// `arch-old`: the installed architecture when the update changes it (x86_64 → noarch).
        public var oldArch: String?
        public var repository: String
    }

    /// A package a patch fixes, from its `Conflicts` list: `NAME[.ARCH] < EDITION`.
    public struct PatchPackage: Sendable, Equatable, Hashable {
        public var name: String
        public var arch: String?
        public var edition: String
    }

    /// zypper's documented exit codes (man zypper, EXIT CODES).
    static func exitMeaning(_ code: Int) -> String? {
        switch code {
        case 0: "ok"
        case 1: "unexpected zypper error (ZYPPER_EXIT_ERR_BUG)"
        case 2: "syntax error"
        case 3: "invalid arguments"
        case 4: "problem reported by libzypp (ZYPPER_EXIT_ERR_ZYPP)"
        case 5: "root privileges are required"
        case 6: "no repositories are defined"
        case 7: "another process holds the zypp lock"
        case 8: "error during installation or removal (ZYPPER_EXIT_ERR_COMMIT)"
        case 100: "updates are needed"
        case 101: "security updates are needed"
        case 102: "reboot needed after install"
        case 103: "zypper itself was updated and must run again"
        case 104: "a requested package or capability was not found (ZYPPER_EXIT_INF_CAP_NOT_FOUND)"
        case 105: "interrupted by a signal"
        case 106: "some repositories were skipped because of errors (ZYPPER_EXIT_INF_REPOS_SKIPPED)"
        case 107: "an RPM scriptlet failed (ZYPPER_EXIT_INF_RPM_SCRIPT_FAILED)"
        case 126, 127: "zypper could not be run"
        default: nil
        }
    }

    /// Exits that leave a complete answer: 0 and the informational 100–103.
    static func isCompleteAnswer(_ exit: Int?) -> Bool {
        guard let exit else { return true }
        return exit == 0 || (100...103).contains(exit)
    }

    /// `<message type="error">` texts, whitespace collapsed.
    static func errorMessages(_ document: XMLNode) -> [String] {
        document.all("message").filter { $0["type"] == "error" }.map { message in
            message.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).joined(separator: " ")
        }
    }

    /// Parses one `--xmlout` document and refuses an incomplete answer: a non-informational exit,
    /// or any error message. The second matters: as a user who cannot write the metadata cache,
    /// zypper loads no repository, lists nothing and still exits 0 — "no updates" would be a lie.
    static func checkedDocument(_ text: String, command: String, exit: Int?) throws -> XMLNode {
        let document: XMLNode
        do {
            document = try parseXML(text)
        } catch {
            let exitText = exit.map { " (exit \($0))" } ?? ""
            throw ParseFailure(String("zypper \(command) printed no readable XML\(exitText): \(error.description): \(lastLine(text))".prefix(600)))
        }
        let errors = errorMessages(document)
        if !isCompleteAnswer(exit) || !errors.isEmpty || document.child("stream") == nil {
            let exitText = exit.map { "exit \($0)\(exitMeaning($0).map { ": " + $0 } ?? "")" } ?? "no exit code"
            var reason = errors.prefix(3).joined(separator: " | ")
            if reason.isEmpty { reason = lastLine(document.text.isEmpty ? text : document.text) }
            throw ParseFailure(String("zypper \(command) failed (\(exitText)): \(reason)".prefix(600)))
        }
        return document
    }

    /// Needed patches, one per name (repositories merged), in output order.
    public static func parsePatches(_ xml: String, exit: Int? = 0) throws -> [Patch] {
        let document = try checkedDocument(xml, command: "list-patches", exit: exit)
        var patches: [Patch] = []
        var indexByName: [String: Int] = [:]
        for update in document.all("update") where update["kind"] == "patch" {
            guard let name = update["name"], update["status"] ?? "needed" == "needed" else { continue }
            let alias = update.child("source")?["alias"]
            if let index = indexByName[name] {
                if let alias, !patches[index].repositories.contains(alias) { patches[index].repositories.append(alias) }
                continue
            }
            let severity = update["severity"].flatMap { Severity(text: $0) == nil ? nil : $0.lowercased() }
            indexByName[name] = patches.count
            var seenCVEs = Set<String>()
            let cves = (update.child("issue-list")?.children ?? []).compactMap { issue -> String? in
                guard issue.name == "issue", issue["type"] == "cve", let id = issue["id"], CVEReference.isCVEIdentifier(id) else { return nil }
                return seenCVEs.insert(id).inserted ? id : nil
            }
            patches.append(Patch(name: name, edition: update["edition"] ?? "1", arch: update["arch"],
                                 category: (update["category"] ?? "").lowercased(), severity: severity,
                                 restart: update["restart"] == "true", interactive: update["interactive"] == "true",
                                 repositories: alias.map { [$0] } ?? [], cves: cves))
        }
        return patches
    }

    /// Package updates, as zypper lists them (its best candidate per installed package).
    public static func parseUpdates(_ xml: String, exit: Int? = 0) throws -> [PackageUpdate] {
        let document = try checkedDocument(xml, command: "list-updates", exit: exit)
        return document.all("update").compactMap { update in
            guard update["kind"] ?? "package" == "package", let name = update["name"], let edition = update["edition"] else { return nil }
            return PackageUpdate(name: name, edition: edition, oldEdition: update["edition-old"] ?? "", arch: update["arch"],
                                 oldArch: update["arch-old"], repository: update.child("source")?["alias"] ?? "")
        }
    }

    /// `zypper info -t patch` blocks: `Information for patch NAME:` … `Conflicts : [N]` then one
    /// indented `NAME[.ARCH] < EDITION` per line, or, when there is only one, that entry on the
    /// label's line itself (`Conflicts   : patchlab-utils < 2.0-150500.1.1`, zypper 1.14 in the
    /// lab: a noarch package's single conflict). Source packages (`srcpackage:` or `.src`) are not
    /// installed packages and are left out.
    public static func parsePatchInfo(_ text: String) -> [String: [PatchPackage]] {
        var result: [String: [PatchPackage]] = [:]
        var patch: String?
        var inConflicts = false
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmed
            if line.hasPrefix("Information for patch "), line.hasSuffix(":") {
                patch = String(line.dropFirst(22).dropLast())
                inConflicts = false
                continue
            }
            guard let current = patch else { continue }
            func add(_ entry: Substring) {
                guard let package = conflictPackage(entry), !result[current, default: []].contains(package) else { return }
                result[current, default: []].append(package)
            }
            if raw.hasPrefix(" ") || raw.hasPrefix("\t") {
                if inConflicts { add(line[...]) }
            } else {
                // A new `Label : value` line ends the Conflicts list.
                inConflicts = line.hasPrefix("Conflicts")
                if inConflicts {
                    if result[current] == nil { result[current] = [] }
                    if let colon = line.firstIndex(of: ":") { add(line[line.index(after: colon)...]) }
                }
            }
        }
        return result
    }

    /// One `NAME[.ARCH] < EDITION` conflict; nil for anything else (`[N]`, source packages).
    static func conflictPackage(_ entry: Substring) -> PatchPackage? {
        let parts = entry.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 3, parts[1] == "<" || parts[1] == "<=", !parts[0].hasPrefix("srcpackage:") else { return nil }
        var name = String(parts[0])
        var arch: String?
        if let dot = name.lastIndex(of: "."), Self.knownArchitectures.contains(String(name[name.index(after: dot)...])) {
            arch = String(name[name.index(after: dot)...])
            name = String(name[..<dot])
        }
        if arch == "src" || arch == "nosrc" { return nil }
        return PatchPackage(name: name, arch: arch, edition: String(parts[2]))
    }

    /// Architectures rpm names carry as a `.ARCH` suffix; anything else after the last dot is part
    /// of the name (`ruby2.5`, `python3.11-base`).
    static let knownArchitectures: Set<String> = [
        "noarch", "x86_64", "i386", "i486", "i586", "i686", "aarch64", "armv7hl", "armv6hl", "ppc64le", "ppc64", "s390x",
        "riscv64", "src", "nosrc",
    ]

    /// Package updates carry the security flag and severity of the needed patches that fix them;
    /// needed patches that fix none of the listed updates become findings of their own.
    public static func mergeFindings(patches: [Patch], updates: [PackageUpdate], packagesOfPatches: [String: [PatchPackage]]) -> [PendingUpdate] {
        var coveringByPackage: [String: [Patch]] = [:]
        var usedPatches = Set<String>()
        for patch in patches {
            for package in packagesOfPatches[patch.name] ?? [] {
                coveringByPackage[package.name, default: []].append(patch)
            }
        }
        var findings: [PendingUpdate] = updates.map { update in
            let covering = (coveringByPackage[update.name] ?? []).filter { patch in
                // An arch-qualified conflict must match the update's (or its installed) arch.
                let arches = (packagesOfPatches[patch.name] ?? []).filter { $0.name == update.name }.map(\.arch)
                return arches.contains { $0 == nil || $0 == update.arch || $0 == update.oldArch }
            }
            var seen = Set<String>()
            let unique = covering.filter { seen.insert($0.name).inserted }
            for patch in unique { usedPatches.insert(patch.name) }
            let securityPatches = unique.filter { $0.category == "security" }
            let severity = (securityPatches.isEmpty ? unique : securityPatches)
                .compactMap { patch in patch.severity.flatMap { word in Severity(text: word).map { (word, $0) } } }
                .max { $0.1 < $1.1 }?.0
            let source = ([update.repository].filter { !$0.isEmpty } + unique.map { "patch:" + $0.name }).joined(separator: ", ")
            return PendingUpdate(name: update.name, installedVersion: update.oldEdition, availableVersion: update.edition,
                                 source: source, security: !securityPatches.isEmpty, architecture: update.arch, severity: severity,
                                 advisories: unique.map(\.name), cves: cveReferences(unique))
        }
        for patch in patches where !usedPatches.contains(patch.name) {
            findings.append(PendingUpdate(name: "patch:" + patch.name, installedVersion: "", availableVersion: patch.edition,
                                          source: patch.repositories.joined(separator: ", "), security: patch.category == "security",
                                          architecture: patch.arch, severity: patch.severity, advisories: [patch.name],
                                          cves: cveReferences([patch])))
        }
        return findings
    }

    /// The CVEs the covering patches name, each rated with the most severe patch naming it (SUSE
    /// rates patches, not CVEs) and the patch's word kept; source `zypper`. In CVE order.
    static func cveReferences(_ patches: [Patch]) -> [CVEReference] {
        var byID: [String: CVEReference] = [:]
        for patch in patches {
            let severity = patch.severity.flatMap(Severity.init(text:)) ?? .unknown
            for id in patch.cves where byID[id].map({ $0.severity < severity }) ?? true {
                byID[id] = CVEReference(id: id, severity: severity, vendorSeverity: patch.severity, source: "zypper")
            }
        }
        return byID.values.sorted { $0.id < $1.id }
    }
}
