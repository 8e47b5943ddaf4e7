import Foundation
import LabSupport
import Testing
import PatchCore
@testable import PatchctlCLI

/// Parsing, exit codes and messages of the commands, run in-process: each error type maps to
/// its documented code in one place (`ExitCodes.report`), printed as one `patchctl:` line.
@Suite("patchctl command line, in-process")
struct CommandLineTests {
    typealias CLI = InProcessCLI

    @Test func usageErrorsAreArgumentParsersAndExit64() async throws {
        let missing = await CLI.run(["scan"])
        #expect(missing.status == 64 && missing.stdout.isEmpty)
        #expect(missing.stderr.contains("Error: Missing expected argument '--inventory <source>' (or set PATCHCTL_INVENTORY, or inventory: in the configuration)"), "\(missing.stderr)")
        let range = await CLI.run(["history", "list", "--last", "0"])
        #expect(range.status == 64 && range.stderr.contains("--last must be from 1 to 100000, not 0"))
        let version = await CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout == PatchctlVersion.long + "\n" && version.stderr.isEmpty)
    }

    @Test func aBarePatchctlIsAUsageErrorWithTheHelpOnStderr() async {
        let bare = await CLI.run([])
        #expect(bare.status == 64 && bare.stdout.isEmpty, "\(bare.stdout)")
        #expect(bare.stderr.contains("USAGE: patchctl <subcommand>") && bare.stderr.contains("SUBCOMMANDS:"), "\(bare.stderr)")
    }

    @Test func scanAndPingHaveTheirOwnCommandTimeoutAndTheFlagWins() throws {
        #expect(try Patchctl.Scan.parse(["-i", "x"]).fanOutOptions(environment: [:]).commandTimeout == 120)
        #expect(try Patchctl.Ping.parse(["-i", "x"]).fanOutOptions(environment: [:]).commandTimeout == 120)
        #expect(try Patchctl.Scan.parse(["-i", "x", "--command-timeout", "30"]).fanOutOptions(environment: [:]).commandTimeout == 30)
        #expect(try Patchctl.Exec.parse(["-i", "x", "--", "true"]).connection.connectionOptions(environment: [:]).commandTimeout == 600)
        #expect(try Patchctl.Deploy.parse(["-i", "x", "--policy", "p"]).connection.connectionOptions(environment: [:]).commandTimeout == 600)
    }

    @Test func ansiblesShortFlagsSelectHostsAndUser() async throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("inventory.yml").path
        try "all:\n  hosts:\n    web1: {ansible_host: 127.0.0.1, ansible_port: 1}\n    web2: {ansible_host: 127.0.0.1, ansible_port: 1}\n"
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        for command in [["scan"], ["exec"], ["ping"]] {
            let listed = await CLI.run(command + ["-i", inventory, "-l", "web2", "-u", "alice", "-f", "3", "-b", "--list-hosts", "--output", "json"])
            #expect(listed.status == 0, "\(command): \(listed.stderr)")
            let hosts = try #require(try CLI.json(listed.stdout)["hosts"] as? [[String: Any]], "\(command)")
            #expect(hosts.map { $0["name"] as? String } == ["web2"] && hosts.first?["user"] as? String == "alice", "\(command): \(hosts)")
        }
        #expect(await CLI.run(["scan", "-i", inventory, "-f", "0"]).stderr.contains("--forks must be from 1 to 10000"))
    }

    /// `--help` and `help X` are commands ArgumentParser builds; what they throw is its own.
    @Test(arguments: [["--help"], ["report", "--help"], ["help", "deploy"], ["exception", "add", "-h"]])
    func helpIsPrintedOnStdoutAndExitsZero(_ arguments: [String]) async {
        let result = await CLI.run(arguments)
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("OVERVIEW: ") && result.stdout.contains("USAGE: patchctl"), "\(result.stdout)")
    }

    @Test func aPolicyNamedByAnOptionalOptionIsLookedUpLikePolicy() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("history.db").path
        // Not found: an invalid policy (65), for every command that takes an optional one.
        for arguments in [["approvals", "--policy", "no-such-policy"], ["defer", "web1", "--until", "1d", "--reason", "r", "--policy", "no-such-policy"]] {
            let result = await CLI.run(arguments + ["--db", db])
            #expect(result.status == 65 && result.stderr.hasPrefix("patchctl: ") && result.stderr.contains("no-such-policy"), "\(arguments): \(result.stderr)")
        }
        // Found by file: its name is what is recorded.
        let policy = folder.appendingPathComponent("nightly.yml").path
        try "name: nightly\ntargets: all\nselect: security\napproval: auto\nreboot: never\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let deferred = await CLI.run(["defer", "web1", "--until", "1d", "--reason", "CHG-7", "--policy", policy, "--db", db, "--force"])
        #expect(deferred.status == 0 && deferred.stdout.hasPrefix("web1 deferred until ") && deferred.stdout.hasSuffix(" for nightly: CHG-7\n"),
                "\(deferred.stderr)")
        let events = try #require(try JSONSerialization.jsonObject(with: Data(await CLI.run(["history", "events", "--db", db, "--output", "json"]).stdout.utf8)) as? [[String: Any]])
        #expect(events.count == 1 && events.first?["policy"] as? String == "nightly")
    }

    @Test func eachErrorTypeHasItsCodeAndOneLine() {
        let cases: [(any Error, Int32)] = [
            (PatchError.inventory(file: "inv.yml", line: 3, column: 1, message: "bad"), 65),
            (PatchError.pattern(pattern: "web[", message: "bad"), 65),
            (PatchError.policy(file: "p.yml", line: nil, column: nil, message: "bad"), 65),
            (PatchError.ruleSet(file: "r.yml", line: 4, column: 3, message: "bad"), 65),
            (PatchError.locked(policy: "nightly", holder: "pid 42"), 75),
            (PatchError.runNotFound("2026"), 1),
            (HistoryWriteFailure(database: "h.db", journal: "h.db.journal", cause: "disk full", journaled: 2), 1),
            (CocoaError(.fileWriteNoPermission), 1),
        ]
        for (error, code) in cases {
            let output = OutputSink.capture()
            let status = Terminal.$sink.withValue(output) { ExitCodes.report(error).rawValue }
            #expect(status == code, "\(error)")
            #expect(output.stdout.isEmpty && output.stderr == "patchctl: " + TerminalText.neutralised("\(error)") + "\n", "\(error)")
        }
    }

    @Test func anUnknownRunIsAnErrorLineAndExitOne() async throws {
        let s = try ScannedHistory.make()
        let result = await CLI.run(["history", "show", "19990101", "--db", s.db])
        #expect(result.status == 1 && result.stdout.isEmpty && result.stderr.hasPrefix("patchctl: ") && result.stderr.hasSuffix("\n"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        let shown = await CLI.run(["history", "show", String(s.runs[1].prefix(20)), "--db", s.db, "--output", "ndjson"])
        #expect(shown.status == 0 && shown.stdout.split(separator: "\n").count == 3, "every host of the run, one line each: \(shown.stderr)")
        // Issue 13: each line names its run, as streamed lines do.
        JSONSchema.validate(shown.stdout, schema: "scan-host-line", lines: true)
        let ids = shown.stdout.split(separator: "\n").map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any])?["run_id"] as? String
        }
        #expect(ids.allSatisfy { $0 == s.runs[1] }, "\(ids)")
        let document = await CLI.run(["history", "show", s.runs[1], "--db", s.db, "--output", "json"])
        JSONSchema.validate(document.stdout, schema: "history-show")
        JSONSchema.validate(await CLI.run(["history", "--db", s.db, "--output", "json"]).stdout, schema: "history-list")
    }
}

