import Foundation

/// The OpenSSH client configuration of a run (`--ssh-config`, default `~/.ssh/config`): answers,
/// per host, what ssh_config sets, through `ssh -G` where an OpenSSH client is installed and the
/// built-in reader elsewhere (or when PATCHCTL_SSH_CONFIG_READER=builtin).
public final class SSHClientConfig: @unchecked Sendable {
    public enum Reader: String, Sendable {
        /// `ssh -G -F FILE`: OpenSSH itself decides.
        case openssh
        case builtin
    }

    public let path: String
    public let reader: Reader
    let builtin: SSHConfigReader
    let openssh: OpenSSHConfigQuery?

    /// `reader` nil: `ssh -G` when an `ssh` is on PATH (or PATCHCTL_SSH_CONFIG_READER says which).
    public init(path: String, environment: [String: String], reader: Reader? = nil, local: SSHConfigReader.Local? = nil) {
        self.path = path
        let local = local ?? .current(environment: environment)
        builtin = SSHConfigReader(path: path, local: local)
        let chosen = reader ?? environment["PATCHCTL_SSH_CONFIG_READER"].flatMap(Reader.init(rawValue:))
        let ssh = OpenSSHConfigQuery.findSSH(environment: environment)
        if chosen != .builtin, let ssh {
            self.reader = .openssh
            openssh = OpenSSHConfigQuery(ssh: ssh, configPath: path, local: local, environment: environment)
        } else {
            self.reader = .builtin
            openssh = nil
        }
    }

    /// The default file: `~/.ssh/config` of the invoking user, when it exists.
    public static func defaultPath(environment: [String: String]) -> String? {
        let path = (environment["HOME"] ?? NSHomeDirectory()) + "/.ssh/config"
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Answers per lookup: a bastion shared by many hosts is looked up once per run.
    private let lock = NSLock()
    private var answers: [SSHConfigQuery: Result<SSHConfigSettings, SSHConfigError>] = [:]

    /// What ssh_config sets for `query`. File problems (syntax, unknown keyword, unreadable
    /// Include) are thrown; refused keywords are in the answer's `refused`.
    public func settings(for query: SSHConfigQuery) throws(SSHConfigError) -> SSHConfigSettings {
        if let known = lock.withLock({ answers[query] }) { return try known.get() }
        let answer: Result<SSHConfigSettings, SSHConfigError>
        do { answer = .success(try lookUp(query)) } catch { answer = .failure(error) }
        lock.withLock { answers[query] = answer }
        return try answer.get()
    }

    private func lookUp(_ query: SSHConfigQuery) throws(SSHConfigError) -> SSHConfigSettings {
        // ssh would read a name with '@' as user@host and one starting with '-' as an option.
        if let openssh, !query.host.contains("@"), !query.host.hasPrefix("-") {
            var settings = try openssh.settings(for: query)
            // `ssh -G` does not say where a keyword was written; the built-in reader does, so it
            // runs only when a message needs it (a refusal, a warning).
            if !settings.refused.isEmpty || settings.strictHostKeyChecking == .no, let written = try? builtin.entries(for: query) {
                let origins = Self.origins(written)
                settings.origins = origins
                for index in settings.refused.indices {
                    // As written, not as ssh -G normalises it (`Tunnel yes` prints as point-to-point).
                    let keyword = settings.refused[index].keyword.lowercased()
                    settings.refused[index].origin = origins[keyword]
                    if let entry = written.first(keyword) { settings.refused[index].value = entry.arguments.joined(separator: " ") }
                }
            }
            return settings
        }
        let written = try builtin.entries(for: query)
        let values = written.values.mapValues { $0.map { $0.arguments.joined(separator: " ") } }
        return try SSHConfigSettings(values: values, origins: Self.origins(written), query: query, local: builtin.local, defaults: nil)
    }

    static func origins(_ entries: SSHConfigEntries) -> [String: SSHConfigOrigin] {
        var origins: [String: SSHConfigOrigin] = [:]
        for (keyword, list) in entries.values {
            if let origin = list.first?.origin { origins[keyword] = origin }
        }
        return origins
    }
}
