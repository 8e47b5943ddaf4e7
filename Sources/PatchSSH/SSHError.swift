/// Everything that can go wrong while reaching or using an endpoint over SSH.
/// Each case names the endpoint so a one-line report needs nothing else.
public enum SSHError: Error, CustomStringConvertible, Sendable {
    /// Name resolution failed.
    case resolve(host: String, message: String)
    /// TCP connection refused, unreachable network, reset during setup.
    case connect(host: String, port: Int, message: String)
    /// A deadline passed; `phase` says which (connect, handshake, authentication, command).
    case timeout(host: String, phase: String, seconds: Double)
    /// SSH protocol setup failed after TCP connected.
    case handshake(host: String, LibSSH2Error)
    /// The server's key is not in known_hosts (strict checking).
    case hostKeyUnknown(host: String, address: String, port: Int, fingerprint: String, knownHosts: String)
    /// known_hosts holds a different key for this host: possible man-in-the-middle.
    case hostKeyMismatch(host: String, port: Int, fingerprint: String, knownHosts: String)
    /// known_hosts could not be read or updated.
    case knownHosts(path: String, message: String)
    /// No offered method authenticated the user.
    case authentication(host: String, user: String, tried: [String], detail: String)
    /// A private key file could not be used (missing, unreadable, bad passphrase).
    case keyFile(path: String, message: String)
    /// Privilege escalation failed (wrong sudo password, sudo needs a password we do not have).
    case become(host: String, message: String)
    /// The connection broke or a channel operation failed after login.
    case session(host: String, LibSSH2Error)
    /// A file transfer failed (local file unreadable, remote path refused, disk full...).
    case transfer(host: String, path: String, message: String)
    /// The known_hosts file revokes the key this server offered (`@revoked`).
    case hostKeyRevoked(host: String, port: Int, fingerprint: String, knownHosts: String)
    /// Only an `@cert-authority` line vouches for the endpoint: host certificates are not supported.
    case hostKeyCertificateOnly(host: String, port: Int, fingerprint: String, knownHosts: String, line: Int)
    /// A command sent more than the per-stream output cap; it was stopped.
    case outputLimit(host: String, stream: String, limit: Int)
    /// A bastion could not open the `direct-tcpip` channel to a target behind it (forwarding
    /// refused by its sshd, target unreachable from it).
    case tunnel(host: String, port: Int, message: String)
    /// The failure happened at a jump host, not at the target: `hop` names the bastion, the
    /// inner error says what went wrong there. The status is the inner error's.
    indirect case jump(host: String, hop: String, SSHError)

    public var description: String {
        switch self {
        case let .resolve(host, message):
            return "cannot resolve \(host): \(message)"
        case let .connect(host, port, message):
            return "cannot connect to \(host) port \(port): \(message)"
        case let .timeout(host, phase, seconds):
            return "\(host): \(phase) timed out after \(formatSeconds(seconds))"
        case let .handshake(host, error):
            return "\(host): SSH handshake failed: \(error.message)"
        case let .hostKeyUnknown(host, address, port, fingerprint, knownHosts):
            // The address (not the inventory name) is what ssh-keyscan and known_hosts need.
            return "\(host == address ? host : "\(host) (\(address))") port \(port): host key \(fingerprint) is unknown (not in \(knownHosts)); "
                + "compare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub, on its console), then add it "
                + "(ssh-keyscan -p \(port) \(address) >> \(knownHosts)) or run once with --accept-new-host-keys"
        case let .hostKeyMismatch(host, port, fingerprint, knownHosts):
            return "\(host) port \(port): HOST KEY CHANGED (server offers \(fingerprint), \(knownHosts) has another key); refusing to connect"
        case let .knownHosts(path, message):
            return "known_hosts \(path): \(message)"
        case let .authentication(host, user, tried, detail):
            let methods = tried.isEmpty ? "no usable method" : "tried " + tried.joined(separator: ", ")
            return "\(host): authentication failed for user \(user) (\(methods))\(detail.isEmpty ? "" : ": " + detail)"
        case let .keyFile(path, message):
            return "private key \(path): \(message)"
        case let .become(host, message):
            return "\(host): privilege escalation failed: \(message)"
        case let .session(host, error):
            return "\(host): \(error.description)"
        case let .transfer(host, path, message):
            return "\(host): \(path): \(message)"
        case let .hostKeyRevoked(host, port, fingerprint, knownHosts):
            return "\(host) port \(port): REVOKED HOST KEY \(fingerprint) (marked @revoked in \(knownHosts)); refusing to connect"
        case let .hostKeyCertificateOnly(host, port, fingerprint, knownHosts, line):
            return "\(host) port \(port): only a host certificate authority vouches for this host (\(knownHosts) line \(line), @cert-authority), and patchctl does not support host certificates; verify the host key \(fingerprint) and add it as a plain known_hosts line"
        case let .outputLimit(host, stream, limit):
            return "\(host): output exceeded \(OutputLimit.describe(limit)) on \(stream); the command was stopped (raise --max-output if this host is honest)"
        case let .tunnel(host, port, message):
            return "cannot open a channel to \(host) port \(port): \(message)"
        case let .jump(host, hop, error):
            return "\(host): via bastion \(hop): \(error)"
        }
    }
}

extension SSHError {
    /// The same bastion failure, told to another host behind it (one bastion, many targets).
    func behind(_ target: String) -> SSHError {
        if case let .jump(_, hop, error) = self { return .jump(host: target, hop: hop, error) }
        return self
    }
}

func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
}
