import Yams

/// Builds an `Inventory` from Yams' node tree, validating as it goes so each error can name the
/// line and column of the node at fault.
struct InventoryParser {
    /// Variables set at one level (a group, or a host's own vars), already validated.
    struct Layer {
        var vars: [String: InventoryValue] = [:]
        var settings: [String: ConnectionSetting] = [:]

        mutating func merge(_ other: Layer) {
            vars.merge(other.vars) { _, new in new }
            settings.merge(other.settings) { _, new in new }
        }
    }

    /// Where something was written: the file (inventories can span several) and the position.
    struct Place {
        var file: String
        var mark: Mark?
    }

    struct GroupRecord {
        var name: String
        var declaredAt: Place?
        var hosts: [String] = []
        /// Same names as `hosts`, for constant-time membership checks on large groups.
        var hostSet: Set<String> = []
        var children: [(name: String, place: Place?)] = []
        var parents: [String] = []
        var layer = Layer()
        var priority = 1
    }

    struct HostRecord {
        var name: String
        var declaredAt: Place?
        var groups: Set<String> = []
        var layer = Layer()
    }

    static let sections = ["hosts", "children", "vars"]

    /// The file being read; sources are read one after the other into the same records.
    var file: String
    /// Relative paths resolve against the folder of the file being read.
    var context: ValueContext
    // Read by the resolution step in InventoryParser+Resolution.swift.
    var groupOrder: [String] = []
    var groups: [String: GroupRecord] = [:]
    var hostOrder: [String] = []
    var hosts: [String: HostRecord] = [:]
    private var typoCache: [String: String?] = [:]
    /// group_vars/ and host_vars/ files, per folder they were found in (in `-i` order), each
    /// entity's files already merged in Ansible's file order.
    var groupVarsFiles: [[String: Layer]] = []
    /// The top of the first source read: where "no hosts" points when nothing else fits.
    var firstSource: Place?
    var hostVarsFiles: [[String: Layer]] = []

    init(file: String, context: ValueContext) {
        self.file = file
        self.context = context
    }

    func failure(at node: Node?, _ message: String) -> PatchError {
        failure(at: node?.mark, message)
    }

    func failure(at mark: Mark?, _ message: String) -> PatchError {
        .inventory(file: file, line: mark?.line, column: mark?.column, message: message)
    }

    func failure(at place: Place?, _ message: String) -> PatchError {
        .inventory(file: place?.file ?? file, line: place?.mark?.line, column: place?.mark?.column, message: message)
    }

    func place(_ node: Node?) -> Place { Place(file: file, mark: node?.mark) }

    // MARK: Walking the tree

    mutating func parse(root: Node?) throws(PatchError) -> Inventory {
        try add(root: root)
        return try finish(top: Place(file: file, mark: root?.mark))
    }

    /// Reads one YAML inventory document (or a tree an INI or JSON reader built in the same shape)
    /// into the records; `finish` resolves them once every source is read.
    mutating func add(root: Node?) throws(PatchError) {
        if firstSource == nil { firstSource = place(root) }
        declareGroup("all", at: nil)
        // An empty (or cut-off) file must not pass as "no hosts, nothing to do".
        guard let root, !YAMLNodes.isNull(root) else {
            throw PatchError.inventory(file: file, line: root?.mark?.line ?? 1, column: root?.mark?.column ?? 1, message:
                "the inventory is empty: it needs at least one host, e.g. 'all:', then '  hosts:', then '    web1:'")
        }
        guard case let .mapping(top) = root else {
            throw failure(at: root, "expected a map of groups at the top level (e.g. 'all:'), found \(YAMLNodes.kind(of: root))")
        }
        for (key, value) in YAMLNodes.entries(of: top) {
            let name = try name(of: key, what: "group")
            if Self.sections.contains(name) {
                throw failure(at: key, "'\(name)' must sit inside a group: start the file with 'all:' and indent '\(name):' under it")
            }
            try parseGroup(name, key: key, body: value, parent: nil)
        }
    }

    /// Documented limit of hosts in one inventory, after ranges are expanded.
    static let maximumHosts = 100_000

