/// The ssh_config settings a host carries beyond the inventory's keys (see `Host.sshClient`).
public struct SSHClientOptions: Sendable, Hashable {
    /// IdentityFile, expanded, in order; empty: the inventory's key, or OpenSSH's default identities.
    public var identityFiles: [String] = []
    /// IdentitiesOnly yes: the agent is not used.
    public var identitiesOnly = false
    /// IdentityAgent: nil means SSH_AUTH_SOCK; `none` means no agent; else the socket path.
    public var identityAgent: String?
    /// HostKeyAlgorithms, reduced to what libssh2 verifies, in the configured order.
    public var hostKeyAlgorithms: [String]?
    public var connectTimeout: Double?
    public var serverAliveInterval: Int?
    public var serverAliveCountMax: Int?
    /// The ssh_config file these came from, for `-vv`.
    public var configFile: String?
    /// Where `StrictHostKeyChecking no` was written, for the run's warning.
    public var hostKeyCheckingOffAt: String?

    public init() {}
}
