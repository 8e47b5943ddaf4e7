import Foundation
import LabSupport
import Testing

/// `--notify` and a policy's `notify:` as cron runs them: the real binary against the lab, a real
/// HTTP server on loopback that records each POST and checks its signature with python's hmac,
/// a fake sendmail that records its arguments and message, and a command notifier.
@Suite("patchctl notifications CLI", .serialized, .enabled(if: CLI.labEnabled))
struct NotifyCommandTests {
    static let secret = "s3cret-for-the-test"

    /// The lab's host, and one closed port (unreachable) unless `healthy`.
    static func inventory(_ folder: URL, healthy: Bool) throws -> String {
        let path = folder.appendingPathComponent("inv.yml")
        try """
            all:
              vars: {ansible_user: root, ansible_port: \(try CLI.lab("LAB_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
              hosts:
                web1: {ansible_host: 127.0.0.1}
            \(healthy ? "" : "    dead: {ansible_host: 127.0.0.2, ansible_port: 1}")
            """.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    /// A sendmail stand-in: its arguments, then the message it read, in `file`.
    static func fakeSendmail(_ folder: URL, recordingTo file: URL) throws -> String {
        let path = folder.appendingPathComponent("sendmail")
        try "#!/bin/sh\nprintf '%s\\n' \"$*\" > '\(file.path)'\ncat >> '\(file.path)'\n".write(to: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path.path)
        return path.path
    }

    static func events(_ db: String) throws -> [[String: Any]] {
        let events = try CLI.run(["history", "events", "--db", db, "--output", "json"])
        return try #require(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]], "\(events.stderr)")
    }

    @Test func aFailedScanReachesEveryKindOfNotifierAndNoneChangesTheExitCode() async throws {
        let server = try await WebhookRecorder.start(secret: Self.secret)
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let mailFile = folder.appendingPathComponent("mail.txt"), commandFile = folder.appendingPathComponent("run.json")
        let environment = ["HOOK_SECRET": Self.secret, "PATCHCTL_SENDMAIL": try Self.fakeSendmail(folder, recordingTo: mailFile)]
        let result = try await CLI.runWaiting([
            "scan", "-i", try Self.inventory(folder, healthy: false), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "json",
            "--notify", "webhook=" + server.url("/hook?token=abc"), "--notify-secret-env", "HOOK_SECRET",
            "--notify", "webhook=" + server.url("/fail"), "--notify", "mail=ops@example.com,oncall@example.org",
            "--notify", "command=cat > '\(commandFile.path)'", "--controller", "dmz",
        ], environment: environment)
        // The scan's own exit code and document, whatever the notifiers did.
        #expect(result.status == 2, "\(result.stderr)")
        let run = try CLI.json(result.stdout)
        let runId = try #require(run["run_id"] as? String)
        #expect(result.stderr.contains("dead (127.0.0.2): unreachable"), "\(result.stderr)")
        #expect(result.stderr.contains("warning: notify: webhook http://127.0.0.1:\(server.port)/…: HTTP 500 Internal Server Error: boom: the receiver is down"),
                "\(result.stderr)")

        // The signed webhook: the run's document under `run`, signed over the exact body.
        let requests = try server.requests()
        #expect(requests.map(\.path).sorted() == ["/fail", "/hook?token=abc"])
        let hook = try #require(requests.first { $0.path.hasPrefix("/hook") })
        #expect(hook.headers["x-patchctl-signature-256"] == hook.expectedSignature, "\(hook.headers)")
        #expect(hook.headers["content-type"] == "application/json" && hook.headers["x-patchctl-event"] == "run_finished")
        #expect(hook.headers["user-agent"]?.hasPrefix("patchctl/") == true)
        let body = hook.json
        #expect(body["event"] as? String == "run_finished" && body["condition"] as? String == "failure" && body["command"] as? String == "scan")
        #expect(body["run_id"] as? String == runId && body["exit_code"] as? Int == 2)
        // The controller as the run recorded it: its --controller name.
        #expect(body["controller"] as? String == "dmz", "\(body)")
        #expect((body["failed_hosts"] as? [String])?.count == 1 && (body["failed_hosts"] as? [String])?.first?.hasPrefix("dead (127.0.0.2): unreachable") == true)
        #expect((body["run"] as? [String: Any])?["run_id"] as? String == runId)
        #expect((body["headline"] as? String)?.hasPrefix("2 hosts, 1 failed; ") == true, "\(body)")
        // --notify-secret-env signs every webhook of the command.
        let other = try #require(requests.first { $0.path == "/fail" })
        #expect(other.headers["x-patchctl-signature-256"] == other.expectedSignature)

        // Mail through sendmail: recipients as arguments after --, one subject line, who failed.
        let mail = try String(contentsOf: mailFile, encoding: .utf8)
        #expect(mail.hasPrefix("-oi -- ops@example.com oncall@example.org\n"), "\(mail)")
        #expect(mail.contains("\nSubject: [patchctl] scan on dmz: "), "\(mail)")
        #expect(mail.contains("\n  dead (127.0.0.2): unreachable") && mail.contains("Run: \(runId)"), "\(mail)")

        // The command got the run's JSON on stdin: the same document scan printed.
        let piped = try CLI.json(try String(contentsOf: commandFile, encoding: .utf8))
        #expect(piped["run_id"] as? String == runId && (piped["hosts"] as? [Any])?.count == 2)

        // History has every attempt, the failed one with why; no secret, no URL path or query.
        let events = try Self.events(db).filter { ($0["action"] as? String)?.hasPrefix("notify") == true }
        #expect(events.count == 4)
        #expect(events.allSatisfy { $0["run_id"] as? String == runId })
        let failedEvents = events.filter { $0["action"] as? String == "notify-failed" }
        #expect(failedEvents.count == 1 && (failedEvents.first?["detail"] as? String)?.contains("HTTP 500") == true, "\(failedEvents)")
        let details = events.compactMap { $0["detail"] as? String }.joined(separator: "\n")
        #expect(!details.contains("token=abc") && !details.contains(Self.secret), "\(details)")
    }