    private mutating func parseGroup(_ name: String, key: Node, body: Node?, parent: String?) throws(PatchError) {
        declareGroup(name, at: place(key))
        if let parent {
            if name == "all" {
                throw failure(at: key, "'all' contains every group and cannot be a child of '\(parent)'")
            }
            addChild(name, to: parent, at: place(key))
        }
        guard let body, !YAMLNodes.isNull(body) else { return }
        guard case let .mapping(mapping) = body else {
            throw failure(at: body, "group '\(name)' must be a map with 'hosts', 'children' or 'vars', found \(YAMLNodes.kind(of: body))")
        }
        for (sectionKey, section) in YAMLNodes.entries(of: mapping) {
            let sectionName = try self.name(of: sectionKey, what: "key")
            switch sectionName {
            case "hosts": try parseHosts(section, group: name)
            case "children": try parseChildren(section, group: name)
            case "vars":
                let layer = try parseVariables(section, owner: "group '\(name)'", forGroup: name)
                groups[name]?.layer.merge(layer)
            default:
                var message = "unknown key '\(sectionName)' in group '\(name)': only hosts, children and vars are allowed"
                if let suggestion = EditDistance.closest(to: sectionName, in: Self.sections, maxDistance: 3) {
                    message += " (did you mean '\(suggestion)'?)"
                } else {
                    message += " (hosts go under 'hosts:', variables under 'vars:')"
                }
                throw failure(at: sectionKey, message)
            }
        }
    }

    private mutating func parseHosts(_ section: Node, group: String) throws(PatchError) {
        if YAMLNodes.isNull(section) { return }
        // Ansible accepts a single host name written as a string; a number (`hosts: 5`) is a
        // mistake that would otherwise become host "5", i.e. 0.0.0.5.
        if case .scalar = section, YAMLNodes.tag(of: section) == .str {
            try addHosts(key: section, vars: nil, group: group)
            return
        }
        guard case let .mapping(mapping) = section else {
            var message = "'hosts' of group '\(group)' must be a map of host names, found \(YAMLNodes.kind(of: section))"
            if case .sequence = section { message += "; write each host as a key ending in ':' instead of a '- ' list item" }
            throw failure(at: section, message)
        }
        for (key, vars) in YAMLNodes.entries(of: mapping) {
            try addHosts(key: key, vars: vars, group: group)
        }
    }

    private mutating func addHosts(key: Node, vars: Node?, group: String) throws(PatchError) {
        let written = try name(of: key, what: "host")
        if case let .scalar(scalar) = key, [.int, .float, .bool].contains(YAMLNodes.tag(of: key)) {
            throw failure(at: key, "host name must be a string, found \(YAMLNodes.kind(of: key)) (quote it, \"\(scalar.string)\", if a host is really named so)")
        }
        let parsed: InventoryHostSpec
        do {
            parsed = try InventoryHostSpec.parse(written)
        } catch {
            throw failure(at: key, error.message)
        }
        var layer = Layer()
        if let port = parsed.port {
            // Ansible turns `host:port` into the host variable ansible_port.
            layer.vars["ansible_port"] = .int(port)
            layer.settings["ansible_port"] = .number(port)
        }
        if let vars, !YAMLNodes.isNull(vars) {
            guard case .mapping = vars else {
                throw failure(at: vars, "variables of host '\(written)' must be a map of name: value, found \(YAMLNodes.kind(of: vars))")
            }
            layer.merge(try parseVariables(vars, owner: "host '\(written)'", forGroup: nil))
        }
        // Ranges multiply (`[1:9999]` on many keys): stop before memory does.
        if hostOrder.count + parsed.names.count > Self.maximumHosts {
            throw failure(at: key, "the inventory defines more than \(Self.maximumHosts) hosts, the limit of one inventory")
        }
        for hostName in parsed.names {
            if hosts[hostName] == nil {
                hostOrder.append(hostName)
                hosts[hostName] = HostRecord(name: hostName, declaredAt: place(key))
            }
            hosts[hostName]?.groups.insert(group)
            hosts[hostName]?.layer.merge(layer)
            if groups[group]?.hostSet.insert(hostName).inserted == true {
                groups[group]?.hosts.append(hostName)
            }
        }
    }

    private mutating func parseChildren(_ section: Node, group: String) throws(PatchError) {
        if YAMLNodes.isNull(section) { return }
        guard case let .mapping(mapping) = section else {
            var message = "'children' of group '\(group)' must be a map of group names, found \(YAMLNodes.kind(of: section))"
            // `children: web` is usually `children:` with `web:` meant on the next line, indented.
            if case let .scalar(scalar) = section {
                message += "; write 'children:' and then '\(scalar.string):' on its own line, indented below it"
            }
            throw failure(at: section, message)
        }
        for (key, body) in YAMLNodes.entries(of: mapping) {
            try parseGroup(try name(of: key, what: "group"), key: key, body: body, parent: group)
        }
    }

