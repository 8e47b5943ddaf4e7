import Yams

/// The inventory variables that become `Host` fields. Each has patchctl's own name and the
/// Ansible names it also accepts, so an Ansible inventory loads unchanged.
enum ConnectionKey: String, CaseIterable, Sendable {
    case address
    case port
    case user
    case privateKeyFile = "private_key_file"
    case become
    case becomeUser = "become_user"
    case connection
    case shellType = "shell_type"
    case passwordEnv = "password_env"
    case passwordCommand = "password_command"
    case becomePasswordEnv = "become_password_env"
    case becomePasswordCommand = "become_password_command"
    case becomeMethod = "become_method"
    case proxyJump = "proxy_jump"
    case knownHostsFile = "known_hosts_file"
    case hostKeyChecking = "host_key_checking"
    /// Ansible's extra ssh arguments: read like ssh's command line (see SSHArguments.swift).
    case sshCommonArgs = "ansible_ssh_common_args"
    case sshExtraArgs = "ansible_ssh_extra_args"

    /// Ansible's names, in the order they are consulted when several are set at the same level
    /// (patchctl's own name always comes first).
    var aliases: [String] {
        switch self {
        case .address: ["ansible_host", "ansible_ssh_host"]
        case .port: ["ansible_port", "ansible_ssh_port"]
        case .user: ["ansible_user", "ansible_ssh_user"]
        case .privateKeyFile: ["ansible_ssh_private_key_file", "ansible_private_key_file"]
        case .become: ["ansible_become"]
        case .becomeUser: ["ansible_become_user"]
        case .connection: ["ansible_connection"]
        case .shellType: ["ansible_shell_type"]
        case .becomeMethod: ["ansible_become_method"]
        case .hostKeyChecking: ["ansible_host_key_checking", "ansible_ssh_host_key_checking"]
        case .passwordEnv, .passwordCommand, .becomePasswordEnv, .becomePasswordCommand,
             .proxyJump, .knownHostsFile, .sshCommonArgs, .sshExtraArgs: []
        }
    }

    /// Own name first, then aliases: at one level the first one present wins.
    var names: [String] { [rawValue] + aliases }

    static let byName: [String: ConnectionKey] = {
        var table: [String: ConnectionKey] = [:]
        for key in allCases {
            for name in key.names { table[name] = key }
        }
        return table
    }()

    // MARK: Other names the loader knows

    /// Plain-text secrets: refused so that an inventory, which ends up in logs and reports,
    /// never holds a password. Value: the patchctl keys to use instead.
    static let plainTextSecrets: [String: (env: String, command: String)] = {
        let login = (env: ConnectionKey.passwordEnv.rawValue, command: ConnectionKey.passwordCommand.rawValue)
        let become = (env: ConnectionKey.becomePasswordEnv.rawValue, command: ConnectionKey.becomePasswordCommand.rawValue)
        return [
            "password": login, "ansible_password": login, "ansible_ssh_pass": login,
            "ansible_ssh_password": login, "ansible_winrm_password": login,
            "become_password": become, "ansible_become_password": become, "ansible_become_pass": become,
            "ansible_sudo_pass": become, "ansible_sudo_password": become, "ansible_su_pass": become,
        ]
    }()

    /// Sets the group's merge priority (Ansible's `ansible_group_priority`), not a variable.
    static let groupPriority = "ansible_group_priority"

    /// Ansible connection variables that are not `ConnectionKey`s, each honoured elsewhere,
    /// harmless, or checked by `problem(withOther:value:)` (docs/inventory.md "Other Ansible connection variables").
    static let otherAnsibleNames: Set<String> = [
        groupPriority, "ansible_python_interpreter", "ansible_shell_executable",
        "ansible_become_exe", "ansible_become_flags",
        "ansible_scp_extra_args", "ansible_sftp_extra_args", "ansible_ssh_executable", "ansible_ssh_pipelining",
        "ansible_pipelining", "ansible_timeout", "ansible_ssh_timeout", "ansible_ssh_args",
        "ansible_winrm_transport", "ansible_winrm_scheme",
        "ansible_winrm_path", "ansible_winrm_server_cert_validation", "ansible_winrm_kerberos_delegation",
        "ansible_winrm_operation_timeout_sec", "ansible_winrm_read_timeout_sec", "ansible_network_os",
        "ansible_psrp_auth", "ansible_psrp_protocol", "ansible_psrp_cert_validation",
    ]

