import Foundation

/// The hosts and groups of an Ansible-style YAML inventory, with every host's connection
/// settings already resolved. Load one with `Inventory.load(path:)` (see Inventory+Loading.swift)
/// and narrow it with `select(_:)` (Ansible host-pattern syntax, see HostPattern.swift).
public struct Inventory: Sendable, Equatable {
    /// A group as written in the inventory, plus the implicit `all` and `ungrouped`.
    public struct Group: Sendable, Equatable {
        public var name: String
        /// Hosts listed directly in this group (not through children), in inventory order.
        public var hosts: [String]
        /// Direct child groups, in the order they were first declared.
        public var children: [String]
        /// The group's own variables (not inherited ones). `ansible_group_priority` is not a
        /// variable: it is `priority`.
        public var vars: [String: InventoryValue]
        /// Ansible's `ansible_group_priority`: among groups at the same depth, higher merges later.
        public var priority: Int

        public init(name: String, hosts: [String] = [], children: [String] = [],
                    vars: [String: InventoryValue] = [:], priority: Int = 1) {
            self.name = name
            self.hosts = hosts
            self.children = children
            self.vars = vars
            self.priority = priority
        }
    }

    /// Every host, in the order it first appears in the file.
    public var hosts: [Host]
    /// Every group by name, always including `all` and `ungrouped`.
    public var groups: [String: Group]

    public init(hosts: [Host], groups: [String: Group]) {
        self.hosts = hosts
        self.groups = groups
    }

    public func host(named name: String) -> Host? {
        hosts.first { $0.name == name }
    }

