import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The configuration: files, PATCHCTL_* variables and defaults.",
            subcommands: [Show.self])

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Print every setting's effective value and where it came from (a file and line, a variable, or the default).",
                discussion: """
                    Layers, each overriding the one before: /etc/patchctl/config.yml (PATCHCTL_SYSTEM_CONFIG), \
                    $XDG_CONFIG_HOME/patchctl/config.yml (PATCHCTL_CONFIG), PATCHCTL_* variables; a command's flags override them all.
                    """)

            @Option(name: [.customLong("format"), .customLong("output")], help: ArgumentHelp("Output format: table or json.", valueName: "format"))
            var format: Format = .table

            enum Format: String, CaseIterable, ExpressibleByArgument { case table, json }

            @OptionGroup var display: DisplayOption

            func run() async throws {
                let document = ConfigShow.Document(Settings.config, environment: Settings.environment)
                if format == .json { return Terminal.writeDocument(try JSONOutput.encode(document, pretty: true) + "\n") }
                Terminal.write(document.table)
            }
        }
    }
}

/// `config show`'s document: the files looked at, then one entry per setting.
enum ConfigShow {
    struct Document: Encodable {
        struct File: Encodable {
            var path: String
            var found: Bool
        }

        struct Entry: Encodable {
            var key: String
            var variable: String?
            /// Nil: not set, and no default (the inventory, a private key...).
            var value: String?
            /// `file`, `environment` or `default`.
            var origin: String
            /// `/etc/patchctl/config.yml:3`, `$PATCHCTL_FORKS`, `default (...)`.
            var source: String
            var summary: String
        }

        var files: [File]
        var settings: [Entry]
        var notify: [String]

        init(_ config: PatchctlConfig, environment: [String: String]) {
            files = config.files.map { File(path: $0.path, found: $0.found) }
            notify = config.notifiers.map(\.label)
            settings = ConfigKey.all.map { key in
                if let setting = config.settings[key.name] {
                    let origin = if case .environment = setting.source { "environment" } else { "file" }
                    let value = key.name == "notify" ? config.notifiers.map(\.label).joined(separator: "; ") : setting.value
                    return Entry(key: key.name, variable: key.variable, value: value.replacingOccurrences(of: "\n", with: ", "),
                                 origin: origin, source: setting.source.description, summary: key.summary)
                }
                let (value, detail) = ConfigShow.builtIn(key.name, environment: environment)
                return Entry(key: key.name, variable: key.variable, value: value, origin: "default",
                             source: PatchctlConfig.Source.builtIn(detail: detail).description, summary: key.summary)
            }
        }

        var table: String {
            var lines = ["Configuration files (each overrides the one before; PATCHCTL_* variables override them, flags override all):"]
            for file in files { lines.append("  \(file.path)\(file.found ? "" : "  (not found)")") }
            lines.append("")
            let rows = [["KEY", "VALUE", "SOURCE"]] + settings.map { [$0.key, $0.value ?? "-", $0.source] }
            let widths = (0..<2).map { column in min(rows.map { $0[column].count }.max() ?? 0, column == 1 ? 48 : 20) }
            for row in rows {
                lines.append(row[0].padding(toLength: max(widths[0], row[0].count), withPad: " ", startingAt: 0) + "  "
                    + row[1].padding(toLength: max(widths[1], row[1].count), withPad: " ", startingAt: 0) + "  " + row[2])
            }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// What a command uses when nothing sets `key`, and why where it depends on the machine.
    static func builtIn(_ key: String, environment: [String: String]) -> (value: String?, detail: String?) {
        switch key {
        case "db":
            let location = HistoryStore.defaultLocation(environment: environment)
            return (location.path, location.rule)
        case "known_hosts": return (ConnectionOptions.defaultKnownHostsPath(environment: environment), nil)
        case "ssh_config":
            if let path = SSHClientConfig.defaultPath(environment: environment) { return (path, nil) }
            return ("none", "no ~/.ssh/config")
        case "user": return (nil, "the inventory's, else the local user")
        case "private_key": return (nil, "the inventory's, else the SSH agent and ~/.ssh/id_*")
        case "forks": return (String(ConnectionFlags.defaultForks), nil)
        case "max_connecting": return (String(ConnectionFlags.defaultMaxConnecting), nil)
        case "connect_timeout": return (String(Int(ConnectionFlags.defaultConnectTimeout)), "unless ssh_config's ConnectTimeout")
        case "command_timeout": return (nil, "\(Int(ConnectionFlags.scanCommandTimeout)) for scan and ping, \(Int(ConnectionFlags.commandTimeout)) for the others")
        case "max_output": return (String(ConnectionOptions.defaultMaxOutputBytes >> 20), nil)
        case "output": return ("table", nil)
        case "policy_dir": return (nil, "./policies, then /etc/patchctl/policies")
        case "notify_timeout": return (String(Int(NotifyOptions.defaultTimeout)), nil)
        case "sendmail": return (Notifier.defaultSendmail, nil)
        case "retire_absent_for": return (nil, "`hosts retire --absent` needs it, or --absent-for")
        default: return (nil, nil)
        }
    }
}