    @Test func conditionsDecideWhoHearsOfASuccessfulScan() async throws {
        let server = try await WebhookRecorder.start(secret: Self.secret)
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let common = ["scan", "-i", try Self.inventory(folder, healthy: true), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db,
                      "--notify", "slack=" + server.url("/slack/T000/B000/XXXX"), "--notify", "webhook=" + server.url("/changes")]
        // failure only (the default): a clean scan says nothing (into a history of its own).
        let quiet = try await CLI.runWaiting(common + ["--db", folder.appendingPathComponent("other.db").path])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(try server.requests().isEmpty)
        // changes: the first scan in history found the lab's pending updates; the same again found nothing new.
        let first = try await CLI.runWaiting(common + ["--notify-on", "changes"])
        #expect(first.status == 0, "\(first.stderr)")
        let firstRequests = try server.requests()
        #expect(firstRequests.count == 2, "\(firstRequests.map(\.path))")
        let slack = try #require(firstRequests.first { $0.path.hasPrefix("/slack") })
        let text = try #require(slack.json["text"] as? String)
        #expect(slack.json.count == 1 && text.hasPrefix("[patchctl] scan on ") && text.contains("1 host, 0 failed"), "\(slack.body)")
        #expect(firstRequests.first { $0.path == "/changes" }?.json["condition"] as? String == "changes")
        let again = try await CLI.runWaiting(common + ["--notify-on", "changes"])
        #expect(again.status == 0 && again.stderr.isEmpty, "\(again.stderr)")
        // The first two scans compared: no change, so no notice.
        #expect(try server.requests().count == 2)
        // always.
        let always = try await CLI.runWaiting(common + ["--notify-on", "always"])
        #expect(always.status == 0)
        let last = try server.requests().dropFirst(2)
        #expect(last.count == 2 && last.first { $0.path == "/changes" }?.json["condition"] as? String == "always", "\(last.map(\.body))")
    }

