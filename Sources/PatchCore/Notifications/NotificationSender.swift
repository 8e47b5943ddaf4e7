import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Subprocess

/// Sends a finished run's notice to the notifiers whose conditions it meets, one after another,
/// each bounded in time. A failure is returned, never thrown: a notifier must not change the
/// run's exit code or lose the run.
public struct NotificationSender: Sendable {
    public struct Delivery: Sendable, Equatable {
        public var notifier: String
        public var condition: Notifier.Condition
        /// Nil when it was delivered.
        public var error: String?
    }

    public var environment: [String: String]
    /// `patchctl/VERSION`, for the webhook's User-Agent.
    public var userAgent: String
    /// Seconds each notifier may take (connect, send, reply; or the command's whole run).
    public var timeout: Double

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, userAgent: String = "patchctl", timeout: Double = 20) {
        self.environment = environment
        self.userAgent = userAgent
        self.timeout = timeout
    }

    public func deliver(_ notice: RunNotice, to notifiers: [Notifier]) async -> [Delivery] {
        var deliveries: [Delivery] = []
        for notifier in notifiers {
            guard let condition = notifier.condition(for: notice) else { continue }
            var problem: String?
            do {
                try await send(notice, as: condition, to: notifier.target)
            } catch {
                problem = (error as? NotifierError)?.description ?? String(describing: error)
            }
            deliveries.append(Delivery(notifier: notifier.label, condition: condition, error: problem))
        }
        return deliveries
    }

    func send(_ notice: RunNotice, as condition: Notifier.Condition, to target: Notifier.Target) async throws {
        switch target {
        case let .webhook(url, secretEnv):
            var headers = [("X-Patchctl-Event", "run_finished")]
            let body = try Self.envelope(notice, condition: condition)
            if let secretEnv {
                // Configured to sign: never send unsigned because the secret is missing.
                guard let secret = environment[secretEnv], !secret.isEmpty else {
                    throw NotifierError("the signing secret \(secretEnv) is not set in the environment: not sent")
                }
                headers.append(("X-Patchctl-Signature-256", "sha256=" + Self.signature(body, secret: secret)))
            }
            try await post(body, to: url, headers: headers)
        case let .slack(url):
            let message = ["text": Self.slackEscaped(notice.text)]
            try await post(try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys]), to: url, headers: [])
        case let .mail(to, sendmail):
            try await run(sendmail, ["-oi", "--"] + to, input: Array(Self.mail(notice, to: to).utf8), environment: [:])
        case let .command(line):
            try await run("/bin/sh", ["-c", line], input: Array(notice.document), environment: [
                "PATCHCTL_EVENT": "run_finished", "PATCHCTL_CONDITION": condition.rawValue, "PATCHCTL_COMMAND": notice.command,
                "PATCHCTL_RUN_ID": notice.runId ?? "", "PATCHCTL_POLICY": notice.policy ?? "", "PATCHCTL_EXIT_CODE": "\(notice.exitCode)",
                "PATCHCTL_HEADLINE": notice.headline,
            ])
        }
    }

    // MARK: Payloads

    /// The webhook's body: what happened, then the run's JSON document under `run`.
    static func envelope(_ notice: RunNotice, condition: Notifier.Condition) throws -> Data {
        let run = try JSONSerialization.jsonObject(with: notice.document, options: [.fragmentsAllowed])
        let object: [String: Any] = [
            "event": "run_finished", "condition": condition.rawValue, "command": notice.command,
            "run_id": notice.runId as Any? ?? NSNull(), "policy": notice.policy as Any? ?? NSNull(),
            "exit_code": Int(notice.exitCode), "changed": notice.changed, "headline": notice.headline,
            "failed_hosts": notice.failures, "controller": notice.controller,
            "finished_at": JSONOutput.timestamp(notice.finishedAt), "run": run,
        ]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// HMAC-SHA256 of the exact body, hex (as GitHub's `X-Hub-Signature-256`).
    static func signature(_ body: Data, secret: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))))
    }

    /// Slack's mrkdwn treats `&`, `<` and `>` as markup: a host name must not become a link or a mention.
    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// An RFC 5322 message for sendmail: the subject is one neutralised line (no header can be
    /// added through a host name), recipients are validated addresses.
    static func mail(_ notice: RunNotice, to: [String]) -> String {
        let subject = String(TerminalText.neutralised(notice.title).prefix(200))
        var headers = [
            "To: " + to.joined(separator: ", "), "Subject: " + subject, "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit", "Auto-Submitted: auto-generated",
        ]
        if let runId = notice.runId { headers.append("X-Patchctl-Run: " + runId) }
        return headers.joined(separator: "\n") + "\n\n" + notice.text
    }

    // MARK: Transports

    private func post(_ body: Data, to url: String, headers: [(String, String)]) async throws {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: TLSConfiguration.makeClientConfiguration(), redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(Int64(min(timeout, 10))), read: .seconds(Int64(timeout))))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: userAgent)
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await client.execute(request, deadline: .now() + .seconds(Int64(timeout)))
            // Read (a little of) the reply to its end: an unread body keeps the connection busy.
            let reply = try await response.body.collect(upTo: 64 << 10)
            try? await client.shutdown()
            guard (200..<300).contains(response.status.code) else {
                let said = TerminalText.neutralised(String(decoding: reply.readableBytesView.prefix(200), as: UTF8.self))
                throw NotifierError("HTTP \(response.status.code) \(response.status.reasonPhrase)" + (said.isEmpty ? "" : ": " + said))
            }
        } catch let error as NotifierError {
            throw error
        } catch {
            try? await client.shutdown()
            throw NotifierError(Self.describe(error))
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .readTimeout, .deadlineExceeded: return "no reply in time"
            default: return "\(error)"
            }
        }
        return "\(error)"
    }

    /// A local program, its input on stdin, its output bounded, killed past the timeout.
    private func run(_ executable: String, _ arguments: [String], input: [UInt8], environment extra: [String: String]) async throws {
        let deadline = timeout
        let outcome: ExecutionResult<Void, BytesOutput, BytesOutput>? = try await withThrowingTaskGroup(of: ExecutionResult<Void, BytesOutput, BytesOutput>?.self) { group in
            group.addTask {
                var overrides: [Environment.Key: String?] = [:]
                for (key, value) in extra { overrides[Environment.Key(stringLiteral: key)] = value }
                return try await Subprocess.run(
                    .path(.init(executable)), arguments: Arguments(arguments), environment: .inherit.updating(overrides),
                    input: .array(input), output: .bytes(limit: 64 << 10), error: .bytes(limit: 64 << 10))
            }
            group.addTask {
                try await Task.sleep(for: .seconds(deadline))
                return nil
            }
            defer { group.cancelAll() }  // cancelling the run kills the child (swift-subprocess's teardown)
            return try await group.next() ?? nil
        }
        guard let outcome else { throw NotifierError("\(executable) did not finish within \(Int(timeout)) s: killed") }
        guard case .exited(0) = outcome.terminationStatus else {
            let said = TerminalText.neutralised(String(decoding: (outcome.standardError + outcome.standardOutput).prefix(300), as: UTF8.self))
            throw NotifierError("\(executable) \(outcome.terminationStatus.summary)" + (said.trimmed.isEmpty ? "" : ": " + said.trimmed))
        }
    }
}
