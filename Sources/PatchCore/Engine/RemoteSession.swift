import PatchSSH

/// A logged-in link to one host that runs commands: an SSH session, or a WinRM client for
/// Windows hosts without OpenSSH. The engine and platforms see only this.
public protocol RemoteSession: AnyObject, Sendable {
    /// The account commands run as before any `become`.
    var loginUser: String { get }
    /// What identifies the far end in logs (host key fingerprint, TLS certificate...).
    var identity: String { get }
    /// Runs one command; a non-zero exit is returned, not thrown. `prompt` answers sudo's password
    /// prompt. More than `outputLimit` bytes on a stream stops the command with an error.
    func run(_ command: String, timeout: Double, prompt: PromptReply?, outputLimit: Int) async throws -> CommandResult
    func close() async
}

extension SSHSession: RemoteSession {
    public var loginUser: String { config.user }
    public var identity: String { hostKeyFingerprint }
}

/// Sessions that can also push files (SSH's SFTP, or a command's stdin where SFTP is refused;
/// WinRM has no file channel).
public protocol FileTransfer: AnyObject, Sendable {
    func upload(localPath: String, remotePath: String, mode: Int32, idleTimeout: Double, chunkSize: Int,
                progress: (@Sendable (Int64) -> Void)?) async throws -> Int64
    func stream(localPath: String, into command: String, idleTimeout: Double, chunkSize: Int, outputLimit: Int,
                progress: (@Sendable (Int64) -> Void)?) async throws -> (sent: Int64, result: CommandResult)
}

extension SSHSession: FileTransfer {}
