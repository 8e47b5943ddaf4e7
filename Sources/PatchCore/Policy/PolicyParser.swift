import Foundation
import Yams

/// Builds a `Policy` from Yams' node tree, validating as it goes so each error names the line
/// and column of the node at fault (as `InventoryParser` does for inventories).
struct PolicyParser {
    static let topKeys = ["name", "targets", "select", "window", "rings", "approval", "reboot", "deferment",
                          "pre", "post", "refresh", "install_timeout", "reboot_timeout", "install",
                          "test_ring_installs_pending", "winrm_fallback", "notify"]
    static let selectKeys = ["updates", "min_severity", "include", "exclude", "hold", "sources", "cves", "kev"]
    static let ringKeys = ["name", "targets", "batch", "max_parallel", "max_fail_percent", "soak"]
    static let rebootKeys = ["mode", "message", "grace_minutes"]
    static let defermentKeys = ["max_deferrals", "deadline"]
    static let utc = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current

    let file: String

    func failure(at node: Node?, _ message: String) -> PatchError {
        .policy(file: file, line: node?.mark?.line, column: node?.mark?.column, message: message)
    }

    // MARK: Top level

    func parse(root: Node?) throws(PatchError) -> Policy {
        guard let root, !YAMLNodes.isNull(root) else {
            throw PatchError.policy(file: file, line: root?.mark?.line ?? 1, column: root?.mark?.column ?? 1,
                                    message: "the policy is empty: it needs at least 'name' and 'targets'")
        }
        if let vault = YAMLNodes.vaultNode(in: root) {
            throw failure(at: vault, "'!vault' values cannot be used in a policy: patchctl cannot decrypt Ansible Vault, and a policy holds no secrets")
        }
        guard case .mapping = root else {
            throw failure(at: root, "a policy must be a map of settings (name, targets, select, window, rings...), found \(YAMLNodes.kind(of: root))")
        }
        // Every mistake in one pass: each key is read on its own, a wrong one noted and replaced by
        // its default so the others are still checked; then all of them are reported together.
        var problems: [PatchError] = []
        func checked<T>(_ fallback: @autoclosure () -> T, _ body: () throws(PatchError) -> T) -> T {
            do { return try body() } catch {
                problems.append(error)
                return fallback()
            }
        }
        let fields = try fields(of: root, in: "the policy", allowed: Self.topKeys, unknown: &problems)

        let name = checked("policy") { () throws(PatchError) in
            try policyName(try required(fields, "name", hint: "give the policy a name such as linux-security"))
        }
        let targets = checked("all") { () throws(PatchError) in
            try self.targets(try required(fields, "targets", hint: "give a host pattern such as all, a group, or a list of patterns"), label: "targets")
        }
        let selection = checked(UpdateSelection()) { () throws(PatchError) in try self.selection(fields.value("select")) }
        let window = checked(nil) { () throws(PatchError) in try self.window(fields.value("window")) }
        let ringsNode = fields.value("rings")
        var ringsValid = true
        let rings = checked([Ring(name: "all")]) { () throws(PatchError) in
            do throws(PatchError) { return try self.rings(ringsNode) } catch { ringsValid = false; throw error }
        }
        let approval = checked(ApprovalMode.auto) { () throws(PatchError) in
            guard let node = fields.value("approval") else { return .auto }
            let approval: ApprovalMode = try choice(node, label: "approval", what: "approval")
            // The test ring is the first one: with a single ring there is nothing to approve after it.
            if approval == .afterTest, ringsValid, rings.count < 2 {
                throw failure(at: node, "approval 'after_test' needs a test ring before the others: define at least two rings under 'rings' (the first one is the test ring)")
            }
            return approval
        }
        let reboot = checked(RebootPolicy()) { () throws(PatchError) in try self.reboot(fields.value("reboot")) }
        let deferment = checked(nil) { () throws(PatchError) in try self.deferment(fields.value("deferment"), zone: window?.timeZone ?? Self.utc) }
        let pre = checked([]) { () throws(PatchError) in try commands(fields.value("pre"), label: "pre") }
        let post = checked([]) { () throws(PatchError) in try commands(fields.value("post"), label: "post") }
        let refresh = checked(true) { () throws(PatchError) in
            try fields.value("refresh").map { node throws(PatchError) in try bool(node, label: "refresh") } ?? true
        }
        let installTimeout = checked(Policy.defaultInstallTimeout) { () throws(PatchError) in
            try fields.value("install_timeout").map { node throws(PatchError) in
                try duration(node, label: "install_timeout", in: Policy.installTimeoutRange)
            } ?? Policy.defaultInstallTimeout
        }
        let rebootTimeout = checked(Policy.defaultRebootTimeout) { () throws(PatchError) in
            try fields.value("reboot_timeout").map { node throws(PatchError) in
                try duration(node, label: "reboot_timeout", in: Policy.rebootTimeoutRange)
            } ?? Policy.defaultRebootTimeout
        }
        let install = checked([]) { () throws(PatchError) in try bundle(fields.value("install")) }
        let testRingInstallsPending = checked(false) { () throws(PatchError) in
            try fields.value("test_ring_installs_pending").map { node throws(PatchError) in try bool(node, label: "test_ring_installs_pending") } ?? false
        }
        let winrmFallback = checked(false) { () throws(PatchError) in
            try fields.value("winrm_fallback").map { node throws(PatchError) in try bool(node, label: "winrm_fallback") } ?? false
        }
        let notify = checked([]) { () throws(PatchError) in try notifiers(fields.value("notify")) }
        if let only = problems.first, problems.count == 1 { throw only }
        if !problems.isEmpty { throw PatchError.several(problems.sorted(by: Self.byPosition)) }

        var policy = Policy(name: name, file: "", targets: targets, selection: selection, window: window, rings: rings,
                            approval: approval, reboot: reboot, deferment: deferment, pre: pre, post: post,
                            refresh: refresh, installTimeout: installTimeout, rebootTimeout: rebootTimeout,
                            install: install, testRingInstallsPending: testRingInstallsPending, winrmFallback: winrmFallback)
        policy.notify = notify
        return policy
    }

