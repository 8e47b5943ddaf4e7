import Foundation
import PatchSSH

/// Resolves every host's secrets once, before any connection starts: prompts happen up front on
/// the terminal, a `password_command` runs once however many hosts share it, and nothing
/// secret is ever written anywhere.
final class Credentials: @unchecked Sendable {
    struct Resolved: Sendable {
        var config: SSHConfig
        var becomePassword: String?
        /// The login password, when one is configured (WinRM needs it; SSH offers it last).
        var password: String?
    }

    private let options: ConnectionOptions
    private var commandOutputs: [String: Result<String, PatchError>] = [:]
    private var passphrases: [String: String?] = [:]

    init(options: ConnectionOptions) {
        self.options = options
    }

    func resolve(_ host: Host) throws -> Resolved {
        let environment = options.environment
        let user = host.user ?? options.defaultUser ?? environment["USER"] ?? "root"
        var auth: [SSHConfig.Auth] = []
        if let key = host.privateKeyFile ?? options.defaultPrivateKey.map(expandHome) {
            auth.append(.keyFile(path: key, passphrase: try passphrase(for: key, host: host)))
        } else {
            // No key named: OpenSSH's default identities, then the agent.
            let home = environment["HOME"] ?? NSHomeDirectory()
            for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                let path = "\(home)/.ssh/\(name)"
                if FileManager.default.isReadableFile(atPath: path) {
                    auth.append(.keyFile(path: path, passphrase: try passphrase(for: path, host: host)))
                }
            }
        }
        if let socket = environment["SSH_AUTH_SOCK"], !socket.isEmpty { auth.append(.agent(socket: socket)) }
        let password = try secret(env: host.passwordEnv, command: host.passwordCommand, host: host, what: "password")
        if let password { auth.append(.password(password)) }
        let becomePassword = try secret(env: host.becomePasswordEnv, command: host.becomePasswordCommand, host: host, what: "become password") ?? password
        let config = SSHConfig(label: host.name, address: host.address, port: host.port, user: user, auth: auth,
                               connectTimeout: options.connectTimeout, keepaliveInterval: options.keepaliveInterval)
        return Resolved(config: config, becomePassword: becomePassword, password: password)
    }

    /// How to log in to a jump host: its own user, else the run's default (`--user`, the invoking
    /// user), with the run's default key or identities and agent. The target's own settings never
    /// apply to its jump hosts (as in OpenSSH), and no password is offered to a bastion.
    func resolve(hop: JumpHop) throws -> SSHConfig {
        var config = try resolve(Host(name: hop.address, address: hop.address, port: hop.port ?? 22, user: hop.user)).config
        config.auth.removeAll { if case .password = $0 { return true } else { return false } }
        return config
    }

    private func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return (options.environment["HOME"] ?? NSHomeDirectory()) + path.dropFirst()
    }

    private func secret(env: String?, command: String?, host: Host, what: String) throws -> String? {
        if let env {
            guard let value = options.environment[env] else {
                throw PatchError.credential(host: host.name, message: "\(what) variable \(env) is not set")
            }
            return value
        }
        guard let command else { return nil }
        if commandOutputs[command] == nil { commandOutputs[command] = Self.runLocally(command, host: host.name, what: what) }
        return try commandOutputs[command]!.get()
    }

    /// Runs an operator-written password command locally; its first output line is the secret.
    private static func runLocally(_ command: String, host: String, what: String) -> Result<String, PatchError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        do {
            try process.run()
        } catch {
            return .failure(.credential(host: host, message: "cannot run \(what) command: \(error.localizedDescription)"))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(.credential(host: host, message: "\(what) command exited \(process.terminationStatus)"))
        }
        let text = String(decoding: data, as: UTF8.self)
        return .success(text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? "")
    }

    private func passphrase(for path: String, host: Host) throws -> String? {
        if let known = passphrases[path] { return known }
        var value: String?
        if KeyFile.isEncrypted(path: path) {
            value = options.environment["PATCHCTL_KEY_PASSPHRASE"] ?? options.passphrasePrompt?(path)
        }
        passphrases[path] = value
        return value
    }
}

/// Just enough of the private key formats to know whether a passphrase is needed.
enum KeyFile {
    static func isEncrypted(path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        let text = String(decoding: data, as: UTF8.self)
        if text.contains("ENCRYPTED") { return true }  // PEM: Proc-Type 4,ENCRYPTED or PKCS#8 ENCRYPTED
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let blob = Data(base64Encoded: body) else { return false }
        // openssh-key-v1\0, then a length-prefixed cipher name: "none" when unencrypted.
        let magic = Array("openssh-key-v1".utf8) + [0]
        let bytes = [UInt8](blob)
        guard bytes.count > magic.count + 4, Array(bytes[0..<magic.count]) == magic else { return false }
        let lengthBytes = bytes[magic.count..<(magic.count + 4)]
        let length = lengthBytes.reduce(0) { $0 << 8 | Int($1) }
        let start = magic.count + 4
        guard bytes.count >= start + length else { return false }
        return String(decoding: bytes[start..<(start + length)], as: UTF8.self) != "none"
    }
}