    /// Why a value of one of `otherAnsibleNames` cannot be honoured, nil when it is harmless or
    /// honoured: Ansible would act on it, and silently doing otherwise is worse than refusing.
    static func problem(withOther name: String, value node: Node) -> InventoryProblem? {
        let text = node.scalar?.string ?? ""
        let empty = YAMLNodes.isNull(node) || text.trimmingCharacters(in: .whitespaces).isEmpty
        switch name {
        case "ansible_shell_executable":
            let shell = String(text.split(separator: "/").last ?? "")
            return empty || shellNames[shell] == .sh ? nil : InventoryProblem(
                "'\(name)' is '\(text)': patchctl runs its commands through a POSIX sh; set it to /bin/sh or leave it out")
        case "ansible_become_exe":
            return empty || text == "sudo" || text.hasSuffix("/sudo") ? nil : InventoryProblem(
                "'\(name)' is '\(text)': patchctl becomes root through sudo only (found in PATH); leave it out")
        case "ansible_become_flags":
            let flags = text.split(separator: " ")
            return flags.allSatisfy({ ["-H", "-S", "-n"].contains($0) }) ? nil : InventoryProblem(
                "'\(name)' is '\(text)': patchctl runs sudo with its own flags (-H, -S and -n are what it does anyway); leave it out")
        case "ansible_scp_extra_args", "ansible_sftp_extra_args":
            return empty ? nil : InventoryProblem(
                "'\(name)' cannot apply: patchctl copies files over its own SSH session, not with scp or sftp; leave it out")
        case "ansible_ssh_args":
            return empty ? nil : InventoryProblem(
                "'\(name)' replaces Ansible's ssh defaults, which patchctl's own SSH client has no use for; put ProxyJump, Port, User, IdentityFile, UserKnownHostsFile or StrictHostKeyChecking in ansible_ssh_common_args")
        case "ansible_ssh_executable":
            return empty || text == "ssh" ? nil : InventoryProblem(
                "'\(name)' is '\(text)': patchctl connects with its own SSH client, not an ssh program; leave it out")
        case "ansible_timeout", "ansible_ssh_timeout":
            return InventoryProblem("'\(name)' is not read per host: use patchctl's --connect-timeout")
        case "ansible_network_os":
            return InventoryProblem("'\(name)': network devices are not managed by patchctl (it patches servers and workstations)")
        case "ansible_winrm_path":
            return empty || text == "/wsman" ? nil : InventoryProblem("'\(name)' is '\(text)': patchctl's WinRM client uses /wsman only")
        case "ansible_winrm_kerberos_delegation":
            return empty || node.bool == false ? nil : InventoryProblem("'\(name)': Kerberos is not supported by patchctl's WinRM client (ntlm or basic)")
        case "ansible_winrm_operation_timeout_sec", "ansible_winrm_read_timeout_sec":
            return InventoryProblem("'\(name)' is not read per host: use patchctl's --command-timeout and --connect-timeout")
        case "ansible_psrp_auth", "ansible_psrp_protocol", "ansible_psrp_cert_validation":
            let instead = ["ansible_psrp_auth": "ansible_winrm_transport", "ansible_psrp_protocol": "ansible_winrm_scheme",
                           "ansible_psrp_cert_validation": "ansible_winrm_server_cert_validation"][name] ?? ""
            return InventoryProblem("'\(name)' is not read: patchctl reaches psrp hosts over WinRM, set '\(instead)' instead")
        default:
            // ansible_python_interpreter and pipelining: patchctl runs no Python and copies no
            // modules, so they change nothing. ansible_winrm_scheme, _transport and
            // _server_cert_validation are read by WinRMSession.
            return nil
        }
    }

    /// Every name a typo check compares against.
    static let knownNames: [String] = {
        var names = allCases.flatMap(\.names)
        names += plainTextSecrets.keys.sorted()
        names += otherAnsibleNames.sorted()
        return names
    }()

