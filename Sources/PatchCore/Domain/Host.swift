/// One managed endpoint after inventory resolution: every connection setting has been
/// merged from `all`, its groups (parents first) and its own host vars.
public struct Host: Sendable, Hashable {
    public enum Connection: String, Sendable, Hashable, CaseIterable {
        case ssh, winrm, local
    }

    public enum ShellType: String, Sendable, Hashable, CaseIterable {
        case sh, powershell, cmd
    }

    /// OpenSSH's StrictHostKeyChecking: `off` only where the user's own configuration says `no`.
    public enum HostKeyChecking: String, Sendable, Hashable, CaseIterable {
        case strict, acceptNew = "accept-new", off
    }

    /// Inventory name (unique).
    public var name: String
    /// DNS name or IP to connect to; defaults to `name`.
    public var address: String
    public var port: Int
    public var user: String?
    /// Absolute path (relative paths in an inventory resolve against the inventory's folder).
    public var privateKeyFile: String?
    /// Name of an environment variable holding the login password (never the password itself).
    public var passwordEnv: String?
    /// Command whose first stdout line is the login password (run locally, no shell data from the inventory is interpolated).
    public var passwordCommand: String?
    public var become: Bool
    public var becomeUser: String
    public var becomePasswordEnv: String?
    public var becomePasswordCommand: String?
    public var connection: Connection
    public var shellType: ShellType
    /// Bastions to pass through, controller side first (`ProxyJump`); empty when direct.
    public var proxyJump: [JumpHop] = []
    /// patchctl names (`port`, `user`, …) of the connection settings the inventory itself set, at
    /// any level: ssh_config fills only the others (flag > inventory > ssh_config > default).
    public var fromInventory: Set<String> = []
    /// known_hosts file for this host (inventory, or ssh_config's UserKnownHostsFile); nil: the run's.
    public var knownHostsFile: String?
    /// nil: the run's (`--accept-new-host-keys`, else strict).
    public var hostKeyChecking: HostKeyChecking?
    /// What ssh_config adds that the inventory has no key for (empty without ssh_config).
    public var sshClient = SSHClientOptions()
    /// Every group the host belongs to, including ancestors and `all`, sorted.
    public var groups: [String]
    /// All merged variables (including the ones above under their written key), for later features.
    public var vars: [String: InventoryValue]

    public init(
        name: String, address: String? = nil, port: Int = 22, user: String? = nil,
        privateKeyFile: String? = nil, passwordEnv: String? = nil, passwordCommand: String? = nil,
        become: Bool = false, becomeUser: String = "root",
        becomePasswordEnv: String? = nil, becomePasswordCommand: String? = nil,
        connection: Connection = .ssh, shellType: ShellType = .sh,
        groups: [String] = ["all"], vars: [String: InventoryValue] = [:]
    ) {
        self.name = name
        self.address = address ?? name
        self.port = port
        self.user = user
        self.privateKeyFile = privateKeyFile
        self.passwordEnv = passwordEnv
        self.passwordCommand = passwordCommand
        self.become = become
        self.becomeUser = becomeUser
        self.becomePasswordEnv = becomePasswordEnv
        self.becomePasswordCommand = becomePasswordCommand
        self.connection = connection
        self.shellType = shellType
        self.groups = groups
        self.vars = vars
    }
}

extension Host {
    /// Windows endpoints are named by the inventory (as in Ansible): a PowerShell or cmd shell, or
    /// WinRM. Their commands are PowerShell, never POSIX sh, and `become` does not apply.
    public var isWindows: Bool { shellType != .sh || connection == .winrm }
}

/// A YAML scalar or collection as written in an inventory.
public enum InventoryValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([InventoryValue])
    case map([String: InventoryValue])
}
