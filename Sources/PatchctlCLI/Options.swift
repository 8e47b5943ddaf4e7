import ArgumentParser
import Logging
import Foundation
import PatchCore

/// Which hosts: the inventory and an Ansible-style pattern.
struct InventoryOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp(
        "Inventory: a YAML, INI or JSON file, a dynamic inventory script, or a folder of them; repeat to merge several (default PATCHCTL_INVENTORY).",
        valueName: "source"))
    var inventory: [String] = []

    @Option(name: [.customShort("l"), .long],
            help: ArgumentHelp("Host pattern: names, groups, globs, a:b, a:&b, a:!b, ~regex, group[0:2], @file.", valueName: "pattern"))
    var limit: String?

    @Flag(help: "Print the targeted hosts (address, port, user, jump hosts, transport) and stop; nothing is contacted.")
    var listHosts = false

    @Option(help: ArgumentHelp(
        "Only this controller's share of the targeted hosts, when N controllers split one inventory: K of N (1-based), "
            + "by rendezvous hashing of host names, the same on every machine.",
        valueName: "K/N"))
    var shard: String?

    func validate() throws {
        if let shard {
            do { _ = try Shard(parsing: shard) } catch { throw ValidationError(error.description) }
        }
    }

    /// The parsed `--shard` (validated).
    var shardValue: Shard? { shard.flatMap { try? Shard(parsing: $0) } }

    /// The inventory sources: the options in order, else PATCHCTL_INVENTORY (or the configuration's `inventory`).
    func inventoryPaths(environment: [String: String]) throws -> [String] {
        if !inventory.isEmpty { return inventory }
        if let paths = Self.configured(environment: environment) { return paths }
        throw ValidationError("Missing expected argument '--inventory <source>' (or set PATCHCTL_INVENTORY, or inventory: in the configuration)")
    }

    /// PATCHCTL_INVENTORY: one source, or several on lines of their own (as a configuration's list arrives).
    static func configured(environment: [String: String]) -> [String]? {
        let paths = (environment["PATCHCTL_INVENTORY"] ?? "").split(separator: "\n").map(String.init)
        return paths.isEmpty ? nil : paths
    }

    /// The one inventory a report is scoped to by default: the configured one, when it is one.
    static func single(environment: [String: String]) -> String? {
        configured(environment: environment).flatMap { $0.count == 1 ? $0[0] : nil }
    }

    /// The sources as one line, for history.
    func inventoryDescription(environment: [String: String]) throws -> String {
        try inventoryPaths(environment: environment).joined(separator: ", ")
    }
}

/// How to reach them.
struct ConnectionFlags: ParsableArguments {
    @Option(name: [.customShort("f"), .customLong("forks")], help: ArgumentHelp("Hosts worked on at once (default 50, or PATCHCTL_FORKS).", valueName: "n"))
    var forksFlag: Int?

    var forks: Int { forksFlag ?? Settings.integer("PATCHCTL_FORKS") ?? Self.defaultForks }

    /// Built-in defaults, also what `config show` reports when nothing sets them.
    static let defaultForks = 50
    static let defaultMaxConnecting = 100
    static let defaultConnectTimeout = 10.0

    @Option(help: ArgumentHelp("OpenSSH known_hosts file (default ~/.ssh/known_hosts, or PATCHCTL_KNOWN_HOSTS).", valueName: "file"))
    var knownHosts: String?

    @Flag(help: "Add unknown host keys to known_hosts (a changed key is still refused).")
    var acceptNewHostKeys = false

    @Option(name: [.customShort("u"), .customLong("user")], help: ArgumentHelp("Login user for hosts whose inventory entry names none (default PATCHCTL_USER).", valueName: "user"))
    var userFlag: String?

    var user: String? { userFlag ?? Settings.string("PATCHCTL_USER") }

    @Flag(name: [.customShort("b"), .long],
          help: "Run every remote command through sudo (become), whatever the inventory says; become_user and its password as the inventory gives them.")
    var become = false

    @Option(name: .customLong("private-key"), help: ArgumentHelp("Private key for hosts whose inventory entry names none (default PATCHCTL_PRIVATE_KEY).", valueName: "file"))
    var privateKeyFlag: String?

