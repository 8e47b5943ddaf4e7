import Foundation
import PatchSSH

/// `connection: openssh`: the host is run through the system OpenSSH client, for what libssh2
/// cannot do natively (ProxyCommand, Kerberos/GSSAPI, FIDO keys, certificates, anything the
/// user's ssh_config sets up). One ControlMaster per host and run carries every command, so a
/// host costs one login as with libssh2. Never the default: chosen per host in the inventory.
/// The host key is checked by ssh itself against the same known_hosts file, BatchMode on (no
/// prompt can hang a run), and what ssh reports is turned into patchctl's statuses.
public final class OpenSSHSession: RemoteSession, FileTransfer, @unchecked Sendable {
    public let loginUser: String
    public var identity: String { "OpenSSH client, ControlPath \(controlPath)" }
    let label: String
    let destination: String
    let options: [String]
    let controlPath: String
    static let client = "/usr/bin/ssh"

    private init(label: String, destination: String, loginUser: String, options: [String], controlPath: String) {
        self.label = label
        self.destination = destination
        self.loginUser = loginUser
        self.options = options
        self.controlPath = controlPath
    }

    /// A 0700 folder for one run's ControlMaster sockets (short path: sockets are limited to 108 bytes).
    static func makeControlDirectory() throws -> String {
        var template = Array("/tmp/patchctl-ssh-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw HostFanOut.Failure(status: .error, message: "cannot create the OpenSSH control folder: \(String(cString: strerror(errno)))")
        }
        return String(cString: template)
    }

    /// Starts the host's ControlMaster and logs in (running `true`), so that login and host-key
    /// failures surface here as they do for libssh2 sessions.
    /// ssh reads the user's ssh_config itself (`configFile`: `-F`, "none" for none), so only what
    /// the inventory or a flag set is passed on its command line, where it beats the file
    /// (flag > inventory > ssh_config, as for libssh2 hosts).
    public static func connect(host: Host, config: SSHConfig, knownHostsPath: String, policy: HostKeyPolicy,
                               controlDirectory: String, explicitUser: String? = nil, configFile: String? = nil) async throws -> OpenSSHSession {
        guard FileManager.default.isExecutableFile(atPath: client) else {
            throw SSHError.connect(host: host.name, port: host.port, message: "connection: openssh needs the OpenSSH client (\(client)); install openssh-client")
        }
        // %C is OpenSSH's hash of host, port and user: short enough for a socket path.
        let controlPath = controlDirectory + "/%C"
        var options = [
            "-o", "BatchMode=yes", "-o", "ControlMaster=auto", "-o", "ControlPath=\(controlPath)", "-o", "ControlPersist=600",
            "-o", "StrictHostKeyChecking=\(Self.strictHostKeyChecking(policy))", "-o", "UserKnownHostsFile=\(knownHostsPath)",
            "-o", "ConnectTimeout=\(max(1, Int(config.connectTimeout.rounded(.up))))",
            "-o", "ServerAliveInterval=\(max(1, config.keepaliveInterval))", "-o", "LogLevel=ERROR",
        ]
        if let configFile { options = ["-F", configFile] + options }
        if host.fromInventory.contains("port") || host.port != 22 { options += ["-p", "\(host.port)"] }
        if let explicitUser { options += ["-l", explicitUser] }
        for auth in config.auth {
            if case let .keyFile(path, _) = auth { options += ["-i", path] }
        }
        if !host.proxyJump.isEmpty {
            options += ["-J", host.proxyJump.map(\.description).joined(separator: ",")]
        }
        let session = OpenSSHSession(label: host.name, destination: host.address, loginUser: explicitUser ?? config.user, options: options,
                                     controlPath: controlPath)
        let output = try await session.ssh(["true"], timeout: config.connectTimeout + 5, outputLimit: 1 << 20)
        if output.status != 0 {
            throw session.failure(output, phase: "login")
        }
        return session
    }

    static func strictHostKeyChecking(_ policy: HostKeyPolicy) -> String {
        switch policy {
        case .strict: "yes"
        case .acceptNew: "accept-new"
        // As the libssh2 transport does with `off`: an unknown key is used unrecorded, a changed one refused.
        case .off: "no"
        }
    }

    public func run(_ command: String, timeout: Double, prompt: PromptReply?, outputLimit: Int) async throws -> CommandResult {
        let started = Date()
        // sudo -S reads the password from stdin: it is written once and stdin closed. The command
        // itself reads /dev/null (HostConnection.escalate), so an unread password goes nowhere.
        let input = prompt.map { Array(($0.reply + "\n").utf8) }
        let output = try await ssh([command], timeout: timeout, outputLimit: outputLimit, input: input)
        // 255 is ssh's own failure (or, rarely, a command's exit status): only ssh's messages count.
        if output.status == 255, let error = clientFailure(output) { throw error }
        var stderr = EndpointText.decode(output.stderr)
        if let marker = prompt?.marker { stderr = stderr.replacingOccurrences(of: marker, with: "") }
        return CommandResult(exitStatus: output.status, stdout: EndpointText.decode(output.stdout), stderr: stderr,
                             duration: Date().timeIntervalSince(started))
    }

