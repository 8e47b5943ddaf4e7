import Foundation
import LabSupport
import PatchCore
import Testing

/// Issue 14 #6: what endpoints said (package names, versions, sources, os-release, errors, command
/// output) is kept byte for byte in history, and every text output replays it with its control
/// characters made visible. The history is written through PatchCore's own store, the way scan,
/// exec and deploy write it; the commands are the real binary.
@Suite("patchctl text output neutralises control characters")
struct TerminalInjectionCommandTests {
    static let title = HostileText.title, clear = HostileText.clear, clipboard = HostileText.clipboard
    static let conceal = HostileText.conceal, csi8bit = HostileText.csi8bit, override = HostileText.override
    static let isolate = HostileText.isolate

    static func offending(_ text: String) -> [String] { HostileText.offending(text) }

    static func expectInert(_ result: CLI.Result, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.stdout.utf8.contains(0x1B) && !result.stderr.utf8.contains(0x1B), "\(what): ESC byte in the output",
                sourceLocation: sourceLocation)
        #expect(offending(result.stdout).isEmpty, "\(what) stdout: \(offending(result.stdout))", sourceLocation: sourceLocation)
        #expect(offending(result.stderr).isEmpty, "\(what) stderr: \(offending(result.stderr))", sourceLocation: sourceLocation)
    }

    struct History {
        var db: String
        var firstScan: String
        var secondScan: String
        var exec: String
        var deploy: String
    }

    /// Two scans (the second with hostile findings and a failing host whose error repeats remote
    /// text), an exec run with hostile output, a deploy run, an approval request and an exception.
    static func hostileHistory() throws -> History {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("history.db").path
        let store = try HistoryStore(path: db)
        let now = Date()
        let os = OSInfo(family: .debian, id: "debian", name: "Debian\(conceal)", version: "12\(csi8bit)", codename: "bookworm")
        let plain = PendingUpdate(name: "openssl", installedVersion: "3.0.14-1", availableVersion: "3.0.15-1",
                                  source: "Debian-Security:12/oldstable-security", security: true)
        let hostile = PendingUpdate(name: "pkg\(title)\(clear)", installedVersion: "1.0\(conceal)\r2.0", availableVersion: "1.1\u{7F}\u{08}",
                                    source: "repo\(clipboard)\(override)", security: true)
        let forged = PendingUpdate(name: "fake\nweb9  ok\tx", installedVersion: "1\(isolate)", availableVersion: "2\u{85}",
                                   source: "x\(HostileText.colourMarkers)", security: false)

        func scan(at date: Date, _ hosts: [HostScan]) throws -> String {
            let id = try store.beginRun(kind: .scan, startedAt: date.addingTimeInterval(-3), inventory: "inv\(title).yml", hostPattern: nil,
                                        options: nil, version: "test")
            try store.record(runId: id, hosts: hosts)
            try store.finishRun(runId: id, finishedAt: date)
            return id
        }
        let first = try scan(at: now.addingTimeInterval(-7200), [
            HostScan(name: "web\(override)1", address: "10.0.0.1", port: 22, status: .ok, os: os, rebootRequired: false, installedCount: 10,
                     updates: [plain], startedAt: now.addingTimeInterval(-7210), finishedAt: now.addingTimeInterval(-7200)),
        ])
        let second = try scan(at: now.addingTimeInterval(-3600), [
            HostScan(name: "web\(override)1", address: "10.0.0.1", port: 22, status: .ok, os: os, rebootRequired: false, installedCount: 10,
                     updates: [plain, hostile, forged], startedAt: now.addingTimeInterval(-3610), finishedAt: now.addingTimeInterval(-3600)),
            HostScan(name: "db1", address: "10.0.0.2", port: 22, status: .error, error: "remote said \(title)\nweb1: ok",
                     startedAt: now.addingTimeInterval(-3610), finishedAt: now.addingTimeInterval(-3600)),
        ])

        let exec = try store.beginRun(kind: .exec, startedAt: now.addingTimeInterval(-1800), inventory: "inv.yml", hostPattern: nil,
                                      options: "uptime", version: "test")
        try store.record(runId: exec, hosts: [
            ExecResult(name: "web\(override)1", address: "10.0.0.1", port: 22, status: .ok, exitCode: 0,
                       stdout: "up \(clear)3 days\r\nload\(clipboard)\r\n", stderr: "warn\(csi8bit)\n", durationMs: 5,
                       startedAt: now.addingTimeInterval(-1800), finishedAt: now.addingTimeInterval(-1799)),
        ])
        try store.finishRun(runId: exec, finishedAt: now.addingTimeInterval(-1799))

        let deploy = try store.beginRun(kind: .deploy, startedAt: now.addingTimeInterval(-900), inventory: "inv.yml", hostPattern: nil,
                                        options: nil, version: "test", policy: "weekly\(title)", user: "op\(conceal)")
        var host = DeployHostRecord(host: Host(name: "web\(override)1"), status: .failed, ring: "canary\(clear)", batch: 1,
                              error: "dpkg said \(title)", startedAt: now.addingTimeInterval(-900), finishedAt: now.addingTimeInterval(-890))
        host.planned = [PlannedUpdate(hostile)]
        host.failed = [FailedPackage(name: hostile.name, fromVersion: hostile.installedVersion, targetVersion: hostile.availableVersion,
                                     actualVersion: "0\(csi8bit)", reason: "E: \(clipboard)")]
        host.skipped = [SkippedUpdate(name: forged.name, version: forged.availableVersion, reason: "held\(override)", awaitingApproval: true)]
        host.commands = ["apt-get install \(title)"]
        try store.record(runId: deploy, hosts: [host])
        let report: [String: Any] = ["outcome": "finished", "dry_run": false, "notes": ["note \(title)"],
                                     "rings": [["name": "canary\(clear)", "hosts": 1, "failed": 1, "state": "ran"]]]
        let reportJSON = String(decoding: try JSONSerialization.data(withJSONObject: report), as: UTF8.self)
        try store.finishRun(runId: deploy, finishedAt: now.addingTimeInterval(-890), report: reportJSON)

        try store.requestApproval(policy: "weekly\(title)", package: hostile.name, version: hostile.availableVersion, ring: "canary\(clear)",
                                  runId: deploy, at: now.addingTimeInterval(-890))
        _ = try store.addException(host: "web\(override)*", target: "pkg\(title)", until: now.addingTimeInterval(86_400 * 30),
                                   reason: "vendor\(clipboard)\nfix", owner: "ops\(conceal)", by: "me\(csi8bit)", at: now.addingTimeInterval(-600))
        return History(db: db, firstScan: first, secondScan: second, exec: exec, deploy: deploy)
    }

    @Test func historyShowReplaysHostileFindingsVisibly() throws {
        let h = try Self.hostileHistory()
        let show = try CLI.run(["history", "show", h.secondScan, "--db", h.db])
        #expect(show.status == 0, "\(show.stderr)")
        Self.expectInert(show, "history show (scan)")
        #expect(show.stdout.contains("pkg\\x1b]0;pwned\\x07\\x1b[2J"), "\(show.stdout)")
        #expect(show.stdout.contains("1.0\\x1b[8m\\r2.0") && show.stdout.contains("1.1\\x7f\\x08"))
        #expect(show.stdout.contains("repo\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\u202e"))
        #expect(show.stdout.contains("web\\u202e1") && show.stdout.contains("Debian\\x1b[8m 12\\u009b31m"))
        // A newline or tab in a value cannot start a row (or a column) of its own.
        #expect(show.stdout.contains("fake\\nweb9  ok\\tx") && !show.stdout.contains("\nweb9"))
        #expect(show.stdout.contains("db1: error: remote said \\x1b]0;pwned\\x07\\nweb1: ok"))

        // JSON keeps the original text, escaped the JSON way.
        let json = try CLI.run(["history", "show", h.secondScan, "--db", h.db, "--output", "json"])
        #expect(json.stdout.contains("pkg\\u001b]0;pwned\\u0007\\u001b[2J"))
        let hosts = try #require(try CLI.json(json.stdout)["hosts"] as? [[String: Any]])
        let web = hosts.first { ($0["name"] as? String) == "web\(Self.override)1" }
        let names = (web?["updates"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        #expect(Set(names ?? []) == ["openssl", "pkg\(Self.title)\(Self.clear)", "fake\nweb9  ok\tx"])

        let exec = try CLI.run(["history", "show", h.exec, "--db", h.db])
        Self.expectInert(exec, "history show (exec)")
        // CRLF ends a line (Windows); a lone CR or an escape inside it is shown.
        #expect(exec.stdout.contains("    up \\x1b[2J3 days\n    load\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\n    warn\\u009b31m\n"), "\(exec.stdout)")

        let deploy = try CLI.run(["history", "show", h.deploy, "--db", h.db])
        Self.expectInert(deploy, "history show (deploy)")
        #expect(deploy.stdout.contains("failed: dpkg said \\x1b]0;pwned\\x07") && deploy.stdout.contains("note: note \\x1b]0;pwned\\x07"))
        #expect(deploy.stdout.contains("command apt-get install \\x1b]0;pwned\\x07") && deploy.stdout.contains("canary\\x1b[2J"))

        let list = try CLI.run(["history", "list", "--db", h.db])
        Self.expectInert(list, "history list")
        #expect(list.stdout.contains("inv\\x1b]0;pwned\\x07.yml") && list.stdout.contains("policy weekly\\x1b]0;pwned\\x07 by op\\x1b[8m"))
    }

    @Test func reportsDiffAndListsReplayHostileTextVisibly() throws {
        let h = try Self.hostileHistory()
        let compliance = try CLI.run(["report", "compliance", "--db", h.db])
        #expect(compliance.status == 0, "\(compliance.stderr)")
        Self.expectInert(compliance, "report compliance")
        #expect(compliance.stdout.contains("web\\u202e1") && compliance.stdout.contains("Debian\\x1b[8m"), "\(compliance.stdout)")
        #expect(compliance.stdout.contains("weekly\\x1b]0;pwned\\x07") && compliance.stdout.contains("vendor\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\nfix"))
        Self.expectInert(try CLI.run(["report", "hosts", "--db", h.db]), "report hosts")

        let diff = try CLI.run(["diff", "--db", h.db])
        #expect(diff.status == 0, "\(diff.stderr)")
        Self.expectInert(diff, "diff")
        #expect(diff.stdout.contains("+ pkg\\x1b]0;pwned\\x07\\x1b[2J 1.1\\x7f\\x08 [security]"), "\(diff.stdout)")
        #expect(diff.stdout.contains("+ fake\\nweb9  ok\\tx 2\\u0085"))

        let approvals = try CLI.run(["approvals", "list", "--db", h.db])
        Self.expectInert(approvals, "approvals list")
        #expect(approvals.stdout.contains("weekly\\x1b]0;pwned\\x07") && approvals.stdout.contains("pkg\\x1b]0;pwned\\x07\\x1b[2J@1.1\\x7f\\x08"))

        let exceptions = try CLI.run(["exception", "list", "--db", h.db])
        Self.expectInert(exceptions, "exception list")
        #expect(exceptions.stdout.contains("vendor\\x1b]52;c;Y3VybCBldmlsfHNo\\x07\\nfix") && exceptions.stdout.contains("ops\\x1b[8m"))

        let removed = try CLI.run(["exception", "remove", "1", "--db", h.db])
        Self.expectInert(removed, "exception remove")
        #expect(removed.stdout == "removed exception #1 (web\\u202e* pkg\\x1b]0;pwned\\x07)\n", "\(removed.stdout)")

        let events = try CLI.run(["history", "events", "--db", h.db])
        Self.expectInert(events, "history events")
        #expect(events.stdout.contains("me\\u009b31m"))
    }

    /// `--color always`: the only escapes are patchctl's own colour sequences, around text that is
    /// otherwise byte for byte the plain output; colour markers from history are shown, not obeyed.
    @Test func colourAddsOnlyPatchctlsOwnSequences() throws {
        let h = try Self.hostileHistory()
        // Reports at one moment: the same database and --as-of give the same bytes.
        let moment = ISO8601DateFormatter().string(from: Date())
        let commands = [["history", "show", h.secondScan], ["history", "show", h.deploy], ["history", "list"],
                        ["report", "compliance", "--as-of", moment], ["report", "hosts", "--as-of", moment], ["diff"], ["approvals", "list"],
                        ["exception", "list"], ["history", "events"]]
        for command in commands {
            let plain = try CLI.run(command + ["--db", h.db])
            let coloured = try CLI.run(command + ["--db", h.db, "--color", "always"])
            let what = command.joined(separator: " ")
            #expect(coloured.status == plain.status && coloured.status == 0, "\(what): \(coloured.stderr)")
            #expect(coloured.stdout.contains("\u{1B}[1m"), "\(what): headers are bold")
            let stripped = HostileText.withoutOwnStyles(coloured.stdout)
            #expect(stripped == plain.stdout, "\(what): colour changed the text")
            Self.expectInert(CLI.Result(status: 0, stdout: stripped, stderr: coloured.stderr), "\(what) --color always")
        }
        let show = try CLI.run(["history", "show", h.secondScan, "--db", h.db, "--color", "always"])
        #expect(show.stdout.contains("x\\ue002\\ue000"), "\(show.stdout)")
        #expect(show.stdout.contains("\u{1B}[31munreachable\u{1B}[0m") || show.stdout.contains("\u{1B}[31merror\u{1B}[0m"), "\(show.stdout)")
    }

    @Test func errorLinesAndLogLinesShowControlsVisibly() throws {
        let h = try Self.hostileHistory()
        // An error line that repeats what it was given.
        let missing = try CLI.run(["history", "show", "run\(Self.title)", "--db", h.db])
        #expect(missing.status == 1)
        Self.expectInert(missing, "history show (no such run)")
        #expect(missing.stderr.contains("no run with id 'run\\x1b]0;pwned\\x07' in history"), "\(missing.stderr)")

        // -v log lines (metadata values too): a known_hosts path with a title sequence in it; the
        // host's port is closed, so nothing is contacted.
        let folder = try CLI.temporaryDirectory()
        let knownHosts = folder.appendingPathComponent("known\(Self.title)hosts").path
        try "@cert-authority *.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n"
            .write(toFile: knownHosts, atomically: true, encoding: .utf8)
        let inventory = folder.appendingPathComponent("inventory.yml").path
        try "all:\n  hosts:\n    closed: {ansible_host: 127.0.0.1, ansible_port: 1, ansible_user: root}\n"
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let scan = try CLI.run(["scan", "-v", "-i", inventory, "--known-hosts", knownHosts, "--db", folder.appendingPathComponent("h.db").path])
        #expect(scan.status == 2, "\(scan.stderr)")
        Self.expectInert(scan, "scan -v")
        #expect(scan.stderr.contains("known\\x1b]0;pwned\\x07hosts"), "\(scan.stderr)")
    }
}
