/// Reading `softwareupdate --list`, in both of its formats.
extension MacOSPlatform {
    /// One entry of `softwareupdate --list`.
    public struct SoftwareUpdateItem: Sendable, Equatable {
        /// What `softwareupdate --install` takes.
        public var label: String
        public var title: String
        public var version: String
        public var recommended: Bool
        /// `restart` or `shut down` when installing it needs one, else nil.
        public var action: String?

        /// The finding for this entry; `runningVersion` is the installed macOS (`sw_vers`).
        func finding(runningVersion: String) -> PendingUpdate {
            let security = title.contains("Security") || (title.hasPrefix("macOS") && Self.major(version) == Self.major(runningVersion)
                                                          && !Self.major(version).isEmpty)
            let source = action.map { "softwareupdate, action=\($0.replacingOccurrences(of: " ", with: "-"))" } ?? "softwareupdate"
            return PendingUpdate(name: label, installedVersion: "", availableVersion: version, source: source, security: security)
        }

        static func major(_ version: String) -> String {
            String(version.split(separator: ".").first ?? "")
        }
    }

    /// Reads both formats:
    /// - macOS 10.15 and later: `* Label: LABEL` then `Title: T, Version: V, Size: S, Recommended: YES, Action: restart,`;
    /// - before: `   * LABEL` then `TITLE (VERSION), SIZEK [recommended] [restart]`.
    /// A `-` instead of `*` marks an update that is not recommended. "No new software available."
    /// (printed on stderr, merged by the scan) and every other line are ignored. Sizes are never
    /// read, so their units and any locale's number format do not matter.
    public static func parseSoftwareUpdateList(_ text: String) throws -> [SoftwareUpdateItem] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmed }
        var items: [SoftwareUpdateItem] = []
        var index = 0
        while index < lines.count {
            let line = lines[index]
            index += 1
            guard line.hasPrefix("* ") || line.hasPrefix("- ") else { continue }
            let recommendedMark = line.hasPrefix("* ")
            var label = String(line.dropFirst(2))
            let detail = index < lines.count ? lines[index] : ""
            if label.hasPrefix("Label: ") {
                label = String(label.dropFirst(7))
                guard detail.hasPrefix("Title: ") else {
                    throw ParseFailure("softwareupdate entry \(label) has no Title line")
                }
                index += 1
                items.append(parseNewDetail(detail, label: label))
            } else {
                guard !detail.isEmpty, !detail.hasPrefix("* "), !detail.hasPrefix("- ") else {
                    throw ParseFailure("softwareupdate entry \(label) has no detail line")
                }
                index += 1
                var item = parseOldDetail(detail, label: label)
                item.recommended = item.recommended || recommendedMark && detail.contains("[recommended]")
                items.append(item)
            }
        }
        return items
    }

    /// `Title: T, Version: V, Size: S, Recommended: YES, Action: restart,` — cut at the known keys,
    /// so a comma inside the title does not split it.
    static func parseNewDetail(_ detail: String, label: String) -> SoftwareUpdateItem {
        func value(_ key: String) -> String? {
            guard let start = detail.range(of: ", \(key): ") ?? (key == "Title" ? detail.range(of: "Title: ") : nil) else { return nil }
            let rest = detail[start.upperBound...]
            let keys = [", Version: ", ", Size: ", ", Recommended: ", ", Action: ", ", Deferred: "]
            let end = keys.compactMap { rest.range(of: $0)?.lowerBound }.min() ?? rest.endIndex
            var text = String(rest[..<end]).trimmed
            if text.hasSuffix(",") { text.removeLast() }
            return text
        }
        return SoftwareUpdateItem(label: label, title: value("Title") ?? label, version: value("Version") ?? "",
                                  recommended: value("Recommended") == "YES", action: value("Action").map { $0.lowercased() })
    }

    /// `TITLE (VERSION), SIZEK [recommended] [restart]`; the version is the last parenthesised
    /// group before the size (titles contain parentheses too: "Command Line Tools (macOS Mojave
    /// version 10.14) for Xcode (10.3)").
    static func parseOldDetail(_ detail: String, label: String) -> SoftwareUpdateItem {
        let beforeFlags = detail.split(separator: "[", maxSplits: 1).first.map(String.init) ?? detail
        var title = beforeFlags
        var version = ""
        if let close = beforeFlags.lastIndex(of: ")"), let open = beforeFlags[..<close].lastIndex(of: "(") {
            version = String(beforeFlags[beforeFlags.index(after: open)..<close]).trimmed
            title = String(beforeFlags[..<open]).trimmed
            if title.hasSuffix(",") { title.removeLast() }
        }
        let action = detail.contains("[restart]") ? "restart" : detail.contains("[shut down]") ? "shut down" : nil
        return SoftwareUpdateItem(label: label, title: title, version: version, recommended: detail.contains("[recommended]"), action: action)
    }
}
