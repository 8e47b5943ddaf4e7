import Foundation
import PatchSSH
import Subprocess

/// Resolves every host's secrets once, before any connection starts: prompts happen up front on
/// the terminal, a `password_command` runs once however many hosts share it, and nothing
/// secret is ever written anywhere.
final class Credentials {
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

    func resolve(_ host: Host) async throws -> Resolved {
        let environment = options.environment
        let user = host.user ?? options.defaultUser ?? environment["USER"] ?? "root"
        var auth: [SSHConfig.Auth] = []
        if let key = host.privateKeyFile ?? options.defaultPrivateKey.map(expandHome) {
            auth.append(.keyFile(path: key, passphrase: try passphrase(for: key, host: host)))
        } else if !host.sshClient.identityFiles.isEmpty {
            // ssh_config's IdentityFile lines, in order; missing ones are skipped at login, as by ssh.
            for path in host.sshClient.identityFiles {
                auth.append(.keyFile(path: path, passphrase: try passphrase(for: path, host: host)))
            }
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
        if !host.sshClient.identitiesOnly, let socket = agentSocket(host), !socket.isEmpty { auth.append(.agent(socket: socket)) }
        let password = try await secret(env: host.passwordEnv, command: host.passwordCommand, host: host, what: "password")
        if let password { auth.append(.password(password)) }
        let becomePassword = try await secret(env: host.becomePasswordEnv, command: host.becomePasswordCommand, host: host, what: "become password") ?? password
        // A --connect-timeout given on the command line beats ssh_config's ConnectTimeout.
        let connectTimeout = options.connectTimeoutFromFlag ? options.connectTimeout : host.sshClient.connectTimeout ?? options.connectTimeout
        var config = SSHConfig(label: host.name, address: host.address, port: host.port, user: user, auth: auth,
                               connectTimeout: connectTimeout, keepaliveInterval: host.sshClient.serverAliveInterval ?? options.keepaliveInterval)
        config.hostKeyAlgorithms = host.sshClient.hostKeyAlgorithms
        return Resolved(config: config, becomePassword: becomePassword, password: password)
    }

    /// How to log in to a jump host: its own user, else the run's default (`--user`, the invoking
    /// user), with the run's default key or identities and agent. The target's own settings never
    /// apply to its jump hosts (as in OpenSSH), and no password is offered to a bastion.
    func resolve(hop: JumpHop) async throws -> SSHConfig {
        var config = try await resolve(Host(name: hop.address, address: hop.address, port: hop.port ?? 22, user: hop.user)).config
        config.auth.removeAll { if case .password = $0 { return true } else { return false } }
        return config
    }

    private func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return (options.environment["HOME"] ?? NSHomeDirectory()) + path.dropFirst()
    }

    private func secret(env: String?, command: String?, host: Host, what: String) async throws -> String? {
        if let env {
            guard let value = options.environment[env] else {
                throw PatchError.credential(host: host.name, message: "\(what) variable \(env) is not set")
            }
            return value
        }
        guard let command else { return nil }
        if commandOutputs[command] == nil { commandOutputs[command] = await Self.runLocally(command, host: host.name, what: what) }
        return try commandOutputs[command]!.get()
    }

    /// What a password command may print: a secret is a line, not a file.
    static let maxCommandOutput = 64 << 10

    /// Runs an operator-written password command locally; its first output line is the secret.
    /// Awaited, not blocking a thread: the child's exit and output come through swift-subprocess.
    /// Its stdin and stderr are the terminal's (a pinentry or an error message reaches the operator).
    private static func runLocally(_ command: String, host: String, what: String) async -> Result<String, PatchError> {
        let result: ExecutionResult<Void, BytesOutput, FileDescriptorOutput>
        do {
            result = try await Subprocess.run(.path("/bin/sh"), arguments: ["-c", command], input: .currentStandardInput,
                                              output: .bytes(limit: maxCommandOutput), error: .currentStandardError)
        } catch let error as SubprocessError where error.code == .outputLimitExceeded {
            return .failure(.credential(host: host, message: "\(what) command printed more than \(maxCommandOutput) bytes"))
        } catch {
            return .failure(.credential(host: host, message: "cannot run \(what) command: \(error)"))
        }
        guard case .exited(0) = result.terminationStatus else {
            return .failure(.credential(host: host, message: "\(what) command \(result.terminationStatus.summary)"))
        }
        let text = String(decoding: result.standardOutput, as: UTF8.self)
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

    /// ssh_config's IdentityAgent (`none`, `SSH_AUTH_SOCK`, `$VAR` or a path), else SSH_AUTH_SOCK.
    private func agentSocket(_ host: Host) -> String? {
        guard let agent = host.sshClient.identityAgent else { return options.environment["SSH_AUTH_SOCK"] }
        if agent.lowercased() == "none" { return nil }
        if agent.hasPrefix("$") { return options.environment[String(agent.dropFirst())] }
        if agent == "SSH_AUTH_SOCK" { return options.environment["SSH_AUTH_SOCK"] }
        return agent
    }
}

/// Just enough of the private key formats to know whether a passphrase is needed.
enum KeyFile {
    /// A FIDO key (`sk-ssh-ed25519@openssh.com`, `sk-ecdsa-sha2-nistp256@openssh.com`), which
    /// libssh2 cannot use: told by the `.pub` beside it, else by the key's own public half.
    static func isSecurityKey(path: String) -> Bool {
        if let data = FileManager.default.contents(atPath: path + ".pub") {
            return String(decoding: data.prefix(64), as: UTF8.self).hasPrefix("sk-")
        }
        guard let bytes = openSSHBlob(path: path) else { return false }
        // magic, then cipher, kdf, kdf options (length-prefixed), the key count, and the first
        // public key blob, whose first field is its type.
        var offset = Array("openssh-key-v1".utf8).count + 1
        func string() -> [UInt8]? {
            guard bytes.count >= offset + 4 else { return nil }
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length >= 0, bytes.count >= offset + length else { return nil }
            defer { offset += length }
            return Array(bytes[offset..<(offset + length)])
        }
        guard string() != nil, string() != nil, string() != nil else { return false }
        offset += 4
        guard let blob = string(), blob.count > 4 else { return false }
        let length = blob[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard blob.count >= 4 + length else { return false }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self).hasPrefix("sk-")
    }

    /// The decoded body of an `openssh-key-v1` private key file (bounded: key files are small).
    private static func openSSHBlob(path: String) -> [UInt8]? {
        guard let handle = FileHandle(forReadingAtPath: path), let data = try? handle.read(upToCount: 1 << 20) else { return nil }
        try? handle.close()
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return nil }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let blob = Data(base64Encoded: body) else { return nil }
        let magic = Array("openssh-key-v1".utf8) + [0]
        let bytes = [UInt8](blob)
        guard bytes.count > magic.count, Array(bytes[0..<magic.count]) == magic else { return nil }
        return bytes
    }

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
