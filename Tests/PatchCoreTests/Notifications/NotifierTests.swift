import Foundation
import Testing
@testable import PatchCore

/// Notification targets as flags and policies give them, and the payloads they get, with no
/// network: signatures, escaping, redaction, conditions. Delivery is tested end to end in
/// NotifyCommandTests (a real HTTP server, a fake sendmail, a command).
@Suite("Notifiers")
struct NotifierTests {
    static func notice(exitCode: Int32 = 0, changed: Bool = false, failures: [String] = [], headline: String = "3 hosts, 0 failed") -> RunNotice {
        RunNotice(command: "scan", runId: "r1", exitCode: exitCode, changed: changed, headline: headline, failures: failures,
                  document: Data("{\"run_id\":\"r1\"}".utf8), finishedAt: Date(timeIntervalSince1970: 1_800_000_000), controller: "ctl1")
    }

    @Test func signatureIsHMACSHA256OfTheBodyInHex() {
        // RFC 4231, test case 2.
        #expect(NotificationSender.signature(Data("what do ya want for nothing?".utf8), secret: "Jefe")
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    struct ConditionCase: Sendable, CustomTestStringConvertible {
        var on: Set<Notifier.Condition>
        var exitCode: Int32
        var changed: Bool
        var expected: Notifier.Condition?
        var testDescription: String { "\(on.map(\.rawValue).sorted()) exit \(exitCode) changed \(changed)" }
    }

    static let conditionCases: [ConditionCase] = [
        ConditionCase(on: [.failure], exitCode: 2, changed: false, expected: .failure),
        ConditionCase(on: [.failure], exitCode: 0, changed: true, expected: nil),
        ConditionCase(on: [.changes], exitCode: 0, changed: true, expected: .changes),
        ConditionCase(on: [.changes], exitCode: 0, changed: false, expected: nil),
        ConditionCase(on: [.changes], exitCode: 2, changed: true, expected: .changes),
        ConditionCase(on: [.failure, .changes], exitCode: 2, changed: true, expected: .failure),
        ConditionCase(on: [.always], exitCode: 0, changed: false, expected: .always),
        ConditionCase(on: [.always], exitCode: 130, changed: false, expected: .failure),
    ]

    @Test(arguments: conditionCases)
    func conditionsPickWhatARunIsAnnouncedAs(_ c: ConditionCase) {
        let notifier = Notifier(target: .command("true"), on: c.on)
        #expect(notifier.condition(for: Self.notice(exitCode: c.exitCode, changed: c.changed)) == c.expected)
    }

    @Test func labelsNeverCarryAURLsPathOrQuery() throws {
        let slack = try Notifier(argument: "slack=https://hooks.slack.com/services/T0/B0/SECRET", on: [.failure], secretEnv: nil)
        #expect(slack.label == "slack https://hooks.slack.com/…")
        let hook = try Notifier(argument: "webhook=http://127.0.0.1:8080/?token=x", on: [.failure], secretEnv: "K")
        #expect(hook.label == "webhook http://127.0.0.1:8080/…" && hook.target == .webhook(url: "http://127.0.0.1:8080/?token=x", secretEnv: "K"))
        #expect(try Notifier(argument: "webhook=https://example.com", on: [], secretEnv: nil).label == "webhook https://example.com/")
        // No condition given is the default: failure.
        #expect(try Notifier(argument: "webhook=https://example.com", on: [], secretEnv: nil).on == [.failure])
    }

    @Test func mailCannotGainAHeaderOrARecipientThroughAHostName() {
        let notice = Self.notice(exitCode: 2, failures: ["evil\nBcc: attacker@example.com: unreachable"],
                                 headline: "1 host, 1 failed\r\nBcc: attacker@example.com")
        let message = NotificationSender.mail(notice, to: ["ops@example.com"])
        let headers = message.components(separatedBy: "\n\n")[0].split(separator: "\n")
        #expect(headers.count == 7, "\(headers)")
        #expect(!headers.contains { $0.hasPrefix("Bcc") })
        #expect(headers.first { $0.hasPrefix("Subject: ") }?.contains("1 host, 1 failed") == true)
        // The body shows the name's control characters; it cannot end the list or start a header.
        #expect(!message.contains("\nBcc:"))
    }

    @Test func slackTextCannotBecomeALinkOrAMention() throws {
        let notice = Self.notice(exitCode: 2, failures: ["<!channel> & <https://evil.example|click>: unreachable"])
        let escaped = NotificationSender.slackEscaped(notice.text)
        #expect(!escaped.contains("<") && !escaped.contains(">") && escaped.contains("&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;"))
    }

    @Test func theWebhookEnvelopeCarriesTheRunDocument() throws {
        let body = try NotificationSender.envelope(Self.notice(exitCode: 2, failures: ["dead: unreachable"]), condition: .failure)
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(object["event"] as? String == "run_finished" && object["condition"] as? String == "failure" && object["exit_code"] as? Int == 2)
        #expect((object["run"] as? [String: Any])?["run_id"] as? String == "r1" && object["policy"] is NSNull)
        #expect(object["failed_hosts"] as? [String] == ["dead: unreachable"] && object["controller"] as? String == "ctl1")
        #expect(object["finished_at"] as? String == "2027-01-15T08:00:00.000Z")
    }

    @Test func aLongFailureListIsCutInTheText() {
        let text = Self.notice(exitCode: 2, failures: (1...60).map { "h\($0): unreachable" }).text
        #expect(text.contains("  h50: unreachable") && !text.contains("  h51:") && text.contains("… and 10 more"))
    }

    @Test(arguments: [
        ("notify: {webhook: https://x.example}", 6, "'notify' must be a list of targets"),
        ("notify: [https://x.example]", 6, "notify entry 1 must be a map"),
        ("notify: [{on: [failure]}]", 6, "notify entry 1 needs exactly one of webhook, slack, mail or command"),
        ("notify: [{webhook: https://x.example, slack: https://y.example}]", 6, "found webhook and slack"),
        ("notify: [{webhook: 'ftp://x'}]", 6, "is not an http:// or https:// URL"),
        ("notify: [{webhook: https://x.example, on: [sometimes]}]", 6, "unknown condition 'sometimes' in notify entry 1"),
        ("notify: [{webhook: https://x.example, on: []}]", 6, "lists no condition"),
        ("notify: [{slack: https://x.example, secret_env: K}]", 6, "'secret_env' belongs to a webhook target, not slack"),
        ("notify: [{webhook: https://x.example, secret_env: 'not a name'}]", 6, "is not an environment variable name"),
        ("notify: [{mail: [ops@example.com], sendmail: sendmail}]", 6, "'sendmail' must be an absolute path"),
        ("notify: [{mail: ['a@example.com, b@example.com']}]", 6, "is not a mail address"),
        ("notify: [{command: ''}]", 6, "command"),
        ("notify: [{webhook: https://x.example, to: y}]", 6, "to"),
    ])
    func policyMistakesNameTheirLine(line: String, number: Int, message: String) {
        #expect {
            try Policy.parse("name: p\ntargets: all\nreboot: never\napproval: auto\nrefresh: false\n" + line + "\n", file: "p.yml")
        } throws: { error in
            guard case let .policy(_, errorLine, _, text) = error as? PatchError else { return false }
            return errorLine == number && text.contains(message)
        }
    }

    @Test func aPolicyListsItsTargets() throws {
        let policy = try Policy.parse("""
            name: p
            targets: all
            notify:
              - {webhook: "https://hooks.example.com/patch", secret_env: PATCH_HOOK, on: [failure, changes]}
              - slack: https://hooks.slack.com/services/T0/B0/X
              - {mail: [ops@example.com, oncall@example.org], sendmail: /usr/lib/sendmail, on: [always]}
              - command: logger -t patchctl
            """, file: "p.yml")
        #expect(policy.notify == [
            Notifier(target: .webhook(url: "https://hooks.example.com/patch", secretEnv: "PATCH_HOOK"), on: [.failure, .changes]),
            Notifier(target: .slack(url: "https://hooks.slack.com/services/T0/B0/X"), on: [.failure]),
            Notifier(target: .mail(to: ["ops@example.com", "oncall@example.org"], sendmail: "/usr/lib/sendmail"), on: [.always]),
            Notifier(target: .command("logger -t patchctl"), on: [.failure]),
        ])
    }
}
