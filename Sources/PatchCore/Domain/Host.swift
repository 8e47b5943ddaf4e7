/// One managed endpoint after inventory resolution: every connection setting has been
/// merged from `all`, its groups (parents first) and its own host vars.
public struct Host: Sendable, Hashable {
    public enum Connection: String, Sendable, Hashable, CaseIterable {
        /// `openssh`: the system OpenSSH client (per host, never the default; see OpenSSHSession).
        case ssh, winrm, local, openssh
    }

    public enum ShellType: String, Sendable, Hashable, CaseIterable {
        case sh, powershell, cmd
    }

    /// OpenSSH's StrictHostKeyChecking for this host: `strict` refuses unknown and changed keys,
    /// `acceptNew` records unknown ones, `off` accepts any key (only when the user asked, with a warning).
    public enum HostKeyChecking: String, Sendable, Hashable, CaseIterable {
        case strict
        case acceptNew = "accept-new"
        case off

        /// OpenSSH's spellings (`ask` cannot ask anyone in a batch run: it is strict).
        public init?(sshValue: String) {
            switch sshValue.lowercased() {
            case "yes", "ask", "strict", "true": self = .strict
            case "accept-new", "accept_new": self = .acceptNew
            case "no", "off", "false": self = .off
            default: return nil
            }
        }
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
    /// known_hosts file for this host (`UserKnownHostsFile`); nil: the run's `--known-hosts`.
    public var knownHostsFile: String?
    /// nil: the run's default (strict, or accept-new with `--accept-new-host-keys`).
    public var hostKeyChecking: HostKeyChecking?
    /// patchctl names (`port`, `user`, …) of the connection settings the inventory itself set, at
    /// any level: ssh_config fills only the others (flag > inventory > ssh_config > default).
    public var fromInventory: Set<String> = []
    /// Every group the host belongs to, including ancestors and `all`, sorted.
    public var groups: [String]
    /// All merged variables (including the ones above under their written key), for later features.
    public var vars: [String: InventoryValue]
    /// What ssh_config adds that the inventory has no key for (empty without ssh_config).
    public var sshClient = SSHClientOptions()

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

    /// The jump chain as OpenSSH writes it (`user@bastion:port`), controller side first; empty when direct.
    public var via: [String] { proxyJump.map(\.description) }
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