    /// Streams the file into `cat` on the host (no SFTP needed); the caller verifies the digest.
    public func upload(localPath: String, remotePath: String, mode: Int32, idleTimeout: Double, chunkSize: Int,
                       progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        let line = "umask 077 && cat > \(Shell.quote(remotePath)) && chmod \(String(mode, radix: 8)) \(Shell.quote(remotePath))"
        let (sent, result) = try await stream(localPath: localPath, into: line, idleTimeout: idleTimeout, chunkSize: chunkSize,
                                              outputLimit: 1 << 20, progress: progress)
        guard result.exitStatus == 0 else {
            throw SSHError.transfer(host: label, path: remotePath, message: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return sent
    }

    /// The file on the standard input of `command` on the host (HostConnection.send uses this).
    public func stream(localPath: String, into command: String, idleTimeout: Double, chunkSize: Int, outputLimit: Int,
                       progress: (@Sendable (Int64) -> Void)?) async throws -> (sent: Int64, result: CommandResult) {
        let started = Date()
        let size = ((try? FileManager.default.attributesOfItem(atPath: localPath)[.size]) as? NSNumber)?.int64Value ?? 0
        // Time grows with size: the idle timeout per MiB, at least once.
        let budget = idleTimeout * max(1, Double(size) / Double(1 << 20))
        let output = try await ssh([command], timeout: budget, outputLimit: outputLimit, inputFile: localPath, phase: "file transfer")
        if output.status == 255, let error = clientFailure(output) { throw error }
        progress?(size)
        return (size, CommandResult(exitStatus: output.status, stdout: EndpointText.decode(output.stdout),
                                    stderr: EndpointText.decode(output.stderr), duration: Date().timeIntervalSince(started)))
    }

    /// Ends the ControlMaster.
    public func close() async {
        _ = try? await LocalCommand(executable: Self.client, arguments: options + ["-O", "exit", destination]).run(timeout: 10, outputLimit: 1 << 16)
    }

    /// One ssh client run against the host, its local failures as patchctl's errors.
    private func ssh(_ command: [String], timeout: Double, outputLimit: Int, input: [UInt8]? = nil, inputFile: String? = nil,
                     phase: String = "command") async throws -> LocalCommand.Output {
        do {
            return try await LocalCommand(executable: Self.client, arguments: options + ["--", destination] + command, input: input,
                                          inputFile: inputFile)
                .run(timeout: timeout, outputLimit: outputLimit)
        } catch LocalCommand.Failure.timeout {
            throw SSHError.timeout(host: label, phase: "\(phase) (OpenSSH client)", seconds: timeout)
        } catch let LocalCommand.Failure.outputLimit(stream) {
            throw SSHError.outputLimit(host: label, stream: stream, limit: outputLimit)
        } catch let LocalCommand.Failure.spawn(message) {
            throw SSHError.connect(host: label, port: 0, message: message)
        }
    }

    /// ssh's own failure messages, as patchctl's errors (so statuses match the libssh2 transport).
    func clientFailure(_ output: LocalCommand.Output) -> Error? {
        let text = EndpointText.decode(output.stderr).trimmingCharacters(in: .whitespacesAndNewlines)
        let port = options.firstIndex(of: "-p").flatMap { Int(options[$0 + 1]) } ?? 22
        let said = "OpenSSH client: \(text.split(separator: "\n").suffix(3).joined(separator: "; "))"
        if text.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || text.contains("Host key verification failed") {
            return text.contains("HAS CHANGED")
                ? SSHError.hostKeyMismatch(host: label, port: port, fingerprint: "(see ssh)", knownHosts: said)
                : SSHError.hostKeyUnknown(host: label, address: destination, port: port, fingerprint: "(\(said))",
                                          knownHosts: options.first { $0.hasPrefix("UserKnownHostsFile=") }.map { String($0.dropFirst(19)) } ?? said)
        }
        if text.contains("Permission denied") {
            return SSHError.authentication(host: label, user: loginUser, tried: ["OpenSSH client"], detail: said)
        }
        if text.contains("Connection refused") || text.contains("No route to host") || text.contains("Network is unreachable")
            || text.contains("Could not resolve hostname") || text.contains("Connection timed out") || text.contains("timed out during banner") {
            return SSHError.connect(host: label, port: port, message: said)
        }
        if text.hasPrefix("ssh:") || text.contains("kex_exchange_identification") || text.contains("Connection closed by")
            || text.contains("mux_client") || text.contains("Control socket") {
            return HostFanOut.Failure(status: .error, message: "\(label): \(said)")
        }
        return nil
    }

    func failure(_ output: LocalCommand.Output, phase: String) -> Error {
        clientFailure(output) ?? HostFanOut.Failure(status: .error, message: "\(label): OpenSSH client exited \(output.status) at \(phase): \(EndpointText.decode(output.stderr))")
    }
}
