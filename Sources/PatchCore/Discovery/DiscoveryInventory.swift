import Foundation

/// A sweep's hosts as an Ansible inventory that both patchctl and `ansible-inventory` load
/// unchanged (YAML or INI). Groups by OS family, distribution and version where a login detected
/// them (`debian_family` > `debian` > `debian_12`), and by swept network otherwise (`net_10_0_0_0_24`).
public struct DiscoveryInventory: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var vars: [(String, String)]
        public static func == (l: Entry, r: Entry) -> Bool { l.name == r.name && l.vars.elementsEqual(r.vars, by: ==) }
    }

    /// Group name → its hosts (names) and child groups, in a stable order.
    public private(set) var groups: [(name: String, hosts: [String], children: [String])] = []
    public private(set) var entries: [Entry] = []

    public init(_ hosts: [DiscoveredHost]) {
        var used = Set<String>()
        var members: [String: [String]] = [:]
        var children: [String: Set<String>] = [:]
        var order: [String] = []
        func add(_ group: String, host: String? = nil, child: String? = nil) {
            if members[group] == nil { members[group] = []; order.append(group) }
            if let host { members[group, default: []].append(host) }
            if let child { children[group, default: []].insert(child) }
        }
        for host in hosts where host.managementPort != nil || !host.ssh.isEmpty {
            var name = host.name ?? Self.hostName(for: host.address)
            if used.contains(name) { name = Self.hostName(for: host.address) }
            used.insert(name)
            var vars: [(String, String)] = []
            if name != host.address { vars.append(("ansible_host", host.address)) }
            if let ssh = host.ssh.first {
                if ssh.port != 22 { vars.append(("ansible_port", String(ssh.port))) }
                if host.os?.family == .windows || ssh.looksLikeWindows { vars.append(("ansible_shell_type", "powershell")) }
            } else if let winrm = host.winrm.first(where: \.wsman) {
                vars.append(("ansible_connection", "winrm"))
                vars.append(("ansible_port", String(winrm.port)))
                vars.append(("ansible_winrm_scheme", winrm.scheme))
            }
            entries.append(Entry(name: name, vars: vars))
            if let os = host.os {
                let family = Self.groupName(os.family.rawValue + "_family")
                let distribution = Self.groupName(os.id.isEmpty ? os.family.rawValue : os.id)
                let release = Self.groupName(distribution + "_" + os.version)
                add(family, child: distribution)
                add(distribution, child: release)
                add(release, host: name)
            } else {
                add(Self.groupName("net_" + host.network), host: name)
            }
        }
        groups = order.map { ($0, members[$0] ?? [], (children[$0] ?? []).sorted()) }
    }

    /// Ansible's group names: letters, digits and underscores, not starting with a digit.
    static func groupName(_ text: String) -> String {
        var name = String(text.lowercased().unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
        if name.first?.isNumber ?? true { name = "g_" + name }
        return name
    }

    /// The address itself, except IPv6, whose colons INI would read as a port.
    static func hostName(for address: String) -> String {
        address.contains(":") ? "ipv6_" + address.replacingOccurrences(of: ":", with: "_") : address
    }

    public var yaml: String {
        var lines = ["# made by patchctl discover: an Ansible inventory (patchctl -i and ansible-inventory -i read it)", "all:"]
        let vars = Dictionary(entries.map { ($0.name, $0.vars) }, uniquingKeysWith: { first, _ in first })
        guard !groups.isEmpty else { return (lines + ["  hosts: {}"]).joined(separator: "\n") + "\n" }
        let nested = Set(groups.flatMap(\.children))
        lines.append("  children:")
        func emit(_ group: String, indent: Int) {
            guard let entry = groups.first(where: { $0.name == group }) else { return }
            let pad = String(repeating: " ", count: indent)
            lines.append(pad + group + ":")
            if !entry.hosts.isEmpty {
                lines.append(pad + "  hosts:")
                for host in entry.hosts {
                    let hostVars = vars[host] ?? []
                    lines.append(pad + "    " + Self.quoted(host) + ":" + (hostVars.isEmpty ? " {}" : ""))
                    for (key, value) in hostVars { lines.append(pad + "      " + key + ": " + (Int(value) != nil ? value : Self.quoted(value))) }
                }
            }
            if !entry.children.isEmpty {
                lines.append(pad + "  children:")
                for child in entry.children { emit(child, indent: indent + 4) }
            }
        }
        for group in groups.map(\.name) where !nested.contains(group) { emit(group, indent: 4) }
        return lines.joined(separator: "\n") + "\n"
    }

    public var ini: String {
        var sections = ["# made by patchctl discover: an Ansible inventory (patchctl -i and ansible-inventory -i read it)"]
        let vars = Dictionary(entries.map { ($0.name, $0.vars) }, uniquingKeysWith: { first, _ in first })
        for group in groups where !group.hosts.isEmpty {
            var lines = ["[\(group.name)]"]
            for host in group.hosts {
                lines.append(([host] + (vars[host] ?? []).map { "\($0.0)=\($0.1)" }).joined(separator: " "))
            }
            sections.append(lines.joined(separator: "\n"))
        }
        for group in groups where !group.children.isEmpty {
            sections.append((["[\(group.name):children]"] + group.children).joined(separator: "\n"))
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// Double-quoted YAML scalars: addresses, names and values never need more than this.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
