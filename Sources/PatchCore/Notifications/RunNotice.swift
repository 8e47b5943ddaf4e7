import Foundation

/// A finished run as notifiers announce it: what ran, how it ended, who failed, and the run's
/// JSON document (exactly what `--output json` prints).
public struct RunNotice: Sendable {
    /// `scan`, `exec`, `deploy`, `install`.
    public var command: String
    public var runId: String?
    public var policy: String?
    /// The command's exit code: non-zero is a failure.
    public var exitCode: Int32
    /// Packages installed or hosts rebooted; for a scan, findings new or gone since the last.
    public var changed: Bool
    /// One line: `scan: 40 hosts, 37 ok, 3 failed`.
    public var headline: String
    /// One line per failed host (`HostOutcome.failureLine`).
    public var failures: [String]
    public var document: Data
    public var finishedAt: Date
    /// The controller that ran it (its `--controller` name, else the host name), so a shared channel tells controllers apart.
    public var controller: String

    public init(command: String, runId: String?, policy: String? = nil, exitCode: Int32, changed: Bool, headline: String,
                failures: [String], document: Data, finishedAt: Date, controller: String = ProcessInfo.processInfo.hostName) {
        self.command = command
        self.runId = runId
        self.policy = policy
        self.exitCode = exitCode
        self.changed = changed
        self.headline = headline
        self.failures = failures
        self.document = document
        self.finishedAt = finishedAt
        self.controller = controller
    }

    /// `[patchctl] scan on ctl1: 3 of 40 hosts failed` (mail subjects, Slack's first line).
    public var title: String {
        let what = policy.map { "\(command) \($0)" } ?? command
        return "[patchctl] \(what) on \(controller): \(headline)"
    }

    /// The text of a mail and of a Slack message: the headline, the failed hosts (the first 50),
    /// and how to see the whole run.
    public var text: String {
        var lines = [title, ""]
        if !failures.isEmpty {
            lines.append("Failed hosts:")
            lines += failures.prefix(Self.listedFailures).map { "  " + $0 }
            if failures.count > Self.listedFailures { lines.append("  … and \(failures.count - Self.listedFailures) more") }
            lines.append("")
        }
        lines.append("Exit code: \(exitCode)")
        if let runId { lines.append("Run: \(runId) (patchctl history show \(runId))") }
        lines.append("Finished: \(JSONOutput.timestamp(finishedAt))")
        return lines.map { TerminalText.neutralised($0) }.joined(separator: "\n") + "\n"
    }

    static let listedFailures = 50
}