    /// File order: line, then column.
    static func byPosition(_ a: PatchError, _ b: PatchError) -> Bool {
        func position(_ e: PatchError) -> (Int, Int) {
            if case let .policy(_, line, column, _) = e { return (line ?? 0, column ?? 0) }
            return (0, 0)
        }
        return position(a) < position(b)
    }

    private func policyName(_ node: Node) throws(PatchError) -> String {
        let name = try nonEmptyString(node, label: "name")
        // The name shows up in history, output and file names, so it stays one plain word.
        guard Self.isPlainName(name) else {
            throw failure(at: node, "invalid policy name '\(name)': use only letters, digits, '.', '_' and '-'")
        }
        return name
    }

    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }
    }

    // MARK: Targets

    /// A host pattern, or a list of patterns joined with ':' (their union). Each term is checked
    /// with the `--limit` parser so mistakes show up at load time, not mid-deploy; `@file` terms
    /// are read at deploy time.
    func targets(_ node: Node, label: String) throws(PatchError) -> String {
        let empty = "'\(label)' must not be empty: give a host pattern such as all, a group, or a list of patterns"
        var items: [(text: String, node: Node)] = []
        switch node {
        case .scalar where YAMLNodes.isNull(node):
            throw failure(at: node, empty)
        case .scalar:
            items = [(try string(node, label: label), node)]
        case let .sequence(sequence):
            for item in sequence {
                items.append((try string(item, label: "each entry of '\(label)'"), item))
            }
        default:
            throw failure(at: node, "'\(label)' must be a host pattern or a list of patterns, found \(YAMLNodes.kind(of: node))")
        }
        guard !items.isEmpty else { throw failure(at: node, empty) }
        for item in items {
            let terms = HostPattern.split(item.text)
            guard !terms.isEmpty else { throw failure(at: item.node, empty) }
            for term in terms where !term.hasPrefix("@") {
                do {
                    _ = try HostPattern.term(term, pattern: item.text)
                } catch {
                    if case let .pattern(_, message) = error {
                        throw failure(at: item.node, "invalid host pattern '\(item.text)' in '\(label)': \(message)")
                    }
                    throw error
                }
            }
        }
        let joined = items.map(\.text).joined(separator: ":")
        // Joining must not change how the terms split (a regex holding ':' would be cut apart).
        if HostPattern.split(joined) != items.flatMap({ HostPattern.split($0.text) }) {
            throw failure(at: node, "the patterns in '\(label)' cannot be joined into one (a regular expression containing ':'?): write them as one pattern with ',' between terms")
        }
        return joined
    }

    // MARK: Selection

    func selection(_ node: Node?) throws(PatchError) -> UpdateSelection {
        guard let node else { return UpdateSelection() }
        let shape = "security, all, or a map with \(Self.listing(Self.selectKeys, "and"))"
        if case .scalar = node {
            return UpdateSelection(kind: try choice(node, label: "select", what: "select", alternative: "a map with \(Self.listing(Self.selectKeys, "and"))"))
        }
        guard case .mapping = node else {
            throw failure(at: node, "'select' must be \(shape), found \(YAMLNodes.kind(of: node))")
        }
        let fields = try fields(of: node, in: "'select'", allowed: Self.selectKeys)
        var selection = UpdateSelection()
        if let updates = fields.value("updates") {
            selection.kind = try choice(updates, label: "updates", what: "updates")
        }
        if let node = fields.value("min_severity") {
            let text = try string(node, label: "min_severity")
            guard let severity = Severity(text: text) else {
                var message = "unknown min_severity '\(text)'"
                let names = Severity.allCases.filter { $0 != .unknown }.map(\.name) + ["moderate", "important"]
                if let suggestion = EditDistance.closest(to: text.lowercased(), in: names, maxDistance: 2) {
                    message += " (did you mean '\(suggestion)'?)"
                }
                throw failure(at: node, message + ": expected none, low, medium (or moderate), high (or important) or critical")
            }
            selection.minSeverity = severity
        }
        selection.include = try globs(fields.value("include"), label: "include")
        selection.exclude = try globs(fields.value("exclude"), label: "exclude")
        selection.hold = try globs(fields.value("hold"), label: "hold")
        for (source, node) in try strings(fields.value("sources"), label: "sources") {
            guard UpdateSelection.sourceNames.contains(source) else {
                throw failure(at: node, "unknown source '\(source)' in 'sources': expected \(Self.listing(UpdateSelection.sourceNames, "or"))")
            }
            selection.sources.append(source)
        }
        for (text, node) in try strings(fields.value("cves"), label: "cves") {
            guard let id = Self.cveID(text) else {
                throw failure(at: node, "'\(text)' in 'cves' is not a CVE id: expected CVE-YYYY-NNNN (four or more digits), e.g. CVE-2024-3094")
            }
            if !selection.cves.contains(id) { selection.cves.append(id) }
        }
        if let node = fields.value("cves"), selection.cves.isEmpty {
            throw failure(at: node, "'cves' must list at least one CVE id (omit it to select by updates and min_severity)")
        }
        if let node = fields.value("kev") {
            selection.kev = try bool(node, label: "kev")
        }
        return selection
    }

    /// A CVE id as MITRE writes it, upper-cased: `CVE-`, a year from 1999, a dash, four or more digits.
    static func cveID(_ text: String) -> String? {
        let parts = text.trimmingCharacters(in: .whitespaces).uppercased().split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "CVE", parts[1].count == 4, let year = Int(parts[1]), year >= 1999,
              (4...19).contains(parts[2].count), parts[2].allSatisfy({ $0.isASCII && $0.isNumber }), parts[1].allSatisfy({ $0.isASCII && $0.isNumber })
        else { return nil }
        return parts.joined(separator: "-")
    }

    private func globs(_ node: Node?, label: String) throws(PatchError) -> [String] {
        var globs: [String] = []
        for (glob, node) in try strings(node, label: label) {
            if let problem = Self.globProblem(glob) {
                throw failure(at: node, "invalid package glob '\(glob)' in '\(label)': \(problem)")
            }
            globs.append(glob)
        }
        return globs
    }

    /// Why `glob` cannot be a package-name glob, or nil when it can.
    static func globProblem(_ glob: String) -> String? {
        if glob.isEmpty { return "it is empty" }
        if glob.contains(where: \.isWhitespace) { return "package names never contain spaces" }
        // GlobPattern reads an unclosed '[' as a literal; no package name has one, so it is a typo.
        if GlobPattern(glob).elements.contains(.literal("[")) { return "'[' is never closed by ']'" }
        return nil
    }

    // MARK: Rings

    func rings(_ node: Node?) throws(PatchError) -> [Ring] {
        guard let node else { return [Ring(name: "all")] }
        guard case let .sequence(items) = node else {
            throw failure(at: node, "'rings' must be a list of rings ('- name: ...'), found \(YAMLNodes.kind(of: node))")
        }
        guard !items.isEmpty else {
            throw failure(at: node, "'rings' must list at least one ring; leave 'rings' out to patch every host in a single ring")
        }
        var rings: [Ring] = []
        var names: [String: Node] = [:]
        var withoutTargets: [(index: Int, node: Node)] = []
        for (index, item) in items.enumerated() {
            let label = "ring \(index + 1)"
            guard case .mapping = item else {
                throw failure(at: item, "\(label) must be a map with \(Self.listing(Self.ringKeys, "and")), found \(YAMLNodes.kind(of: item))")
            }
            let fields = try fields(of: item, in: label, allowed: Self.ringKeys)
            guard let nameNode = fields.value("name") else {
                throw failure(at: fields.key("name") ?? item, "\(label) has no 'name': give each ring a name such as test or production")
            }
            let name = try nonEmptyString(nameNode, label: "name")
            guard Self.isPlainName(name) else {
                throw failure(at: nameNode, "invalid ring name '\(name)': use only letters, digits, '.', '_' and '-'")
            }
            if let first = names[name] {
                throw failure(at: nameNode, "duplicate ring name '\(name)': already used at line \(first.mark?.line ?? 0)")
            }
            names[name] = nameNode
            var ring = Ring(name: name)
            if let targets = fields.entries["targets"]?.value {
                ring.targets = try self.targets(targets, label: "targets")
            } else {
                withoutTargets.append((index, item))
            }
            if let batch = fields.value("batch") { ring.batch = try self.batch(batch) }
            if let node = fields.value("max_parallel") {
                ring.maxParallel = try integer(node, label: "max_parallel", in: Ring.maxParallelRange)
            }
            if let node = fields.value("max_fail_percent") { ring.maxFailPercent = try percent(node, label: "max_fail_percent") }
            if let node = fields.value("soak") { ring.soak = try duration(node, label: "soak", in: Ring.soakRange) }
            rings.append(ring)
        }
        if withoutTargets.count > 1, let first = withoutTargets.first, let second = withoutTargets.dropFirst().first {
            throw failure(at: second.node, "ring '\(rings[second.index].name)' has no 'targets', but ring '\(rings[first.index].name)' already takes every remaining host: only the last ring may leave out 'targets'")
        }
        if let only = withoutTargets.first, only.index != rings.count - 1 {
            throw failure(at: only.node, "ring '\(rings[only.index].name)' has no 'targets', so it takes every host not in an earlier ring and must be the last ring")
        }
        return rings
    }

    private func batch(_ node: Node) throws(PatchError) -> BatchSize {
        let problem = "'batch' must be a number of hosts (1 to \(Ring.batchCountRange.upperBound)) or a percentage of the ring such as \"25%\" (above 0%, at most 100%), found \(YAMLNodes.kind(of: node))"
        guard case let .scalar(scalar) = node, YAMLNodes.tag(of: node) != .bool else { throw failure(at: node, problem) }
        let text = scalar.string.trimmingCharacters(in: .whitespaces)
        if text.hasSuffix("%") {
            guard let value = Self.decimal(String(text.dropLast()).trimmingCharacters(in: .whitespaces)),
                  value > 0, value <= 100
            else { throw failure(at: node, problem) }
            return .percent(value)
        }
        guard YAMLNodes.tag(of: node) == .int || YAMLNodes.tag(of: node) == .str, let count = Int(text),
              Ring.batchCountRange.contains(count) else {
            throw failure(at: node, problem)
        }
        return .count(count)
    }

    /// A number 0...100, written bare (`10`) or with a percent sign (`"10%"`).
    private func percent(_ node: Node, label: String) throws(PatchError) -> Double {
        let problem = "'\(label)' must be a percentage between 0 and 100, found \(YAMLNodes.kind(of: node))"
        guard case let .scalar(scalar) = node else { throw failure(at: node, problem) }
        let value: Double?
        switch YAMLNodes.tag(of: node) {
        case .int, .float: value = Self.decimal(scalar.string)
        case .str where scalar.string.hasSuffix("%"): value = Self.decimal(String(scalar.string.dropLast()))
        default: value = nil
        }
        guard let value, (0...100).contains(value) else { throw failure(at: node, problem) }
        return value
    }

    // MARK: Reboot and deferment

    func reboot(_ node: Node?) throws(PatchError) -> RebootPolicy {
        guard let node else { return RebootPolicy() }
        let mapHint = "a map with \(Self.listing(Self.rebootKeys, "and"))"
        guard case .mapping = node else {
            return RebootPolicy(mode: try choice(node, label: "reboot", what: "reboot mode", alternative: mapHint))
        }
        let fields = try fields(of: node, in: "'reboot'", allowed: Self.rebootKeys)
        guard let modeNode = fields.value("mode") else {
            throw failure(at: fields.key("mode") ?? node, "'reboot' needs 'mode': never, if_required or always")
        }
        var reboot = RebootPolicy(mode: try choice(modeNode, label: "mode", what: "reboot mode"))
        if let node = fields.value("message") { reboot.message = try nonEmptyString(node, label: "message") }
        if let node = fields.value("grace_minutes") {
            // Bounded: the value reaches `shutdown -r +N` and the controller's wait for the restart.
            reboot.graceMinutes = try integer(node, label: "grace_minutes", in: RebootPolicy.graceMinutesRange)
        }
        return reboot
    }

    /// Absolute deadlines without an offset are read in `zone`, the window's time zone (UTC
    /// without a window), so a policy's times all mean the same clock.
    func deferment(_ node: Node?, zone: TimeZone) throws(PatchError) -> Deferment? {
        guard let node else { return nil }
        guard case .mapping = node else {
            throw failure(at: node, "'deferment' must be a map with max_deferrals and deadline, found \(YAMLNodes.kind(of: node))")
        }
        let fields = try fields(of: node, in: "'deferment'", allowed: Self.defermentKeys)
        var deferment = Deferment()
        if let node = fields.value("max_deferrals") {
            deferment.maxDeferrals = try integer(node, label: "max_deferrals", in: Deferment.maxDeferralsRange)
        }
        if let node = fields.value("deadline") {
            let problem = "invalid deadline: use a duration after the first deferral (48h) or a date (2026-12-01 or 2026-12-01T18:00), found \(YAMLNodes.kind(of: node))"
            guard case let .scalar(scalar) = node, YAMLNodes.tag(of: node) != .bool else { throw failure(at: node, problem) }
            if PolicyDuration.isWellFormed(scalar.string) {
                deferment.deadline = .after(try duration(node, label: "deadline", in: Deferment.deadlineRange))
            } else if let date = Self.absoluteDate(scalar.string, in: zone) {
                deferment.deadline = .at(date)
            } else {
                throw failure(at: node, problem)
            }
        }
        return deferment
    }

    /// `install:` items, `NAME` or `NAME@VERSION`, each once.
    private func bundle(_ node: Node?) throws(PatchError) -> [Policy.BundleItem] {
        var items: [Policy.BundleItem] = []
        for (text, node) in try strings(node, label: "install") {
            let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "+-._".contains($0) }),
                  parts.count == 1 || (!parts[1].isEmpty && !parts[1].contains(where: \.isWhitespace)) else {
                throw failure(at: node, "'\(text)' in 'install' is not a package: write NAME or NAME@VERSION")
            }
            guard !items.contains(where: { $0.name == name }) else {
                throw failure(at: node, "'\(name)' appears twice in 'install'")
            }
            items.append(Policy.BundleItem(name: name, version: parts.count == 2 ? parts[1] : nil))
        }
        return items
    }

    private func commands(_ node: Node?, label: String) throws(PatchError) -> [String] {
        var commands: [String] = []
        for (command, node) in try strings(node, label: label) {
            guard !command.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw failure(at: node, "commands in '\(label)' must not be empty")
            }
            commands.append(command)
        }
        return commands
    }
}