    @Test func aNotifierThatHangsOrCannotSignIsBoundedAndRecordedNotFatal() async throws {
        let server = try await WebhookRecorder.start(secret: Self.secret)
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let common = ["scan", "-i", try Self.inventory(folder, healthy: true), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db,
                      "--output", "json", "--notify-on", "always", "--notify-timeout", "2"]
        let hang = try await CLI.runWaiting(common + ["--notify", "webhook=" + server.url("/hang")])
        #expect(hang.status == 0, "\(hang.stderr)")
        #expect((try CLI.json(hang.stdout))["run_id"] is String)
        #expect(hang.stderr.contains("warning: notify: webhook http://127.0.0.1:\(server.port)/…: no reply in time"), "\(hang.stderr)")
        #expect(try server.requests().map(\.path) == ["/hang"])
        let unsigned = try await CLI.runWaiting(common + ["--notify", "webhook=" + server.url("/unsigned"), "--notify-secret-env", "NOT_SET_HERE"],
                                                environment: ["NOT_SET_HERE": ""])
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        #expect(unsigned.stderr.contains("the signing secret NOT_SET_HERE is not set in the environment: not sent"), "\(unsigned.stderr)")
        // Never sent unsigned.
        #expect(try server.requests().map(\.path) == ["/hang"])
        let failed = try Self.events(db).filter { $0["action"] as? String == "notify-failed" }
        #expect(failed.count == 2, "\(failed)")
    }

    @Test func invalidTargetsAreUsageErrorsBeforeAnyHostIsContacted() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let common = ["scan", "-i", try Self.inventory(folder, healthy: true), "--db", db]
        for (arguments, message) in [
            (["--notify", "pager=123"], "unknown notification kind 'pager'"),
            (["--notify", "webhook"], "is not KIND=TARGET"),
            (["--notify", "webhook=ftp://example.com/x"], "is not an http:// or https:// URL"),
            (["--notify", "webhook=https://user:pw@example.com/x"], "no user or password in the URL"),
            (["--notify", "mail=-oQ/tmp/x@example.com"], "is not a mail address"),
            (["--notify", "mail=a@example.com\nBcc: b@example.com"], "is not a mail address"),
            (["--notify", "slack=https://hooks.slack.com/x", "--notify-secret-env", "K"], "signs webhooks only"),
            (["--notify", "webhook=https://example.com/x", "--notify-on", "sometimes"], "unknown condition 'sometimes'"),
            (["--notify-on", "always"], "give --notify KIND=TARGET"),
            (["--notify", "command=a\nb"], "the command must be one line"),
        ] {
            let result = try await CLI.runWaiting(common + arguments)
            #expect(result.status == 64 && result.stderr.contains(message), "\(arguments): \(result.status) \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func aPolicysNotifyTargetsHearOfItsDeployment() async throws {
        try await CLI.withDeployEndpoints {
            let server = try await WebhookRecorder.start(secret: Self.secret)
            let base = try CLI.temporaryDirectory()
            let commandFile = base.appendingPathComponent("deploy.json")
            let policy = DeployCommandTests.localPolicy + """
                notify:
                  - {webhook: \(server.url("/deploys")), secret_env: DEPLOY_HOOK, on: [changes]}
                  - {command: "cat > '\(commandFile.path)'", on: [failure]}

                """
            let setup = try DeployCommandTests.setup(slots: [3], policy: policy)
            let plan = try await CLI.runWaiting(["deploy", "--policy", setup.policy, "--dry-run"] + setup.common, environment: ["DEPLOY_HOOK": Self.secret])
            #expect(plan.status == 0, "\(plan.stderr)")
            // A plan changes nothing.
            #expect(try server.requests().isEmpty)
            let deploy = try await CLI.runWaiting(["deploy", "--policy", setup.policy, "--output", "json"] + setup.common, environment: ["DEPLOY_HOOK": Self.secret])
            #expect(deploy.status == 0, "\(deploy.stderr)")
            let runId = try #require(try CLI.json(deploy.stdout)["run_id"] as? String)
            let hook = try #require(try server.requests().first)
            #expect(hook.headers["x-patchctl-signature-256"] == hook.expectedSignature)
            let body = hook.json
            #expect(body["condition"] as? String == "changes" && body["policy"] as? String == "lab-cli" && body["run_id"] as? String == runId, "\(body)")
            #expect((body["headline"] as? String)?.contains("1 package installed") == true, "\(body)")
            // Success: the failure-only command was not run.
            #expect(!FileManager.default.fileExists(atPath: commandFile.path))
            let events = try Self.events(setup.db).filter { $0["action"] as? String == "notify" }
            #expect(events.count == 1 && events.first?["policy"] as? String == "lab-cli", "\(events)")
        }
    }
}
