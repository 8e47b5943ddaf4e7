import Foundation
import PatchSSH

/// A logged-in host: runs commands on one SSH connection, escalating with sudo when the
/// inventory asks for `become`.
public struct HostConnection: Sendable {
    public let host: Host
    public let session: any RemoteSession
    let becomePassword: String?
    let commandTimeout: Double
    /// Most bytes each of stdout and stderr may bring back per command.
    let outputLimit: Int
    /// Opens a new session to the same host with the same credentials and host-key checks
    /// (after a reboot, the old one is dead).
    let connect: @Sendable () async throws -> any RemoteSession
    /// The run's progress observer, if any.
    var onPhase: PhaseObserver?

    /// A new connection to the same host; the caller closes its session.
    public func reconnected() async throws -> HostConnection {
        HostConnection(host: host, session: try await connect(), becomePassword: becomePassword, commandTimeout: commandTimeout,
                       outputLimit: outputLimit, connect: connect, onPhase: onPhase)
    }

    /// Tells the run's progress line that this host's work entered `phase`.
    public func entering(_ phase: HostPhase) {
        onPhase?(host.name, phase)
    }

    /// Runs `command` (escalated when the host has `become`, unless `escalate` is false: files the
    /// login user uploads go into folders it made itself); a non-zero exit is returned, not thrown.
    public func run(_ command: String, timeout: Double? = nil, escalate: Bool = true) async throws -> CommandResult {
        let (line, prompt) = escalate ? Self.escalate(command, host: host, loginUser: session.loginUser, password: becomePassword) : (command, nil)
        let result = try await session.run(line, timeout: timeout ?? commandTimeout, prompt: prompt, outputLimit: outputLimit)
        // sudo speaks first: only the start of stderr is searched (it may be megabytes of a hostile
        // command's output, and this runs on the reactor thread).
        let sudoSaid = result.exitStatus == 0 ? "" : String(decoding: result.stderr.utf8.prefix(4096), as: UTF8.self)
        if host.become, prompt == nil, result.exitStatus != 0, sudoSaid.contains("sudo: a password is required") {
            throw SSHError.become(host: host.name, message: "sudo needs a password: set become_password_env or become_password_command")
        }
        if prompt != nil, result.exitStatus != 0, sudoSaid.contains("incorrect password attempt") {
            throw SSHError.become(host: host.name, message: "sudo refused the password")
        }
        return result
    }

    /// Pushes a local file to the host as the login user; the bytes sent.
    public func upload(_ localPath: String, to remotePath: String, progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Int64 {
        try await send(localPath, to: remotePath, progress: progress).bytes
    }

    /// Pushes a local file to the host as the login user, over SFTP; where the host refuses the
    /// SFTP subsystem, streamed into `cat` on an exec channel instead (created 0600 either way).
    /// Callers verify the file's SHA-256 on the endpoint whichever way it went.
    public func send(_ localPath: String, to remotePath: String, progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Upload {
        guard let transfer = session as? any FileTransfer else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): this connection cannot transfer files (SSH needed)")
        }
        // The OpenSSH client transport has no SFTP session of its own: it always streams.
        if session is OpenSSHSession, !host.isWindows { return try await streamed(localPath, to: remotePath, over: transfer, progress: progress) }
        do {
            return Upload(bytes: try await transfer.upload(localPath: localPath, remotePath: remotePath, mode: 0o600, idleTimeout: commandTimeout,
                                                           chunkSize: 1 << 20, progress: progress), method: .sftp)
        } catch where SSHSession.isSFTPRefused(error) {
            // Windows' default shell has no `cat` and no umask: there, SFTP is the only way.
            guard !host.isWindows else {
                throw HostFanOut.Failure(status: .error, message: "\(host.name): the SFTP subsystem is refused (\(error)); Windows hosts need it: enable sftp-server in sshd_config")
            }
            return try await streamed(localPath, to: remotePath, over: transfer, progress: progress)
        }
    }

    /// The file streamed into `cat` on an exec channel (created 0600); the caller checks its digest.
    private func streamed(_ localPath: String, to remotePath: String, over transfer: any FileTransfer,
                          progress: (@Sendable (Int64) -> Void)?) async throws -> Upload {
        let command = "umask 077 && cat > " + Shell.quote(remotePath)
        let (sent, result) = try await transfer.stream(localPath: localPath, into: command, idleTimeout: commandTimeout, chunkSize: 1 << 20,
                                                       outputLimit: 64 << 10, progress: progress)
        guard result.exitStatus == 0 else {
            throw SSHError.transfer(host: host.name, path: remotePath,
                                    message: "streaming over exec (SFTP refused or not used) failed after \(sent) bytes (exit \(result.exitStatus)): \(result.stderr.trimmed)")
        }
        return Upload(bytes: sent, method: .exec)
    }

    /// How a file went: its size and the channel that carried it.
    public struct Upload: Sendable, Equatable {
        public var bytes: Int64
        public var method: TransferMethod
    }

    /// Whether commands on `host` go through sudo.
    static func escalates(host: Host, loginUser: String) -> Bool {
        // Windows has no sudo: the login account's rights are what commands get (install runs as SYSTEM by task).
        host.become && !host.isWindows && loginUser != host.becomeUser
    }

    /// The command line actually sent, with the sudo prompt to answer if a password is known.
    static func escalate(_ command: String, host: Host, loginUser: String, password: String?) -> (String, PromptReply?) {
        guard escalates(host: host, loginUser: loginUser) else { return (command, nil) }
        // The channel's stdin belongs to sudo (it may carry the password and stays open when sudo
        // does not ask), so the command itself reads /dev/null, as it would without become.
        let inner = Shell.join(["/bin/sh", "-c", "exec </dev/null; " + command])
        // C locale: the failure messages below are matched in English.
        guard let password else {
            // -n: fail at once instead of waiting for a password nobody will type.
            return ("LC_ALL=C sudo -H -n -u \(Shell.quote(host.becomeUser)) -- \(inner)", nil)
        }
        let marker = "[patchctl-sudo-\(UInt32.random(in: .min ... .max))]"
        return ("LC_ALL=C sudo -H -S -p \(Shell.quote(marker)) -u \(Shell.quote(host.becomeUser)) -- \(inner)",
                PromptReply(marker: marker, reply: password))
    }
}

/// The channel an upload used.
public enum TransferMethod: String, Codable, Sendable {
    /// The SFTP subsystem (libssh2).
    case sftp
    /// The host refused SFTP: the file went to `cat` on an exec channel (`umask 077 && cat > FILE`).
    case exec

    /// How a record or log line names it.
    public var label: String {
        switch self {
        case .sftp: return "sftp put"
        case .exec: return "exec cat (SFTP refused)"
        }
    }
}
