/// One line of `--list-hosts`: how patchctl would reach a targeted host, worked out from the
/// inventory alone (nothing is contacted).
public struct HostListing: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// The login user: the inventory's, else `--user`, else the local user (as ssh does).
    public var user: String
    /// Jump hosts, controller side first (`user@bastion:port`); empty when direct.
    public var via: [String]
    /// How the host is reached: ssh, winrm or local.
    public var transport: String

    /// `{"hosts": [...]}`, the JSON document of `--list-hosts --output json`.
    public struct Document: Codable, Sendable {
        public var hosts: [HostListing]

        public init(hosts: [HostListing]) { self.hosts = hosts }
    }

    public static func of(_ hosts: [Host], defaultUser: String?, environment: [String: String]) -> [HostListing] {
        hosts.map { host in
            HostListing(name: host.name, address: host.address, port: host.port,
                        user: host.user ?? defaultUser ?? environment["USER"] ?? "root",
                        via: host.via, transport: host.connection.rawValue)
        }
    }
}

extension TableReport {
    public static func hostListing(_ hosts: [HostListing]) -> String {
        let rows = hosts.map { host in
            [host.name, host.address, String(host.port), host.user, host.via.isEmpty ? "-" : host.via.joined(separator: ","), host.transport]
        }
        return render(header: ["HOST", "ADDRESS", "PORT", "USER", "VIA", "TRANSPORT"], rows: rows, rightAligned: [2])
            + line("\(hosts.count) host\(hosts.count == 1 ? "" : "s")\n")
    }
}
