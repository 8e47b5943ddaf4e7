import Foundation

/// One setting the configuration files and the environment can give: its key in
/// `config.yml`, its `PATCHCTL_*` variable, and what values it takes. A flag on the command line
/// overrides both (docs/configuration.md).
public struct ConfigKey: Sendable {
    public enum Kind: Sendable {
        /// A file or folder; `~/` is the user's home; in a file, relative to the file's folder.
        case path
        /// One or more paths (a list in YAML; newline-separated in the variable, or ':' for policy_dir).
        case paths(separator: String)
        case text
        case integer(ClosedRange<Int>)
        /// A duration (`90`, `90s`, `10m`, `1h30m`) above 0 and at most the bound, in seconds.
        case seconds(max: Double)
        /// A duration of days at least, with a unit (`30d`, `12w`), kept as written: `HostRetirement.absence`.
        case absence
        case choice([String])
        /// A list of notification targets, as a policy's `notify:` (no variable).
        case notifiers
    }

    public var name: String
    public var variable: String?
    public var kind: Kind
    public var summary: String

    public static let all: [ConfigKey] = [
        ConfigKey(name: "inventory", variable: "PATCHCTL_INVENTORY", kind: .paths(separator: "\n"), summary: "inventory sources (-i)"),
        ConfigKey(name: "db", variable: "PATCHCTL_DB", kind: .path, summary: "history database (--db)"),
        ConfigKey(name: "db_password_command", variable: "PATCHCTL_DB_PASSWORD_COMMAND", kind: .text,
                  summary: "command printing the PostgreSQL history's password (else ~/.pgpass or PGPASSFILE)"),
        ConfigKey(name: "controller", variable: "PATCHCTL_CONTROLLER", kind: .text, summary: "this controller's name, recorded with each run (--controller)"),
        ConfigKey(name: "known_hosts", variable: "PATCHCTL_KNOWN_HOSTS", kind: .path, summary: "OpenSSH known_hosts file (--known-hosts)"),
        ConfigKey(name: "ssh_config", variable: "PATCHCTL_SSH_CONFIG", kind: .path, summary: "ssh_config file, or none (--ssh-config)"),
        ConfigKey(name: "user", variable: "PATCHCTL_USER", kind: .text, summary: "login user where the inventory names none (-u)"),
        ConfigKey(name: "private_key", variable: "PATCHCTL_PRIVATE_KEY", kind: .path, summary: "private key where the inventory names none (--private-key)"),
        ConfigKey(name: "forks", variable: "PATCHCTL_FORKS", kind: .integer(1...10_000), summary: "hosts worked on at once (-f)"),
        ConfigKey(name: "max_connecting", variable: "PATCHCTL_MAX_CONNECTING", kind: .integer(1...10_000), summary: "connection setups in flight (--max-connecting)"),
        ConfigKey(name: "connect_timeout", variable: "PATCHCTL_CONNECT_TIMEOUT", kind: .seconds(max: 3600), summary: "seconds for connect and login (--connect-timeout)"),
        ConfigKey(name: "command_timeout", variable: "PATCHCTL_COMMAND_TIMEOUT", kind: .seconds(max: 7 * 86_400), summary: "seconds per remote command (--command-timeout)"),
        ConfigKey(name: "max_output", variable: "PATCHCTL_MAX_OUTPUT", kind: .integer(1...4096), summary: "MiB of output per command stream (--max-output)"),
        ConfigKey(name: "output", variable: "PATCHCTL_OUTPUT", kind: .choice(["table", "json", "ndjson"]), summary: "output format of run commands (--output)"),
        ConfigKey(name: "color", variable: "PATCHCTL_COLOR", kind: .choice(["auto", "always", "never"]), summary: "colour in tables: auto (a terminal without NO_COLOR), always, never (--color)"),
        ConfigKey(name: "policy_dir", variable: "PATCHCTL_POLICY_DIR", kind: .paths(separator: ":"), summary: "folders searched for policy names"),
        ConfigKey(name: "log_file", variable: "PATCHCTL_LOG_FILE", kind: .path, summary: "JSON-lines log appended by every run (--log-file)"),
        ConfigKey(name: "metrics_file", variable: "PATCHCTL_METRICS_FILE", kind: .path, summary: "Prometheus textfile written after each run (--metrics-file)"),
        ConfigKey(name: "notify", variable: nil, kind: .notifiers, summary: "notification targets of every run (--notify)"),
        ConfigKey(name: "notify_timeout", variable: "PATCHCTL_NOTIFY_TIMEOUT", kind: .seconds(max: 600), summary: "seconds per notifier (--notify-timeout)"),
        ConfigKey(name: "sendmail", variable: "PATCHCTL_SENDMAIL", kind: .path, summary: "sendmail program for mail notifications"),
        ConfigKey(name: "retire_absent_for", variable: "PATCHCTL_RETIRE_ABSENT_FOR", kind: .absence,
                  summary: "retire hosts in no inventory and not reached for this long (hosts retire --absent)"),
    ]

