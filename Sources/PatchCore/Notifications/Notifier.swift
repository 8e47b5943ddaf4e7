import Foundation

/// Where a finished run is announced, and on which outcomes: a webhook (a JSON POST, signed with
/// HMAC-SHA256 when a secret is set), a Slack-compatible incoming webhook, mail through the local
/// sendmail, or a command that reads the run's JSON on stdin. Given by `--notify` and by a
/// policy's `notify:` list.
public struct Notifier: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// `secretEnv`: the environment variable holding the HMAC key (never the key itself, so
        /// it is in no policy file, history or log).
        case webhook(url: String, secretEnv: String?)
        case slack(url: String)
        case mail(to: [String], sendmail: String)
        /// A command line run by `/bin/sh -c`, as cron runs one.
        case command(String)
    }

    /// When to notify: a run that failed (any non-zero exit), one that changed something
    /// (packages installed or hosts rebooted; for a scan, findings new or gone), or every run.
    public enum Condition: String, Sendable, CaseIterable, Codable {
        case failure, changes, always
    }

    public var target: Target
    public var on: Set<Condition>

    public static let defaultConditions: Set<Condition> = [.failure]
    public static let defaultSendmail = "/usr/sbin/sendmail"

    public init(target: Target, on: Set<Condition> = Notifier.defaultConditions) {
        self.target = target
        self.on = on.isEmpty ? Self.defaultConditions : on
    }

    /// Whether this run is one to announce, and as what (`failure` before `changes`).
    public func condition(for notice: RunNotice) -> Condition? {
        if notice.exitCode != 0, on.contains(.failure) || on.contains(.always) { return .failure }
        if notice.changed, on.contains(.changes) || on.contains(.always) { return .changes }
        return on.contains(.always) ? .always : nil
    }

    /// For logs, history and messages: the kind and where, without what may be a credential (a
    /// Slack URL's path is its secret; webhooks often carry tokens in path or query).
    public var label: String {
        switch target {
        case let .webhook(url, _): "webhook " + Self.redacted(url)
        case let .slack(url): "slack " + Self.redacted(url)
        case let .mail(to, _): "mail " + to.joined(separator: ", ")
        case let .command(line): "command " + (line.count > 80 ? String(line.prefix(80)) + "…" : line)
        }
    }

    /// `https://hooks.example.com/…`: scheme, host and port only.
    static func redacted(_ url: String) -> String {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, let host = parts.host else { return "(url)" }
        let port = parts.port.map { ":\($0)" } ?? ""
        let rest = (parts.path.isEmpty || parts.path == "/") && parts.query == nil ? "/" : "/…"
        return "\(scheme)://\(host)\(port)\(rest)"
    }
}
