import Foundation
import Logging
import PatchSSH

/// Settings shared by every command that reaches endpoints.
public struct ConnectionOptions: Sendable {
    public var knownHostsPath: String
    /// `knownHostsPath` came from `--known-hosts` (or PATCHCTL_KNOWN_HOSTS): it beats a host's own
    /// known_hosts file (flag > inventory); otherwise a host's `knownHostsFile` is used.
    public var knownHostsPathIsExplicit = false
    /// Adds unknown host keys to known_hosts (never replaces a changed one), like OpenSSH's accept-new.
    public var acceptNewHostKeys: Bool
    /// Login user when the inventory gives none.
    public var defaultUser: String?
    /// Key file when the inventory gives none.
    public var defaultPrivateKey: String?
    public var connectTimeout: Double
    public var commandTimeout: Double
    public var keepaliveInterval: Int
    /// Connection setups (TCP + handshake + login) in flight at once. A burst of a thousand SYNs
    /// overflows a server's or bastion's listen queue (sshd's is 128) and costs seconds of SYN
    /// retries; setups are short, so a bound here costs little and keeps bursts orderly.
    public var maxConnecting: Int
    public var environment: [String: String]
    /// Per-host progress at debug, failures at info; never secrets.
    public var logger: Logger
    /// Asks the operator for a key's passphrase (on a terminal); nil when nobody can answer.
    public var passphrasePrompt: (@Sendable (String) -> String?)?
    /// Windows hosts whose OpenSSH cannot be reached are tried over WinRM (a policy's
    /// `winrm_fallback`, or the host's `winrm_fallback` variable).
    public var winRMFallback = false
    /// Most bytes each of a command's stdout and stderr may bring back; past it the host is an
    /// `error` and its command is stopped, so a flooding endpoint costs bounded memory.
    public var maxOutputBytes = Self.defaultMaxOutputBytes
    /// The OpenSSH client configuration applied to SSH hosts; nil: none (`--ssh-config none`).
    public var sshConfig: SSHClientConfig?
    /// `--ssh-config none`: also keeps the OpenSSH client transport from reading ~/.ssh/config.
    public var sshConfigDisabled = false
    /// `--connect-timeout` was given: it beats ssh_config's ConnectTimeout.
    public var connectTimeoutFromFlag = false
    /// `--become`: every host escalates (through sudo), whatever its inventory entry says.
    public var become = false
    /// Told when each host starts connecting and enters each later phase (the progress line).
    public var onPhase: PhaseObserver?
    public static let defaultMaxOutputBytes = OutputLimit.defaultBytes

    public init(knownHostsPath: String, acceptNewHostKeys: Bool = false, defaultUser: String? = nil,
                defaultPrivateKey: String? = nil, connectTimeout: Double = 10, commandTimeout: Double = 600,
                keepaliveInterval: Int = 15, maxConnecting: Int = 100, environment: [String: String] = ProcessInfo.processInfo.environment,
                logger: Logger = Logger(label: "patchctl"), passphrasePrompt: (@Sendable (String) -> String?)? = nil) {
        self.knownHostsPath = knownHostsPath
        self.acceptNewHostKeys = acceptNewHostKeys
        self.defaultUser = defaultUser
        self.defaultPrivateKey = defaultPrivateKey
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.keepaliveInterval = keepaliveInterval
        self.maxConnecting = maxConnecting
        self.environment = environment
        self.logger = logger
        self.passphrasePrompt = passphrasePrompt
    }

    /// OpenSSH's default location.
    public static func defaultKnownHostsPath(environment: [String: String]) -> String {
        (environment["HOME"] ?? NSHomeDirectory()) + "/.ssh/known_hosts"
    }
}
