/// The host an ssh_config is asked about, as `ssh [-l user] [-p port] [-o HostName=…] host` would be.
public struct SSHConfigQuery: Sendable, Hashable {
    /// The inventory name: what `Host` patterns and `Match originalhost` see.
    public var host: String
    /// Set by the inventory (its address): ssh_config's HostName is then not used, and
    /// `Match host` sees this.
    public var hostName: String?
    /// Set by the inventory or a flag, like `ssh -l`.
    public var user: String?
    /// Set by the inventory, like `ssh -p`.
    public var port: Int?

    public init(host: String, hostName: String? = nil, user: String? = nil, port: Int? = nil) {
        self.host = host
        self.hostName = hostName
        self.user = user
        self.port = port
    }
}