    /// Reads a vars map, refusing secrets, vault values, misspelt connection keys and badly
    /// typed connection values.
    mutating func parseVariables(_ section: Node, owner: String, forGroup group: String?) throws(PatchError) -> Layer {
        var layer = Layer()
        if YAMLNodes.isNull(section) { return layer }
        guard case let .mapping(mapping) = section else {
            throw failure(at: section, "'vars' of \(owner) must be a map of name: value, found \(YAMLNodes.kind(of: section))")
        }
        for (key, value) in YAMLNodes.entries(of: mapping) {
            let name = try self.name(of: key, what: "variable")
            let typo = likelyTypo(of: name)
            // A misspelt password key (`ansible_pasword`) is still a password in the file.
            if let secret = ConnectionKey.plainTextSecrets[name] ?? typo.flatMap({ ConnectionKey.plainTextSecrets[$0] }) {
                throw failure(at: key, "plain-text password '\(name)' is not allowed in an inventory: set '\(secret.env)' to the name of an environment variable holding it, or '\(secret.command)' to a command that prints it")
            }
            if let vault = YAMLNodes.vaultNode(in: value) {
                throw failure(at: vault, "'\(name)' is an Ansible Vault value ('!vault'), which patchctl cannot decrypt: use a plain value, or password_env/password_command for secrets")
            }
            if let connectionKey = ConnectionKey.byName[name] {
                switch connectionKey.setting(from: value, name: name, context: context) {
                case let .success(setting): layer.settings[name] = setting
                case let .failure(problem): throw failure(at: value, problem.message)
                }
            } else if ConnectionKey.otherAnsibleNames.contains(name),
                      let problem = ConnectionKey.problem(withOther: name, value: value) {
                throw failure(at: value, problem.message)
            } else if let known = typo {
                throw failure(at: key, "unknown variable '\(name)' looks like a misspelling of '\(known)' (did you mean '\(known)'?)")
            }
            if name == ConnectionKey.groupPriority, let group {
                guard let priority = Self.integer(value), Self.groupPriorities.contains(priority) else {
                    throw failure(at: value, "'\(name)' must be an integer from \(Self.groupPriorities.lowerBound) to \(Self.groupPriorities.upperBound), found \(YAMLNodes.kind(of: value))")
                }
                groups[group]?.priority = priority
                continue
            }
            layer.vars[name] = YAMLNodes.value(of: value)
        }
        return layer
    }

    /// Variable names repeat on every host, so each is checked against the known keys once.
    private mutating func likelyTypo(of name: String) -> String? {
        if let cached = typoCache[name] { return cached }
        let typo = ConnectionKey.likelyTypo(of: name)
        typoCache[name] = .some(typo)
        return typo
    }

    /// Documented range of `ansible_group_priority` (Ansible's default is 1).
    static let groupPriorities = -1_000_000...1_000_000

    private static func integer(_ node: Node) -> Int? {
        switch YAMLNodes.tag(of: node) {
        case .int: node.int
        case .str: node.scalar.flatMap { Int($0.string) }
        default: nil
        }
    }

    /// A map key used as a name: a non-empty scalar.
    private func name(of key: Node, what: String) throws(PatchError) -> String {
        guard case let .scalar(scalar) = key else {
            throw failure(at: key, "expected a \(what) name, found \(YAMLNodes.kind(of: key))")
        }
        // `~:`, `null:` or an empty key: YAML reads them as null, not as a name.
        let name = YAMLNodes.tag(of: key) == .null ? "" : scalar.string
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw failure(at: key, "\(what) name must not be empty")
        }
        return name
    }

    mutating func declareGroup(_ name: String, at place: Place?) {
        guard groups[name] == nil else { return }
        groupOrder.append(name)
        groups[name] = GroupRecord(name: name, declaredAt: place)
    }

    private mutating func addChild(_ child: String, to parent: String, at place: Place?) {
        guard groups[parent]?.children.contains(where: { $0.name == child }) == false else { return }
        groups[parent]?.children.append((child, place))
        groups[child]?.parents.append(parent)
    }
}