    var privateKey: String? { privateKeyFlag ?? Settings.string("PATCHCTL_PRIVATE_KEY") }

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp(
        "Seconds allowed for connect, handshake and login (default PATCHCTL_CONNECT_TIMEOUT, else ssh_config's ConnectTimeout, else 10).", valueName: "seconds"))
    var connectTimeoutFlag: Double?

    var connectTimeout: Double? { connectTimeoutFlag ?? Settings.seconds("PATCHCTL_CONNECT_TIMEOUT") }

    @Option(name: .customLong("ssh-config"), help: ArgumentHelp(
        "OpenSSH client configuration applied to SSH hosts (default PATCHCTL_SSH_CONFIG, else ~/.ssh/config if it exists; 'none' turns it off).",
        valueName: "file"))
    var sshConfigFlag: String?

    var sshConfig: String? { sshConfigFlag ?? Settings.string("PATCHCTL_SSH_CONFIG") }

    @Option(name: .customLong("command-timeout"), help: ArgumentHelp(
        "Seconds allowed for each remote command (default PATCHCTL_COMMAND_TIMEOUT, else 120 for scan and ping and 600 for exec, install and "
            + "deploy, whose package installs have the policy's install_timeout).", valueName: "seconds"))
    var commandTimeoutFlag: Double?

    var commandTimeout: Double? { commandTimeoutFlag ?? Settings.seconds("PATCHCTL_COMMAND_TIMEOUT") }

    /// A scan's commands list packages: a host that has not answered in two minutes is hung, and
    /// must not hold a cron job's JSON for ten.
    static let scanCommandTimeout = 120.0
    /// exec runs what the operator asked for, and deploy and install wait on package managers.
    static let commandTimeout = 600.0

    @Option(name: .customLong("max-connecting"), help: ArgumentHelp(
        "Connection setups in flight at once, to protect listen queues and bastions (default 100, or PATCHCTL_MAX_CONNECTING).", valueName: "n"))
    var maxConnectingFlag: Int?

    var maxConnecting: Int { maxConnectingFlag ?? Settings.integer("PATCHCTL_MAX_CONNECTING") ?? Self.defaultMaxConnecting }

    /// Documented ranges (docs/policies.md "Ranges of numbers"); timeouts in seconds, above 0.
    static let forksRange = 1...10_000
    static let maxConnectingRange = 1...10_000
    static let maxConnectTimeout = 3600.0
    static let maxCommandTimeout = 7 * 86_400.0
    static let maxOutputRange = 1...4096

    @Option(name: .customLong("max-output"), help: ArgumentHelp(
        "Most output, in MiB, each of a command's stdout and stderr may bring back (1-4096; default \(ConnectionOptions.defaultMaxOutputBytes >> 20), "
            + "or PATCHCTL_MAX_OUTPUT); past it the host is an error.",
        valueName: "MiB"))
    var maxOutputFlag: Int?

    var maxOutput: Int { maxOutputFlag ?? Settings.integer("PATCHCTL_MAX_OUTPUT") ?? ConnectionOptions.defaultMaxOutputBytes >> 20 }

    func validate() throws {
        try Self.check(forks, in: Self.forksRange, flag: "--forks")
        if let connectTimeout { try Self.checkSeconds(connectTimeout, upTo: Self.maxConnectTimeout, flag: "--connect-timeout") }
        if let sshConfig, sshConfig != "none", !FileManager.default.fileExists(atPath: sshConfig) {
            throw ValidationError("--ssh-config \(sshConfig): no such file ('none' turns ssh_config off)")
        }
        if let commandTimeout { try Self.checkSeconds(commandTimeout, upTo: Self.maxCommandTimeout, flag: "--command-timeout") }
        try Self.check(maxConnecting, in: Self.maxConnectingRange, flag: "--max-connecting")
        try Self.check(maxOutput, in: Self.maxOutputRange, flag: "--max-output")
    }

    static func check(_ value: Int, in range: ClosedRange<Int>, flag: String) throws {
        guard range.contains(value) else {
            throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound), not \(value)")
        }
    }

    /// Above 0 and at most `limit`; `inf` and `nan`, which Double(_:) accepts, are refused.
    static func checkSeconds(_ value: Double, upTo limit: Double, flag: String) throws {
        guard value.isFinite, value > 0, value <= limit else {
            throw ValidationError("\(flag) must be a number of seconds above 0 and at most \(Int(limit)), not \(value)")
        }
    }

    @Flag(name: .shortAndLong, help: "More detail on stderr: -v per-host progress, -vv everything.")
    var verbose: Int

    @Option(name: .customLong("log-file"), help: ArgumentHelp(
        "Also log to this file, one JSON object per line (run_id, host, status...), appended; info and above, more with -v (default PATCHCTL_LOG_FILE).",
        valueName: "file"))
    var logFileFlag: String?

    var logFile: String? { logFileFlag ?? Settings.string("PATCHCTL_LOG_FILE") }

    @Flag(help: "Also log to journald (fields PATCHCTL_RUN_ID, PATCHCTL_HOST, PATCHCTL_STATUS...) or, without it, to syslog; info and above.")
    var syslog = false

    /// `defaultCommandTimeout`: the command's own default, when --command-timeout is not given.
    func connectionOptions(environment: [String: String], defaultCommandTimeout: Double = Self.commandTimeout) -> ConnectionOptions {
        var prompt: (@Sendable (String) -> String?)?
        if Terminal.isInteractive {
            prompt = { path in Terminal.readSecret(prompt: "Passphrase for \(path): ") }
        }
        var options = ConnectionOptions(
            knownHostsPath: knownHosts ?? environment["PATCHCTL_KNOWN_HOSTS"] ?? ConnectionOptions.defaultKnownHostsPath(environment: environment),
            acceptNewHostKeys: acceptNewHostKeys, defaultUser: user, defaultPrivateKey: privateKey,
            connectTimeout: connectTimeout ?? Self.defaultConnectTimeout, commandTimeout: commandTimeout ?? defaultCommandTimeout, maxConnecting: maxConnecting, environment: environment,
            logger: Terminal.logger(verbosity: verbose, logFile: logFile, syslog: syslog, environment: environment),
            passphrasePrompt: prompt)
        // A flag, a variable or a configuration file: each is chosen over ssh_config's ConnectTimeout.
        options.connectTimeoutFromFlag = connectTimeout != nil
        options.sshConfigDisabled = sshConfig == "none"
        if let path = sshConfig == "none" ? nil : sshConfig ?? SSHClientConfig.defaultPath(environment: environment) {
            options.sshConfig = SSHClientConfig(path: path, environment: environment)
        }
        options.maxOutputBytes = maxOutput << 20
        options.become = become
        options.knownHostsPathIsExplicit = knownHosts != nil || environment["PATCHCTL_KNOWN_HOSTS"] != nil
        return options
    }
}

