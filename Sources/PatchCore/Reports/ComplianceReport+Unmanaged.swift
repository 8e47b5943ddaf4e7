import Foundation

extension ComplianceReport {
    /// An address the newest sweep at the report's moment (`patchctl discover`) found that no
    /// host in scope points to: not in scope because nobody manages it, which is what an auditor asks.
    public struct UnmanagedHost: Encodable, Sendable, Equatable {
        public var address: String
        public var name: String?
        public var ssh: [Int]
        public var winrm: [Int]
        public var os: String?
        public var discoveredAt: Date
        public var run: String
        public var status = "not in scope: unmanaged"

        enum CodingKeys: String, CodingKey {
            case address, name, ssh, winrm, os, run, status
            case discoveredAt = "discovered_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(address, forKey: .address)
            try c.encode(name, forKey: .name)
            try c.encode(ssh, forKey: .ssh)
            try c.encode(winrm, forKey: .winrm)
            try c.encode(os, forKey: .os)
            try c.encode(discoveredAt, forKey: .discoveredAt)
            try c.encode(run, forKey: .run)
            try c.encode(status, forKey: .status)
        }
    }

    /// Managed means named by the inventory (every host of it, whatever --limit selects) or, with
    /// no inventory, the address of each host's last scan; a discovered address, or its reverse
    /// name, that matches none of them is unmanaged. Names are not resolved: a report contacts nothing.
    static func unmanaged(_ request: ComplianceRequest, store: HistoryStore, asOf: Date) throws -> [UnmanagedHost] {
        guard let sweep = try store.latestDiscovery(upTo: asOf), !sweep.hosts.isEmpty else { return [] }
        var managed = Set<String>()
        if let path = request.inventory {
            for host in try Inventory.load(path: path, environment: request.environment).hosts {
                managed.insert(host.address)
                managed.insert(host.name)
            }
        } else {
            for (name, address) in try store.lastScannedAddresses() {
                managed.insert(address)
                managed.insert(name)
            }
        }
        return sweep.hosts.filter { !managed.contains($0.address) && !(($0.name).map(managed.contains) ?? false) }.map { host in
            UnmanagedHost(address: host.address, name: host.name, ssh: host.ssh.map(\.port), winrm: host.winrm.filter(\.wsman).map(\.port),
                          os: host.os.map { "\($0.name) \($0.version)" }, discoveredAt: sweep.at, run: sweep.runId)
        }
    }

    static func unmanagedNote(_ hosts: [UnmanagedHost]) -> [String] {
        guard let first = hosts.first else { return [] }
        return ["\(hosts.count) host\(hosts.count == 1 ? "" : "s") found by `patchctl discover` (run \(first.run), \(JSONOutput.timestamp(first.discoveredAt))) "
                + "\(hosts.count == 1 ? "is" : "are") in no inventory: not in scope, unmanaged; `patchctl discover … --against INVENTORY` lists them."]
    }
}

extension TableReport {
    /// The unmanaged hosts after a report's host table.
    static func unmanaged(_ hosts: [ComplianceReport.UnmanagedHost]) -> String {
        guard let first = hosts.first else { return "" }
        var out = line("\nnot in scope: unmanaged (found by discover run \(first.run) on \(JSONOutput.timestamp(first.discoveredAt)), in no inventory):\n")
        out += render(header: ["ADDRESS", "NAME", "SSH", "WINRM", "OS"], rows: hosts.map { host in
            [host.address, host.name ?? "-", host.ssh.isEmpty ? "-" : host.ssh.map(String.init).joined(separator: ","),
             host.winrm.isEmpty ? "-" : host.winrm.map(String.init).joined(separator: ","), host.os ?? "-"]
        }, rightAligned: [])
        return out
    }
}

extension HTMLReport {
    static func unmanagedSection(_ report: ComplianceReport) -> String {
        guard let first = report.unmanaged.first else { return "" }
        var html = "<section id=\"unmanaged\"><h2>Not in scope: unmanaged</h2><p>Found by <code>patchctl discover</code> (run <code>\(escape(first.run))</code>, "
        html += "\(JSONOutput.timestamp(first.discoveredAt))) and named by no inventory: nobody patches these.</p>"
        html += "<table><thead><tr><th>Address</th><th>Name</th><th>SSH</th><th>WinRM</th><th>OS</th></tr></thead><tbody>"
        for host in report.unmanaged {
            html += "<tr><td>\(escape(host.address))</td><td>\(escape(host.name ?? "-"))</td><td>\(host.ssh.map(String.init).joined(separator: ","))</td>"
            html += "<td>\(host.winrm.map(String.init).joined(separator: ","))</td><td>\(escape(host.os ?? "-"))</td></tr>"
        }
        return html + "</tbody></table></section>"
    }
}
