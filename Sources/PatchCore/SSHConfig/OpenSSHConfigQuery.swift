import Foundation

/// Asks OpenSSH itself: `ssh -G -F FILE [-l user] [-p port] [-o HostName=…] -- host` prints the
/// configuration ssh would use, without connecting. Run without a shell, bounded in time and
/// output. Keywords ssh always prints are compared with what it prints for an unconfigured host
/// (`-F none`, asked once), so only what the file changes counts as set.
final class OpenSSHConfigQuery: @unchecked Sendable {
    static let timeout = 20.0
    static let maxOutput = 1 << 20

    let ssh: String
    let configPath: String
    let local: SSHConfigReader.Local
    let environment: [String: String]
    private let lock = NSLock()
    private var baseline: Result<[String: [String]], SSHConfigError>?

    init(ssh: String, configPath: String, local: SSHConfigReader.Local, environment: [String: String]) {
        self.ssh = ssh
        self.configPath = configPath
        self.local = local
        self.environment = environment
    }

    /// The `ssh` on PATH, if any.
    static func findSSH(environment: [String: String]) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") where !folder.isEmpty {
            let candidate = String(folder) + "/ssh"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    func settings(for query: SSHConfigQuery) throws(SSHConfigError) -> SSHConfigSettings {
        let values = try run(config: configPath, query: query)
        return try SSHConfigSettings(values: values, origins: [:], query: query, local: local, defaults: try defaults())
    }

    private func defaults() throws(SSHConfigError) -> [String: [String]] {
        lock.lock()
        defer { lock.unlock() }
        if baseline == nil {
            do { baseline = .success(try run(config: "none", query: SSHConfigQuery(host: "patchctl-baseline.invalid"))) } catch { baseline = .failure(error) }
        }
        return try baseline!.get()
    }

    /// keyword → every value line ssh printed for it.
    func run(config: String, query: SSHConfigQuery) throws(SSHConfigError) -> [String: [String]] {
        guard !query.host.isEmpty, !query.host.contains("@"), !query.host.hasPrefix("-") else {
            throw SSHConfigError(configPath, "host name '\(query.host)' cannot be looked up with ssh -G")
        }
        var arguments = ["-G", "-F", config]
        if let user = query.user { arguments += ["-l", user] }
        if let port = query.port { arguments += ["-p", String(port)] }
        if let hostName = query.hostName { arguments += ["-o", "HostName=" + hostName.replacingOccurrences(of: "%", with: "%%")] }
        arguments += ["--", query.host]
        let output: BoundedProcess.Output
        switch BoundedProcess.run(ssh, arguments, timeout: Self.timeout, maxOutput: Self.maxOutput, environment: environment) {
        case let .success(result): output = result
        case let .failure(message): throw SSHConfigError(configPath, "ssh -G \(query.host): \(message)")
        }
        guard output.status == 0 else {
            let said = String(decoding: output.stderr, as: UTF8.self)
                .split(separator: "\n").filter { !$0.hasPrefix("Pseudo-terminal") }.joined(separator: "; ")
            throw SSHConfigError(configPath, "ssh -G \(query.host) failed (exit \(output.status)): \(TerminalText.neutralised(String(said.prefix(500))))")
        }
        guard output.stdout.count < Self.maxOutput else { throw SSHConfigError(configPath, "ssh -G \(query.host): output too large") }
        var values: [String: [String]] = [:]
        for line in String(decoding: output.stdout, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard let keyword = parts.first else { continue }
            values[keyword.lowercased(), default: []].append(parts.count > 1 ? String(parts[1]) : "")
        }
        return values
    }
}
