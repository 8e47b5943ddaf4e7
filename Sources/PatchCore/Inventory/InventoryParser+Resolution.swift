import Yams

/// Second step of loading, once the whole file is read: whole-inventory checks (name clashes,
/// group cycles), Ansible's implicit groups, and each host's merged variables.
extension InventoryParser {
    mutating func finish(top: Place?) throws(PatchError) -> Inventory {
        try checkNameClashes()
        try checkCycles()
        if hostOrder.isEmpty {
            // Point at the last group: a file cut short usually ends right after it.
            let last = groupOrder.last { groups[$0]?.declaredAt != nil }.flatMap { groups[$0]?.declaredAt }
            throw failure(at: last ?? top, "the inventory defines no hosts: list them under a group's 'hosts:' (is the file complete?)")
        }
        addImplicitGroups()

        let ranks = mergeRanks()
        var hostsOut: [Host] = []
        for name in hostOrder {
            guard let record = hosts[name] else { continue }
            hostsOut.append(resolve(record, ranks: ranks))
        }
        var groupsOut: [String: Inventory.Group] = [:]
        for (name, record) in groups {
            groupsOut[name] = Inventory.Group(
                name: name, hosts: record.hosts, children: record.children.map(\.name),
                vars: record.layer.vars, priority: record.priority)
        }
        return Inventory(hosts: hostsOut, groups: groupsOut)
    }

    /// Ansible only warns when a name is both a host and a group, then resolves patterns
    /// inconsistently (a plain term picks the host, `!name` the group); refuse it instead.
    private func checkNameClashes() throws(PatchError) {
        for name in hostOrder {
            guard let host = hosts[name] else { continue }
            if name == "all" || name == "ungrouped" {
                throw failure(at: host.declaredAt, "'\(name)' is the name of Ansible's built-in group and cannot be a host name")
            }
            if let group = groups[name] {
                var message = "'\(name)' is both a host and a group"
                if let place = group.declaredAt, let mark = place.mark {
                    message += " (group at \(place.file == host.declaredAt?.file ? "" : place.file + " ")line \(mark.line), column \(mark.column))"
                }
                message += ": host patterns could not tell them apart, rename one of them"
                throw failure(at: host.declaredAt, message)
            }
        }
    }

    /// Depth-first search over child links; the error points at the link that closes the loop.
    private func checkCycles() throws(PatchError) {
        var finished = Set<String>()
        var path: [String] = []

        func visit(_ name: String) throws(PatchError) {
            path.append(name)
            for child in groups[name]?.children ?? [] {
                if let start = path.firstIndex(of: child.name) {
                    let cycle = (path[start...] + [child.name]).joined(separator: " -> ")
                    throw failure(at: child.place, "group cycle: \(cycle) (a group cannot contain itself)")
                }
                if !finished.contains(child.name) { try visit(child.name) }
            }
            path.removeLast()
            finished.insert(name)
        }

        for name in groupOrder where !finished.contains(name) {
            try visit(name)
        }
    }

    /// As Ansible: every group without a parent is a child of `all`, and hosts in no group but
    /// `all` form `ungrouped` (a host listed under `ungrouped` and elsewhere leaves it).
    private mutating func addImplicitGroups() {
        for name in groupOrder where name != "all" && groups[name]?.parents.isEmpty == true {
            groups["all"]?.children.append((name, nil))
            groups[name]?.parents.append("all")
        }
        if groups["ungrouped"] == nil {
            groupOrder.append("ungrouped")
            groups["ungrouped"] = GroupRecord(name: "ungrouped", declaredAt: nil, parents: ["all"])
            groups["all"]?.children.append(("ungrouped", nil))
        }
        var ungrouped: [String] = []
        for name in hostOrder {
            guard var record = hosts[name] else { continue }
            if record.groups.subtracting(["all", "ungrouped"]).isEmpty {
                record.groups.insert("ungrouped")
                ungrouped.append(name)
            } else {
                record.groups.remove("ungrouped")
            }
            hosts[name] = record
        }
        groups["ungrouped"]?.hosts = ungrouped
    }

    /// Ansible's group depth: the longest chain of parents up to `all` (depth 0).
    private func depth(of name: String, memo: inout [String: Int]) -> Int {
        if let known = memo[name] { return known }
        var result = 0
        for parent in groups[name]?.parents ?? [] {
            result = max(result, depth(of: parent, memo: &memo) + 1)
        }
        memo[name] = result
        return result
    }

    /// Ansible's merge order of groups: by (depth, priority, name), so parents come before
    /// children, and siblings at the same depth by priority, then alphabetically. Computed once
    /// for all groups; a host merges its own groups in this order.
    private func mergeRanks() -> [String: Int] {
        var depths: [String: Int] = [:]
        let keyed = groupOrder.map { name in
            (name: name, depth: depth(of: name, memo: &depths), priority: groups[name]?.priority ?? 1)
        }
        let sorted = keyed.sorted { lhs, rhs in
            (lhs.depth, lhs.priority) != (rhs.depth, rhs.priority)
                ? (lhs.depth, lhs.priority) < (rhs.depth, rhs.priority)
                : lhs.name < rhs.name
        }
        var ranks: [String: Int] = [:]
        for (rank, entry) in sorted.enumerated() { ranks[entry.name] = rank }
        return ranks
    }

