import Foundation

/// What every per-host record says about how the host ended: enough for the one-line failure
/// summary every non-zero exit prints on stderr (a cron job mails stderr, whatever stdout holds).
public protocol HostOutcome: Sendable {
    var name: String { get }
    var address: String { get }
    var status: HostStatus { get }
    /// Why it failed, in a line; nil for a host that did not fail.
    var failureReason: String? { get }
}

extension HostOutcome {
    /// `web1 (10.0.0.5): unreachable: connection refused`; the address only where it differs from the name.
    public var failureLine: String {
        let who = address.isEmpty || address == name ? name : "\(name) (\(address))"
        let reason = (failureReason ?? "").split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        // One line each, bounded (a fleet's worth goes to one cron mail), cut where a sentence ends:
        // apt's and dpkg's repair advice stays whole; the whole message is in the run's record.
        let bounded = BoundedMessage.bounded(reason, bytes: BoundedMessage.failureLineBytes)
        return "\(who): \(status.rawValue)" + (bounded.isEmpty ? "" : ": " + bounded)
    }
}

extension HostScan: HostOutcome {
    public var failureReason: String? { error }
}

extension PingResult: HostOutcome {
    public var failureReason: String? { error }
}

extension DeployHostRecord: HostOutcome {
    public var failureReason: String? {
        error ?? (failed.isEmpty ? nil : "failed packages: " + failed.map(\.name).joined(separator: ", "))
    }
}

extension ExecResult: HostOutcome {
    public var failureReason: String? {
        error ?? exitCode.map { "the command exited \($0)" + (stderr.isEmpty ? "" : ": " + stderr) }
    }
}