    /// The known name `name` is probably a misspelling of, if any. Distance 2 (1 for names shorter
    /// than 8 characters, where two edits turn `host` into `port`); plain plurals of short names
    /// (`users`, `ports`) are ordinary user variables.
    static func likelyTypo(of name: String) -> String? {
        guard byName[name] == nil, plainTextSecrets[name] == nil, !otherAnsibleNames.contains(name) else {
            return nil
        }
        var best: (name: String, distance: Int)?
        for known in knownNames {
            let limit = known.count >= 8 ? 2 : 1
            if known.count < 8, name == known + "s" { continue }
            if abs(known.count - name.count) > limit { continue }  // cheap pre-check
            let distance = EditDistance.between(name, known)
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (known, distance)
            }
        }
        return best?.name
    }
}

/// A validated value of a connection key at one level of the inventory.
enum ConnectionSetting: Sendable, Equatable {
    /// Written as null: falls back to the default, whatever less specific levels say.
    case unset
    case text(String)
    case number(Int)
    case flag(Bool)
    case connection(Host.Connection)
    case shell(Host.ShellType)
    case jumps([JumpHop])
    case hostKeyChecking(Host.HostKeyChecking)
    case sshArguments(SSHArguments)
}

/// What relative paths and `~` resolve against while validating values.
struct ValueContext: Sendable {
    var baseDirectory: String
    var environment: [String: String]
}

extension ConnectionKey {
    static let connectionNames: [String: Host.Connection] = [
        "ssh": .ssh, "winrm": .winrm, "local": .local, "openssh": .openssh,
        // Ansible's other SSH implementations and its PowerShell-remoting transport.
        "paramiko": .ssh, "paramiko_ssh": .ssh, "smart": .ssh, "psrp": .winrm,
    ]

    /// POSIX-compatible shells run patchctl's `sh` commands unchanged; csh and fish do not.
    static let shellNames: [String: Host.ShellType] = [
        "sh": .sh, "bash": .sh, "dash": .sh, "ash": .sh, "ksh": .sh, "zsh": .sh, "busybox": .sh,
        "powershell": .powershell, "pwsh": .powershell, "cmd": .cmd,
    ]

    /// Ansible's `boolean()` spellings.
    static let booleanWords: [String: Bool] = [
        "yes": true, "on": true, "true": true, "y": true, "t": true, "1": true,
        "no": false, "off": false, "false": false, "n": false, "f": false, "0": false,
    ]

    /// Checks `node`, written under `name`, and converts it; the error is the message only,
    /// the caller adds the position.
    func setting(from node: Node, name: String, context: ValueContext) -> Result<ConnectionSetting, InventoryProblem> {
        if self == .proxyJump, case let .sequence(items) = node {
            var hops: [JumpHop] = []
            for item in items {
                guard case let .scalar(hop) = item, YAMLNodes.tag(of: item) == .str else {
                    return .failure(InventoryProblem("'\(name)' must be \(expectation), found \(YAMLNodes.kind(of: item)) in the list"))
                }
                do {
                    hops += try JumpHop.parseList(hop.string)
                } catch {
                    return .failure(InventoryProblem("'\(name)': \(error.description)"))
                }
            }
            return .success(.jumps(hops))
        }
        guard case let .scalar(scalar) = node else {
            return .failure(InventoryProblem("'\(name)' must be \(expectation), found \(YAMLNodes.kind(of: node))"))
        }
        let tag = YAMLNodes.tag(of: node)
        if tag == .null { return .success(.unset) }
        let text = scalar.string

        switch self {
        case .port:
            // Ansible accepts a quoted number; YAML 1.1 also reads 0x16 and 0o26 as integers.
            let number = tag == .int ? node.int : (tag == .str ? Int(text) : nil)
            guard let number, (1...65_535).contains(number) else {
                return .failure(InventoryProblem("'\(name)' must be \(expectation), found '\(text)'"))
            }
            return .success(.number(number))
        case .become:
            if tag == .bool, let value = node.bool { return .success(.flag(value)) }
            if let value = Self.booleanWords[text.lowercased()], tag == .str || tag == .int {
                return .success(.flag(value))
            }
            return .failure(InventoryProblem("'\(name)' must be \(expectation), found '\(text)'"))
        case .connection:
            guard let value = Self.connectionNames[text] else {
                return .failure(InventoryProblem("'\(name)' must be \(expectation), found '\(text)'"))
            }
            return .success(.connection(value))
        case .shellType:
            guard let value = Self.shellNames[text] else {
                return .failure(InventoryProblem("'\(name)' must be \(expectation), found '\(text)'"))
            }
            return .success(.shell(value))
        case .passwordEnv, .becomePasswordEnv:
            guard Self.isEnvironmentName(text) else {
                return .failure(InventoryProblem(
                    "'\(name)' must be the name of an environment variable (letters, digits and '_', e.g. PATCHCTL_PASSWORD), found '\(Self.redacted(text))'; never the password itself"))
            }
            return .success(.text(text))
        case .privateKeyFile:
            guard !text.isEmpty else { return .failure(InventoryProblem("'\(name)' must not be empty")) }
            return Self.resolvePath(text, name: name, context: context).map { .text($0) }
        case .address, .user, .becomeUser, .passwordCommand, .becomePasswordCommand:
            guard !text.isEmpty else { return .failure(InventoryProblem("'\(name)' must not be empty")) }
            return .success(.text(text))
        case .becomeMethod:
            guard text == "sudo" else {
                return .failure(InventoryProblem(
                    "'\(name)' is '\(text)', which patchctl does not do: it becomes root through sudo only (su needs the root password typed on a terminal, doas has no way to take a password on stdin); use sudo, or leave it out"))
            }
            return .success(.text(text))
        case .proxyJump:
            do {
                return .success(.jumps(try JumpHop.parseList(text)))
            } catch {
                return .failure(InventoryProblem("'\(name)': \(error.description)"))
            }
        case .knownHostsFile:
            guard !text.isEmpty else { return .failure(InventoryProblem("'\(name)' must not be empty")) }
            return Self.resolvePath(text, name: name, context: context).map { .text($0) }
        case .hostKeyChecking:
            if tag == .bool, let value = node.bool { return .success(.hostKeyChecking(value ? .strict : .off)) }
            if let value = Self.booleanWords[text.lowercased()], tag == .str || tag == .int {
                return .success(.hostKeyChecking(value ? .strict : .off))
            }
            if let value = Host.HostKeyChecking(sshValue: text) { return .success(.hostKeyChecking(value)) }
            return .failure(InventoryProblem("'\(name)' must be \(expectation), found '\(text)'"))
        case .sshCommonArgs, .sshExtraArgs:
            return SSHArguments.parse(text, name: name, context: context).map { .sshArguments($0) }
        }
    }