/// `--shard K/N` on the commands that touch hosts: N controllers list disjoint shares that cover
/// the targeted hosts exactly once.
@Suite("--shard")
struct ShardOptionTests {
    /// --list-hosts contacts nothing (ping used to ignore it); the address is a closed loopback port anyway.
    @Test func sharesAreDisjointAndCoverTheTargetsForEveryHostTouchingCommand() async throws {
        let folder = try InProcessCLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("inventory.yml").path
        let names = (1...40).map { "app\($0)" }
        try ("all:\n  hosts:\n" + names.map { "    \($0): {ansible_host: 127.0.0.1, ansible_port: 1}\n" }.joined()).write(toFile: inventory, atomically: true, encoding: .utf8)
        let db = ["--db", folder.appendingPathComponent("h.db").path]
        for command in [["scan"] + db, ["exec"] + db, ["ping"]] {
            var seen: [String] = []
            for k in 1...3 {
                let result = await InProcessCLI.run(command + ["-i", inventory, "--limit", "app1*:app2*:app3*:app4*", "--shard", "\(k)/3", "--list-hosts",
                                                               "--output", "json"])
                #expect(result.status == 0, "\(command) \(k)/3: \(result.stderr)")
                let hosts = try #require(try InProcessCLI.json(result.stdout)["hosts"] as? [[String: Any]])
                seen += hosts.compactMap { $0["name"] as? String }
            }
            let targeted = names.filter { ["app1", "app2", "app3", "app4"].contains(where: $0.hasPrefix) }
            #expect(seen.sorted() == targeted.sorted(), "\(command): every targeted host exactly once")
        }
        let bad = await InProcessCLI.run(["scan", "-i", inventory, "--shard", "4/3", "--list-hosts"])
        #expect(bad.status == 64 && bad.stderr.contains("--shard"), "\(bad.stderr)")
    }
}