    /// A host's variables: its groups' in merge order (see `mergeRanks`), then its own.
    private func resolve(_ record: HostRecord, ranks: [String: Int]) -> Host {
        var member = Set<String>(["all"])
        var pending = Array(record.groups)
        while let group = pending.popLast() {
            guard member.insert(group).inserted else { continue }
            pending += groups[group]?.parents ?? []
        }
        let ordered = member.sorted { (ranks[$0] ?? 0) < (ranks[$1] ?? 0) }
        // Ansible's precedence (VARIABLE_PRECEDENCE): the groups' inventory variables, then
        // group_vars/all files, then the other groups' group_vars files, folder by folder; then
        // the host's inventory variables, then its host_vars files.
        var layers = ordered.compactMap { groups[$0]?.layer }
        for folder in groupVarsFiles { if let layer = folder["all"] { layers.append(layer) } }
        for folder in groupVarsFiles {
            for group in ordered where group != "all" {
                if let layer = folder[group] { layers.append(layer) }
            }
        }
        layers.append(record.layer)
        for folder in hostVarsFiles { if let layer = folder[record.name] { layers.append(layer) } }

        var vars: [String: InventoryValue] = [:]
        for layer in layers { vars.merge(layer.vars) { _, new in new } }

        // The most specific level that sets a key decides; within a level patchctl's own name
        // beats Ansible's aliases.
        func setting(_ key: ConnectionKey) -> ConnectionSetting? {
            for layer in layers.reversed() {
                for name in key.names {
                    if let value = layer.settings[name] { return value }
                }
            }
            return nil
        }
        func text(_ key: ConnectionKey) -> String? {
            if case let .text(value) = setting(key) { return value }
            return nil
        }

        var connection = Host.Connection.ssh
        if case let .connection(value) = setting(.connection) { connection = value }
        var port = 22
        if connection == .winrm {
            // WinRM listens on 5986 (HTTPS) unless the inventory asks for plain HTTP, as in Ansible.
            port = vars["ansible_winrm_scheme"] == .string("http") ? 5985 : 5986
        }
        if case let .number(value) = setting(.port) { port = value }
        var become = false
        if case let .flag(value) = setting(.become) { become = value }
        var shell: Host.ShellType = connection == .winrm ? .powershell : .sh
        if case let .shell(value) = setting(.shellType) { shell = value }

        // ssh's command line: Ansible puts the explicit variables (ansible_port, ansible_user,
        // the key) before the extra arguments, and ssh takes the first value, so the arguments
        // only fill what no variable set; common arguments come before extra ones.
        var arguments = SSHArguments()
        for key in [ConnectionKey.sshCommonArgs, .sshExtraArgs] {
            if case let .sshArguments(value) = setting(key) { arguments = arguments.merged(before: value) }
        }
        var fromInventory = Set(ConnectionKey.allCases.filter { setting($0) != nil }.map(\.rawValue))
        fromInventory.subtract([ConnectionKey.sshCommonArgs.rawValue, ConnectionKey.sshExtraArgs.rawValue])
        func fromArguments<Value>(_ key: ConnectionKey, _ value: Value?) -> Value? {
            guard setting(key) == nil, let value else { return nil }
            fromInventory.insert(key.rawValue)
            return value
        }
        if let value = fromArguments(.port, arguments.port) { port = value }

        var host = Host(
            name: record.name, address: text(.address), port: port, user: text(.user) ?? fromArguments(.user, arguments.user),
            privateKeyFile: text(.privateKeyFile) ?? fromArguments(.privateKeyFile, arguments.identityFile),
            passwordEnv: text(.passwordEnv),
            passwordCommand: text(.passwordCommand), become: become,
            becomeUser: text(.becomeUser) ?? "root",
            becomePasswordEnv: text(.becomePasswordEnv), becomePasswordCommand: text(.becomePasswordCommand),
            connection: connection, shellType: shell, groups: member.sorted(), vars: vars)
        if case let .jumps(hops) = setting(.proxyJump) {
            host.proxyJump = hops
        } else if let hops = fromArguments(.proxyJump, arguments.proxyJump) {
            host.proxyJump = hops
        }
        host.knownHostsFile = text(.knownHostsFile) ?? fromArguments(.knownHostsFile, arguments.knownHostsFile)
        if case let .hostKeyChecking(value) = setting(.hostKeyChecking) {
            host.hostKeyChecking = value
        } else {
            host.hostKeyChecking = fromArguments(.hostKeyChecking, arguments.hostKeyChecking)
        }
        host.fromInventory = fromInventory
        return host
    }
}
