import ArgumentParser
import Foundation
import PatchCore

/// `--notify` on the commands that record runs: who hears of the run's end, and on which
/// outcomes (docs/configuration.md "Notifications"). A deploy also notifies its policy's `notify:` targets.
struct NotifyOptions: ParsableArguments {
    @Option(name: .customLong("notify"), help: ArgumentHelp(
        "At the run's end, notify webhook=URL, slack=URL, mail=ADDRESS[,ADDRESS...] (through sendmail) or command=LINE (the run's JSON on stdin). "
            + "Repeatable. A notifier that fails is a warning and a history event, never the exit code.",
        valueName: "kind=target"))
    var notify: [String] = []

    @Option(help: ArgumentHelp("When --notify fires: failure, changes, always, comma-separated (default: failure).", valueName: "conditions"))
    var notifyOn: String?

    @Option(help: ArgumentHelp("The environment variable holding the key that signs --notify webhooks (HMAC-SHA256).", valueName: "variable"))
    var notifySecretEnv: String?

    @Option(name: .customLong("notify-timeout"), help: ArgumentHelp(
        "Seconds each notifier may take: connect, send and reply, or the command's whole run (default 20, or PATCHCTL_NOTIFY_TIMEOUT).", valueName: "seconds"))
    var notifyTimeoutFlag: Double?

    var notifyTimeout: Double { notifyTimeoutFlag ?? Settings.seconds("PATCHCTL_NOTIFY_TIMEOUT") ?? Self.defaultTimeout }

    static let defaultTimeout = 20.0

    func validate() throws {
        guard notifyTimeout.isFinite, notifyTimeout > 0, notifyTimeout <= 600 else { throw ValidationError("--notify-timeout must be more than 0 and at most 600 seconds") }
        if notify.isEmpty, notifyOn != nil || notifySecretEnv != nil {
            // The configuration's targets carry their own `on` and `secret_env`.
            throw ValidationError("--notify-on and --notify-secret-env apply to --notify targets: give --notify KIND=TARGET")
        }
        let notifiers = try notifiers()
        if notifySecretEnv != nil, !notifiers.contains(where: { if case .webhook = $0.target { true } else { false } }) {
            throw ValidationError("--notify-secret-env signs webhooks only: give --notify webhook=URL")
        }
    }

    func notifiers(environment: [String: String] = Settings.environment) throws -> [Notifier] {
        do {
            let on = try notifyOn.map(Notifier.conditions) ?? Notifier.defaultConditions
            let sendmail = try Notifier.sendmail(environment["PATCHCTL_SENDMAIL"])
            return try notify.map { try Notifier(argument: $0, on: on, secretEnv: notifySecretEnv, sendmail: sendmail) }
        } catch let error as NotifierError {
            throw ValidationError("--notify: \(error.description)")
        }
    }

    /// Sends the run's notice to the flags' targets, the configuration's and `extra` (a policy's), records each attempt
    /// in history, and warns on stderr of any that failed. `changed` is asked only when someone is
    /// to be notified (for a scan it compares with the previous scan).
    func announce(_ run: RunEnd, extra: [Notifier] = [], store: HistoryStore?) async {
        let environment = Settings.environment
        let targets = ((try? notifiers(environment: environment)) ?? []) + Settings.config.notifiers + extra
        guard !targets.isEmpty else { return }
        let document: Data
        do {
            document = Data(try JSONOutput.encode(run.document, pretty: false).utf8)
        } catch {
            return Terminal.writeErrorLine("warning: notify: the run has no JSON form: \(error)")
        }
        let notice = RunNotice(command: run.command, runId: run.runId, policy: run.policy, exitCode: run.exitCode, changed: run.changed(),
                               headline: run.headline, failures: run.failures, document: document, finishedAt: run.finishedAt,
                               controller: (store?.controller ?? .thisMachine).label)
        let sender = NotificationSender(environment: environment, userAgent: "patchctl/\(PatchctlVersion.current)", timeout: notifyTimeout)
        let (deliveries, historyError) = await sender.announce(notice, to: targets, store: store, user: LocalUser.current(environment: environment))
        for delivery in deliveries {
            if let error = delivery.error { Terminal.writeErrorLine("warning: notify: \(delivery.notifier): \(error)") }
        }
        if let historyError { Terminal.writeErrorLine("warning: notify: the notifications could not be recorded in history: \(historyError)") }
    }
}

/// A finished run as the commands hand it to the notifiers.
struct RunEnd {
    var command: String
    var runId: String
    var policy: String?
    var exitCode: Int32
    var headline: String
    var failures: [String]
    var document: any Encodable
    var finishedAt: Date
    var changed: () -> Bool

    init<Outcome: HostOutcome>(command: String, runId: String, policy: String? = nil, exitCode: Int32, detail: String, hosts: [Outcome],
                               document: any Encodable, finishedAt: Date, changed: @escaping () -> Bool) {
        let failed = hosts.filter(\.status.isFailure)
        self.command = command
        self.runId = runId
        self.policy = policy
        self.exitCode = exitCode
        self.headline = "\(hosts.count) host\(hosts.count == 1 ? "" : "s"), \(failed.count) failed" + (detail.isEmpty ? "" : "; " + detail)
        self.failures = failed.map(\.failureLine)
        self.document = document
        self.finishedAt = finishedAt
        self.changed = changed
    }
}