/// `history prune` and `history migrate` work on a history that exists; pointed at none, they
/// say so and create nothing.
@Suite("history prune and migrate")
struct HistoryMaintenanceCommandTests {
    @Test func aMissingDatabaseIsAnErrorAndStaysMissing() async throws {
        let path = try InProcessCLI.temporaryDirectory().appendingPathComponent("none.db").path
        for command in [["history", "prune", "--older-than", "30d"], ["history", "migrate"]] {
            let result = await InProcessCLI.run(command + ["--db", path])
            #expect(result.status == 1 && result.stderr.contains("no history database here"), "\(command): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: path))
        }
        let bad = await InProcessCLI.run(["history", "prune", "--older-than", "soon", "--db", path])
        #expect(bad.status == 64 && bad.stderr.contains("--older-than"), "\(bad.stderr)")
    }

    @Test func pruneReportsWhatItDeletedAndADryRunDeletesNothing() async throws {
        let path = try InProcessCLI.temporaryDirectory().appendingPathComponent("h.db").path
        let store = try HistoryStore(path: path)
        let old = try store.beginRun(kind: .scan, startedAt: Date(timeIntervalSince1970: 1_600_000_000), inventory: "i.yml", hostPattern: nil,
                                     options: nil, version: "test")
        try store.finishRun(runId: old, finishedAt: Date(timeIntervalSince1970: 1_600_000_060))
        let dry = await InProcessCLI.run(["history", "prune", "--older-than", "400d", "--dry-run", "--output", "json", "--db", path])
        #expect(dry.status == 0, "\(dry.stdout)\(dry.stderr)")
        #expect(try InProcessCLI.json(dry.stdout)["runs"] as? Int == 1)
        #expect(try store.runs().count == 1)
        let done = await InProcessCLI.run(["history", "prune", "--db", path])
        #expect(done.status == 0 && done.stdout.contains("deleted 1 run(s)"), "\(done.stdout)\(done.stderr)")
        #expect(try store.runs().isEmpty)
    }
}

/// `--controller`: recording commands name the controller in each run; history and reports select one.
@Suite("--controller")
struct ControllerOptionTests {
    typealias CLI = InProcessCLI

    @Test func runsCarryTheControllerAndReadingCommandsSelectIt() async throws {
        let s = try ScannedHistory.make()
        var environment = ProcessInfo.processInfo.environment
        environment["PATCHCTL_CONTROLLER"] = "office"
        // down (127.0.0.1:1) refuses at once: a recorded exec run, named by the flag over the variable.
        let named = await CLI.run(["exec", "-i", s.inventory, "--limit", "down", "--db", s.db, "--controller", "dmz", "--", "true"], environment: environment)
        #expect(named.status != 64, "\(named.stderr)")
        let byVariable = await CLI.run(["exec", "-i", s.inventory, "--limit", "down", "--db", s.db, "--", "true"], environment: environment)
        #expect(byVariable.status != 64, "\(byVariable.stderr)")

        let listed = await CLI.run(["history", "--db", s.db, "--output", "json"])
        JSONSchema.validate(listed.stdout, schema: "history-list")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(runs.prefix(2).map { $0["controller"] as? String } == ["office", "dmz"])
        let dmz = await CLI.run(["history", "--db", s.db, "--controller", "dmz", "--output", "json"])
        #expect(((try JSONSerialization.jsonObject(with: Data(dmz.stdout.utf8))) as? [[String: Any]])?.count == 1)
        let table = await CLI.run(["history", "--db", s.db])
        #expect(table.stdout.contains("CONTROLLER") && table.stdout.contains("dmz"))

        let report = await CLI.run(["report", "compliance", "--db", s.db, "--controller", "dmz", "--format", "json"])
        #expect(report.status == 0 || report.status == 3, "\(report.stderr)")
        #expect(report.stdout.contains("--controller dmz"))

        let bad = await CLI.run(["scan", "-i", s.inventory, "--db", s.db, "--controller", "two words"])
        #expect(bad.status == 64 && bad.stderr.contains("1 to 64 letters"), "\(bad.stderr)")
        environment["PATCHCTL_CONTROLLER"] = "bad/name"
        let badVariable = await CLI.run(["exec", "-i", s.inventory, "--limit", "down", "--db", s.db, "--", "true"], environment: environment)
        #expect(badVariable.stderr.contains("PATCHCTL_CONTROLLER"), "\(badVariable.stderr)")
    }
}