    public static func named(_ name: String) -> ConfigKey? { all.first { $0.name == name } }

    /// Checks one value as text (a variable's, or a YAML scalar's) and returns it as the variable
    /// carries it; `base` resolves a relative path (a file's folder), nil leaves it as written.
    func normalized(_ text: String, base: String?, home: String) throws(ConfigValueError) -> String {
        switch kind {
        case .path:
            // The history may be a PostgreSQL URL: kept as written, never made a path beside the file.
            if name == "db", PostgresLocation.isURL(text) {
                do { return try PostgresLocation(url: text).description } catch {
                    throw ConfigValueError("is not a usable postgres:// URL: \(error)")
                }
            }
            return try Self.path(text, base: base, home: home, allowNone: name == "ssh_config")
        case let .paths(separator):
            let items = text.components(separatedBy: separator).filter { !$0.isEmpty }
            guard !items.isEmpty else { throw ConfigValueError("must name at least one path") }
            return try items.map { item throws(ConfigValueError) in try Self.path(item, base: base, home: home, allowNone: false) }
                .joined(separator: separator)
        case .text:
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw ConfigValueError("must not be empty") }
            guard !text.contains(where: { $0.isNewline || $0 == "\0" }) else { throw ConfigValueError("must be one line") }
            return text
        case let .integer(range):
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
                throw ConfigValueError("must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return String(value)
        case let .seconds(max):
            guard let seconds = PolicyDuration.parse(text.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds > 0, seconds <= max else {
                throw ConfigValueError("must be a duration above 0 and at most \(Int(max)) s (90, 90s, 10m, 1h30m), not '\(text)'")
            }
            return Self.secondsText(seconds)
        case .absence:
            guard HostRetirement.absence(text) != nil else { throw ConfigValueError("must be \(HostRetirement.absenceHint), not '\(text)'") }
            return text.trimmingCharacters(in: .whitespaces)
        case let .choice(words):
            guard words.contains(text) else { throw ConfigValueError("must be one of \(words.joined(separator: ", ")), not '\(text)'") }
            return text
        case .notifiers:
            throw ConfigValueError("is read from a file only")
        }
    }

    static func path(_ text: String, base: String?, home: String, allowNone: Bool) throws(ConfigValueError) -> String {
        guard !text.isEmpty else { throw ConfigValueError("must not be empty") }
        guard !text.contains("\0"), !text.contains("\n") else { throw ConfigValueError("is not a path") }
        if allowNone, text == "none" { return text }
        if text == "~" { return home }
        if text.hasPrefix("~/") { return home + text.dropFirst(1) }
        if text.hasPrefix("/") { return text }
        guard let base else { return text }
        return URL(fileURLWithPath: text, relativeTo: URL(fileURLWithPath: base, isDirectory: true)).standardizedFileURL.path
    }

    /// `90`, `2.5`: as Double's text without a needless `.0`.
    static func secondsText(_ seconds: Double) -> String {
        seconds == seconds.rounded() && seconds < 1e15 ? String(Int(seconds)) : String(seconds)
    }

    /// A value checked at load: nothing after that can find it wrong.
    public static func seconds(_ text: String?) -> Double? { text.flatMap { PolicyDuration.parse($0) } }
    public static func integer(_ text: String?) -> Int? { text.flatMap { Int($0) } }
}

struct ConfigValueError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
