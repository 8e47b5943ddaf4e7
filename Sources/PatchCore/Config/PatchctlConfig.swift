import Foundation
import Yams

/// patchctl's settings below the command line: `/etc/patchctl/config.yml`, then the user's
/// `$XDG_CONFIG_HOME/patchctl/config.yml`, then `PATCHCTL_*` variables, each overriding the one
/// before; flags override them all. Every layer is checked when it is read, so a wrong value
/// stops patchctl before anything is contacted, naming its file and line or its variable.
public struct PatchctlConfig: Sendable {
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case file(path: String, line: Int)
        case environment(String)
        /// Not set anywhere: the built-in default (`detail` says which, where it depends on the machine).
        case builtIn(detail: String?)

        public var description: String {
            switch self {
            case let .file(path, line): "\(path):\(line)"
            case let .environment(variable): "$\(variable)"
            case let .builtIn(detail): detail.map { "default (\($0))" } ?? "default"
            }
        }
    }

    public struct Setting: Sendable {
        public var value: String
        public var source: Source
    }

    /// The files looked at, in order, and whether each was there.
    public var files: [(path: String, found: Bool)]
    /// Each key set by a file or a variable, as the variable would carry it.
    public var settings: [String: Setting]
    /// `notify:` from the files (the later file's list replaces the earlier one's).
    public var notifiers: [Notifier]
    /// The process environment with each file setting added as its variable where the
    /// environment has none: what every command reads its defaults from.
    public var environment: [String: String]

    /// With no file and nothing in the environment.
    public static func empty(environment: [String: String]) -> PatchctlConfig {
        PatchctlConfig(files: [], settings: [:], notifiers: [], environment: environment)
    }

    /// `PATCHCTL_SYSTEM_CONFIG` moves the system file (tests, unusual layouts).
    public static func systemPath(environment: [String: String]) -> String {
        environment["PATCHCTL_SYSTEM_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/patchctl/config.yml"
    }

    /// `PATCHCTL_CONFIG`, else `$XDG_CONFIG_HOME/patchctl/config.yml`, else `~/.config/patchctl/config.yml`.
    public static func userPath(environment: [String: String]) -> String {
        if let explicit = environment["PATCHCTL_CONFIG"], !explicit.isEmpty { return explicit }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home(environment) + "/.config"
        return base + "/patchctl/config.yml"
    }

    static func home(_ environment: [String: String]) -> String {
        environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
    }

    public static func load(environment: [String: String]) throws(PatchError) -> PatchctlConfig {
        var configuration = PatchctlConfig.empty(environment: environment)
        let home = home(environment)
        for path in [systemPath(environment: environment), userPath(environment: environment)] {
            guard let text = try read(path) else {
                configuration.files.append((path, false))
                continue
            }
            configuration.files.append((path, true))
            let file = try ConfigFileParser.parse(text, file: path, home: home)
            for (key, setting) in file.settings { configuration.settings[key] = setting }
            if let notifiers = file.notifiers { configuration.notifiers = notifiers }
        }
        for key in ConfigKey.all {
            guard let variable = key.variable, let text = environment[variable], !text.isEmpty else {
                // A file's value becomes the variable, where the environment has none.
                if let variable = key.variable, let setting = configuration.settings[key.name] { configuration.environment[variable] = setting.value }
                continue
            }
            do {
                let value = try key.normalized(text, base: nil, home: home)
                configuration.settings[key.name] = Setting(value: value, source: .environment(variable))
            } catch {
                throw PatchError.config(file: "$" + variable, line: nil, column: nil, message: error.message)
            }
        }
        return configuration
    }

    /// Nil when there is no such file; an unreadable or oversized file is an error (a setting
    /// silently left out would be worse).
    static func read(_ path: String) throws(PatchError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        switch YAMLReader.text(atPath: path) {
        case let .success(text): return text
        case let .failure(problem): throw PatchError.config(file: path, line: nil, column: nil, message: problem.message(for: "configuration"))
        }
    }
}

/// One configuration file: a map of `ConfigKey` names.
struct ConfigFileParser {
    var settings: [String: PatchctlConfig.Setting] = [:]
    var notifiers: [Notifier]?

    static func parse(_ text: String, file: String, home: String) throws(PatchError) -> ConfigFileParser {
        // The policy reader's node helpers; its errors are re-labelled as this file's.
        let reader = PolicyParser(file: file)
        do {
            return try parse(text, reader: reader, file: file, home: home)
        } catch {
            if case let .policy(file, line, column, message) = error { throw .config(file: file, line: line, column: column, message: message) }
            throw error
        }
    }

    private static func parse(_ text: String, reader: PolicyParser, file: String, home: String) throws(PatchError) -> ConfigFileParser {
        let root: Node?
        do {
            root = try YAMLReader.compose(text)
        } catch {
            throw Policy.syntaxError(error, file: file, yaml: text)
        }
        var result = ConfigFileParser()
        guard let root, !YAMLNodes.isNull(root) else { return result }  // an empty file sets nothing
        if let vault = YAMLNodes.vaultNode(in: root) {
            throw reader.failure(at: vault, "'!vault' values cannot be used here: patchctl cannot decrypt Ansible Vault; secrets come from the environment")
        }
        guard case .mapping = root else {
            throw reader.failure(at: root, "a configuration file is a map of settings (inventory, db, forks...), found \(YAMLNodes.kind(of: root))")
        }
        let fields = try reader.fields(of: root, in: "the configuration", allowed: ConfigKey.all.map(\.name))
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        for key in ConfigKey.all {
            guard let node = fields.value(key.name) else { continue }
            let line = node.mark?.line ?? fields.key(key.name)?.mark?.line ?? 0
            if case .notifiers = key.kind {
                result.notifiers = try reader.notifiers(node)
                result.settings[key.name] = PatchctlConfig.Setting(value: "\(result.notifiers?.count ?? 0) target(s)", source: .file(path: file, line: line))
                continue
            }
            let text: String
            if case let .paths(separator) = key.kind {
                text = try reader.strings(node, label: key.name).map(\.text).joined(separator: separator)
            } else if case .integer = key.kind {
                text = String(try reader.integer(node, label: key.name))
            } else {
                text = try reader.string(node, label: key.name)
            }
            do {
                let value = try key.normalized(text, base: folder, home: home)
                result.settings[key.name] = PatchctlConfig.Setting(value: value, source: .file(path: file, line: line))
            } catch {
                throw reader.failure(at: node, "'\(key.name)' \(error.message)")
            }
        }
        return result
    }
}