    /// The hosts matching an Ansible host pattern (`--limit`), in inventory order without
    /// duplicates; nil selects every host. `@file` terms are read relative to `currentDirectory`.
    public func select(
        _ pattern: String?,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(PatchError) -> [Host] {
        guard let pattern else { return hosts }
        return try select(HostPattern(pattern, currentDirectory: currentDirectory))
    }

    /// A policy's `targets`: as `select`, except that a plain name in the union that is no host
    /// or group of this inventory (and not a near miss of one, which stays an error) is left out
    /// and returned, as Ansible warns and goes on: one policy for `[debian, ubuntu]` serves an
    /// inventory without Ubuntu hosts. Intersections and exclusions stay strict.
    public func selectTargets(_ pattern: String) throws(PatchError) -> (hosts: [Host], ignored: [String]) {
        var ignored: [String]? = []
        let hosts = try select(HostPattern(pattern, currentDirectory: FileManager.default.currentDirectoryPath), ignoring: &ignored)
        return (hosts, ignored ?? [])
    }

    /// Ansible's order of evaluation, whatever the written order: the union of plain terms
    /// (all hosts when there is none), then each `&` intersection, then each `!` exclusion.
    public func select(_ pattern: HostPattern) throws(PatchError) -> [Host] {
        var strict: [String]? = nil
        return try select(pattern, ignoring: &strict)
    }

    /// `ignoring`: where unknown union names go instead of being an error (nil: strict).
    private func select(_ pattern: HostPattern, ignoring ignored: inout [String]?) throws(PatchError) -> [Host] {
        let members = membersByGroup()
        var regular: [HostPattern.Term] = []
        var intersections: [HostPattern.Term] = []
        var exclusions: [HostPattern.Term] = []
        for term in pattern.terms {
            switch term.operation {
            case .union: regular.append(term)
            case .intersection: intersections.append(term)
            case .exclusion: exclusions.append(term)
            }
        }

        var selected = Set<Int>()
        if regular.isEmpty {
            selected = Set(hosts.indices)
        }
        var strict: [String]? = nil
        for term in regular {
            selected.formUnion(try matches(term, in: pattern, members: members, ignoring: &ignored))
        }
        for term in intersections {
            selected.formIntersection(try matches(term, in: pattern, members: members, ignoring: &strict))
        }
        for term in exclusions {
            selected.subtract(try matches(term, in: pattern, members: members, ignoring: &strict))
        }
        return selected.sorted().map { hosts[$0] }
    }

    /// Host indices of every group, including hosts of descendant groups (Host.groups already
    /// lists every ancestor), in inventory order.
    private func membersByGroup() -> [String: [Int]] {
        var members: [String: [Int]] = [:]
        for name in groups.keys { members[name] = [] }
        for (index, host) in hosts.enumerated() {
            for group in host.groups { members[group, default: []].append(index) }
        }
        return members
    }

    /// The hosts one term stands for, in inventory order, after its slice. A term that
    /// matches no host and no group is an error rather than Ansible's warning: a mistyped
    /// exclusion must not silently widen a patch run.
    private func matches(
        _ term: HostPattern.Term, in pattern: HostPattern, members: [String: [Int]], ignoring ignored: inout [String]?
    ) throws(PatchError) -> [Int] {
        let failure = { (message: String) in PatchError.pattern(pattern: pattern.text, message: message) }
        var found = Set<Int>()
        var matchedSomething = false

        switch term.selector {
        case let .regex(source):
            let regex: Regex<AnyRegexOutput>
            do {
                regex = try Regex(source)
            } catch {
                throw failure("invalid regular expression '\(source)': \(error)")
            }
            // Ansible uses Python's re.match: anchored at the start of the name, not at the end.
            let startsWith = { (name: String) in (try? regex.prefixMatch(in: name)) != nil }
            for (name, indices) in members where startsWith(name) {
                matchedSomething = true
                found.formUnion(indices)
            }
            for (index, host) in hosts.enumerated() where startsWith(host.name) {
                matchedSomething = true
                found.insert(index)
            }
            if !matchedSomething {
                throw failure("'~\(source)' matches no host or group")
            }
        case let .name(name):
            if name == "all" || name == "*" {
                matchedSomething = true
                found = Set(hosts.indices)
            } else if let index = hosts.firstIndex(where: { $0.name == name }) {
                matchedSomething = true
                found.insert(index)
            } else if let indices = members[name] {
                matchedSomething = true
                found.formUnion(indices)
            } else if GlobPattern.hasWildcards(name) {
                // Globs match group names and host names alike, as in Ansible.
                let glob = GlobPattern(name)
                for (group, indices) in members where glob.matches(group) {
                    matchedSomething = true
                    found.formUnion(indices)
                }
                for (index, host) in hosts.enumerated() where glob.matches(host.name) {
                    matchedSomething = true
                    found.insert(index)
                }
                if !matchedSomething {
                    throw failure("'\(name)' matches no host or group")
                }
            } else {
                var message = "unknown host or group '\(name)'"
                let candidates = groups.keys.sorted() + hosts.map(\.name)
                if let suggestion = EditDistance.closest(to: name, in: candidates, maxDistance: 2) {
                    message += " (did you mean '\(suggestion)'?)"
                } else if ignored != nil, term.slice == nil {
                    ignored?.append(name)
                    return []
                }
                throw failure(message)
            }
        }

        let ordered = found.sorted()
        guard let slice = term.slice else { return ordered }
        return try Self.apply(slice, to: ordered, term: term, failure: failure)
    }

    /// Ansible's subscripts: `[i]` one host (negative counts from the end), `[i:j]` positions i
    /// through j inclusive, `[i:]` from i to the end. Positions beyond the end are clamped, but a
    /// slice that selects nothing is an error.
    private static func apply(
        _ slice: HostPattern.Slice, to ordered: [Int], term: HostPattern.Term,
        failure: (String) -> PatchError
    ) throws(PatchError) -> [Int] {
        let count = ordered.count
        let described = "'\(term.expression)' has \(count) host\(count == 1 ? "" : "s")"
        switch slice {
        case let .index(index):
            let position = index < 0 ? count + index : index
            guard ordered.indices.contains(position) else {
                throw failure("no host at position \(index) of \(term.text): \(described)")
            }
            return [ordered[position]]
        case let .range(start, end):
            let last = min(end ?? count - 1, count - 1)
            guard start <= last else {
                throw failure("\(term.text) selects no host: \(described)")
            }
            return Array(ordered[start...last])
        }
    }
}
