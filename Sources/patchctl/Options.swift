import ArgumentParser
import Logging
import Foundation
import PatchCore

/// Which hosts: the inventory and an Ansible-style pattern.
struct InventoryOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("Inventory file (YAML, Ansible format accepted; default PATCHCTL_INVENTORY).", valueName: "file"))
    var inventory: String?

    @Option(help: ArgumentHelp("Host pattern: names, groups, globs, a:b, a:&b, a:!b, ~regex, group[0:2], @file.", valueName: "pattern"))
    var limit: String?

    /// The inventory path: the option, else PATCHCTL_INVENTORY.
    func inventoryPath(environment: [String: String]) throws -> String {
        if let inventory { return inventory }
        if let path = environment["PATCHCTL_INVENTORY"], !path.isEmpty { return path }
        throw ValidationError("Missing expected argument '--inventory <file>' (or set PATCHCTL_INVENTORY)")
    }
}

/// How to reach them.
struct ConnectionFlags: ParsableArguments {
    @Option(help: "Hosts worked on at once.")
    var forks: Int = 50

    @Option(help: ArgumentHelp("OpenSSH known_hosts file (default ~/.ssh/known_hosts, or PATCHCTL_KNOWN_HOSTS).", valueName: "file"))
    var knownHosts: String?

    @Flag(help: "Add unknown host keys to known_hosts (a changed key is still refused).")
    var acceptNewHostKeys = false

    @Option(help: "Login user for hosts whose inventory entry names none.")
    var user: String?

    @Option(help: ArgumentHelp("Private key for hosts whose inventory entry names none.", valueName: "file"))
    var privateKey: String?

    @Option(help: ArgumentHelp("Seconds allowed for connect, handshake and login.", valueName: "seconds"))
    var connectTimeout: Double = 10

    @Option(help: ArgumentHelp("Seconds allowed for each remote command.", valueName: "seconds"))
    var commandTimeout: Double = 600

    @Option(help: ArgumentHelp("Connection setups in flight at once (protects listen queues and bastions).", valueName: "n"))
    var maxConnecting: Int = 100

    @Option(help: ArgumentHelp("Most output, in MiB, each of a command's stdout and stderr may bring back (1-4096); past it the host is an error.",
                               valueName: "MiB"))
    var maxOutput: Int = ConnectionOptions.defaultMaxOutputBytes >> 20

    func validate() throws {
        guard forks >= 1 else { throw ValidationError("--forks must be at least 1") }
        guard connectTimeout > 0 else { throw ValidationError("--connect-timeout must be positive") }
        guard commandTimeout > 0 else { throw ValidationError("--command-timeout must be positive") }
        guard maxConnecting >= 1 else { throw ValidationError("--max-connecting must be at least 1") }
        guard (1...4096).contains(maxOutput) else { throw ValidationError("--max-output must be between 1 and 4096 (MiB)") }
    }

    @Flag(name: .shortAndLong, help: "More detail on stderr: -v per-host progress, -vv everything.")
    var verbose: Int

    func connectionOptions(environment: [String: String]) -> ConnectionOptions {
        var prompt: (@Sendable (String) -> String?)?
        if Terminal.isInteractive {
            prompt = { path in Terminal.readSecret(prompt: "Passphrase for \(path): ") }
        }
        var options = ConnectionOptions(
            knownHostsPath: knownHosts ?? environment["PATCHCTL_KNOWN_HOSTS"] ?? ConnectionOptions.defaultKnownHostsPath(environment: environment),
            acceptNewHostKeys: acceptNewHostKeys, defaultUser: user, defaultPrivateKey: privateKey,
            connectTimeout: connectTimeout, commandTimeout: commandTimeout, maxConnecting: maxConnecting, environment: environment,
            logger: Terminal.logger(verbosity: verbose),
            passphrasePrompt: prompt)
        options.maxOutputBytes = maxOutput << 20
        return options
    }
}

/// Where results go.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("History database (default $XDG_STATE_HOME/patchctl/patchctl.db, or PATCHCTL_DB).", valueName: "file"))
    var db: String?

    @Option(help: "Output format: table, json or ndjson.")
    var output: OutputFormat = .table

    func databasePath(environment: [String: String]) -> String {
        db ?? HistoryStore.defaultPath(environment: environment)
    }
}

extension OutputFormat: ExpressibleByArgument {}