/// `--db`: the history database, for every command that reads or writes it.
struct DatabaseOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "History database (default PATCHCTL_DB; as root $STATE_DIRECTORY/patchctl.db under systemd, else /var/lib/patchctl/patchctl.db; "
            + "otherwise $XDG_STATE_HOME/patchctl/patchctl.db).", valueName: "file"))
    var db: String?

    func path(environment: [String: String]) -> String {
        db ?? HistoryStore.defaultPath(environment: environment)
    }
}

/// Where results go.
struct OutputOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOption

    @Option(name: .customLong("output"), help: ArgumentHelp("Output format: table, json or ndjson (default table, or PATCHCTL_OUTPUT).", valueName: "format"))
    var outputFlag: OutputFormat?

    var output: OutputFormat { outputFlag ?? Settings.string("PATCHCTL_OUTPUT").flatMap(OutputFormat.init(rawValue:)) ?? .table }

    func databasePath(environment: [String: String]) -> String {
        database.path(environment: environment)
    }
}

extension OutputFormat: ExpressibleByArgument {}

/// `--controller` on commands that record runs: the name recorded with each one.
struct ControllerOption: ParsableArguments {
    @Option(help: ArgumentHelp(
        "This controller's name, recorded with each run so that several controllers can keep one history "
            + "(default PATCHCTL_CONTROLLER; the host name is always recorded too).", valueName: "name"))
    var controller: String?

    func validate() throws {
        try ControllerOption.check(controller)
    }

    /// Both `--controller` flags take the same names.
    static func check(_ controller: String?) throws {
        if let controller, !RunController.isValidName(controller) {
            throw ValidationError("--controller '\(TerminalText.neutralised(controller))': \(RunController.nameRule)")
        }
    }

    func identity(environment: [String: String]) throws -> RunController {
        try RunController.local(name: controller, environment: environment)
    }
}

/// `--controller` on commands that read history: only the runs one controller recorded.
struct ControllerFilter: ParsableArguments {
    @Option(help: ArgumentHelp("Only runs recorded by this controller (its name, or its host name when it has none). Default: every controller.",
                               valueName: "name"))
    var controller: String?

    func validate() throws {
        try ControllerOption.check(controller)
    }
}