    /// What a value must look like, for error messages.
    var expectation: String {
        switch self {
        case .port: "an integer from 1 to 65535"
        case .become: "true or false (yes/no and on/off are accepted too)"
        case .connection: "one of ssh, winrm, local, openssh (Ansible's paramiko and smart mean ssh, psrp means winrm)"
        case .shellType: "one of sh, powershell, cmd (bash, zsh, ksh, dash and ash count as sh)"
        case .passwordEnv, .becomePasswordEnv: "the name of an environment variable"
        case .privateKeyFile: "a file path"
        case .address, .user, .becomeUser, .passwordCommand, .becomePasswordCommand: "a string"
        case .becomeMethod: "sudo"
        case .proxyJump: "[user@]host[:port], several separated by commas, or a list of them"
        case .knownHostsFile: "a file path"
        case .hostKeyChecking: "true, false, or one of yes, accept-new, no (OpenSSH's StrictHostKeyChecking)"
        case .sshCommonArgs, .sshExtraArgs: "ssh command-line options"
        }
    }

    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else {
            return false
        }
        return text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    /// A value that fails the environment-name check may be a pasted password: never echo it whole.
    private static func redacted(_ text: String) -> String {
        text.count <= 2 ? text : String(text.prefix(2)) + "…"
    }

    /// `~/x` expands with HOME from the given environment; a relative path is taken from the
    /// inventory's folder so the inventory works from any working directory.
    static func resolvePath(_ path: String, name: String, context: ValueContext) -> Result<String, InventoryProblem> {
        var path = path
        if path == "~" || path.hasPrefix("~/") {
            guard let home = context.environment["HOME"], !home.isEmpty else {
                return .failure(InventoryProblem("'\(name)' starts with '~' but HOME is not set"))
            }
            path = home + path.dropFirst()
        } else if path.hasPrefix("~") {
            return .failure(InventoryProblem("'\(name)': '~user' paths are not supported; write the full path"))
        }
        if !path.hasPrefix("/") {
            path = context.baseDirectory + "/" + path
        }
        return .success(normalized(path))
    }

    /// Removes `.`, `..` and doubled slashes without touching the file system (no symlink resolution).
    static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(part)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}

/// A validation message without a position; the parser attaches the node's line and column.
struct InventoryProblem: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}
