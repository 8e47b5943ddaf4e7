import Foundation
import Testing

/// Hostile and broken input files and flag values, through the real binary: exit 65 with
/// file:line for files, 64 for flags, quickly, never a signal. Nothing is contacted.
@Suite("patchctl input limits CLI")
struct InputLimitsCommandTests {
    /// Ten levels of ten-fold aliases (10^10 nodes expanded) in `indent`ed lines.
    static func laughs(indent: String = "") -> String {
        var lines = ["\(indent)a0: &a0 [x,x,x,x,x,x,x,x,x,x]"]
        for level in 1..<10 {
            lines.append("\(indent)a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func write(_ text: String, named name: String) throws -> String {
        let path = try CLI.temporaryDirectory().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Exit 65 within 10 s with `patchctl: FILE:LINE:COLUMN: …` on stderr.
    func expectFileError(_ arguments: [String], file: String, at position: String, _ fragment: String,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try CLI.run(arguments, within: 10)
        #expect(!run.timedOut, "still running after 10 s: \(arguments)", sourceLocation: sourceLocation)
        #expect(run.signal == nil, "killed by signal \(run.signal ?? 0): \(run.result.stderr.prefix(500))", sourceLocation: sourceLocation)
        #expect(run.result.status == 65, "\(run.result.stderr.prefix(500))", sourceLocation: sourceLocation)
        #expect(run.result.stderr.hasPrefix("patchctl: \(file):\(position): "), "\(run.result.stderr.prefix(500))", sourceLocation: sourceLocation)
        #expect(run.result.stderr.contains(fragment), "\(run.result.stderr.prefix(500))", sourceLocation: sourceLocation)
    }

    // MARK: YAML alias expansion (#4)

    @Test func exponentialInventoryEndsQuicklyWithItsLine() throws {
        let exact = try write(Self.laughs(), named: "laughs.yml")
        try expectFileError(["scan", "-i", exact], file: exact, at: "7:10", "alias '*a5' expands the file past 2000000 nodes")
        // Under vars the old loader took minutes and gigabytes, then crashed.
        let vars = try write("all:\n  hosts:\n    web1:\n  vars:\n" + Self.laughs(indent: "    "), named: "inventory.yml")
        try expectFileError(["scan", "-i", vars, "--limit", "web1"], file: vars, at: "11:14", "alias '*a5' expands the file past 2000000 nodes")
    }

    @Test func exponentialPolicyEndsQuicklyWithItsLine() throws {
        var yaml = "name: p\ntargets: all\npre:\n  - &a0 [x,x,x,x,x,x,x,x,x,x]\n"
        for level in 1..<10 {
            yaml += "  - &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n"
        }
        let policy = try write(yaml, named: "policy.yml")
        let db = try CLI.temporaryDirectory().appendingPathComponent("h.db").path
        try expectFileError(["approve", "--policy", policy, "pkg@1", "--db", db], file: policy, at: "10:10", "alias '*a5' expands")
        // An alias used as a key: Yams hashed its 10^10 nodes while composing.
        let key = try write(Self.laughs() + "? *a9\n: 1\n", named: "key.yml")
        try expectFileError(["approve", "--policy", key, "pkg@1", "--db", db], file: key, at: "7:10", "alias '*a5' expands")
    }

    // MARK: Numbers (#5)

    @Test func theIssuesGraceMinutesIsRefusedBeforeAnythingIsSent() throws {
        let inventory = try write("all:\n  hosts:\n    web1: {ansible_host: 127.0.0.1, ansible_port: 9}\n", named: "inventory.yml")
        let policy = try write("name: p\ntargets: all\nreboot: {mode: always, grace_minutes: 9223372036854775807}\n", named: "policy.yml")
        let db = try CLI.temporaryDirectory().appendingPathComponent("h.db").path
        try expectFileError(["deploy", "--policy", policy, "-i", inventory, "--db", db, "--now"], file: policy, at: "3:39",
                            "'grace_minutes' must be a whole number from 0 to 1440, found the number 9223372036854775807")
    }

    @Test(arguments: [
        (["scan", "--forks", "0"], "--forks must be from 1 to 10000, not 0"),
        (["scan", "--forks", "10001"], "--forks must be from 1 to 10000, not 10001"),
        (["scan", "--max-connecting", "0"], "--max-connecting must be from 1 to 10000"),
        (["exec", "--max-connecting", "99999999", "--", "true"], "--max-connecting must be from 1 to 10000"),
        (["scan", "--command-timeout", "inf"], "--command-timeout must be a number of seconds above 0 and at most 604800"),
        (["scan", "--command-timeout", "nan"], "--command-timeout must be a number of seconds above 0"),
        (["deploy", "--policy", "p", "--command-timeout", "604801"], "--command-timeout must be a number of seconds above 0 and at most 604800"),
        (["scan", "--connect-timeout", "1e300"], "--connect-timeout must be a number of seconds above 0 and at most 3600"),
        (["scan", "--connect-timeout", "0"], "--connect-timeout must be a number of seconds above 0"),
        (["history", "--last", "0"], "--last must be from 1 to 100000"),
        (["history", "events", "--last=-1"], "--last must be from 1 to 100000"),
        (["report", "compliance", "--stale-days", "9223372036854775807"], "--stale-days must be from 1 to 3650"),
        (["package", "prune", "--keep", "0"], "--keep must be from 1 to 1000"),
        (["package", "prune", "--pending-days", "99999"], "--pending-days must be from 0 to 3650"),
        // Used to trap (exit 132) converting the date to milliseconds when it was stored.
        (["defer", "web1", "--until", "99999999999999999w", "--reason", "x"], "nor a duration of at most 3650d"),
        (["exception", "add", "web1", "openssl", "--until", "99999999999999999w", "--reason", "x"], "nor a duration of at most 3650d"),
    ])
    func outOfRangeFlagsAreUsageErrors(arguments: [String], message: String) throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        // Validation runs before the inventory is read: this one does not even exist.
        let run = try CLI.run(arguments + ["--db", db], within: 10,
                              environment: ["PATCHCTL_INVENTORY": folder.appendingPathComponent("none.yml").path])
        #expect(run.signal == nil && !run.timedOut)
        #expect(run.result.status == 64, "\(run.result.stderr)")
        #expect(run.result.stderr.contains(message), "\(run.result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db), "nothing may be recorded for a usage error")
    }

    // MARK: Inventory type holes (#12)

    @Test(arguments: [
        ("all:\n  hosts: 5\n", "2:10", "'hosts' of group 'all' must be a map of host names, found the number 5"),
        ("all:\n  children: web\n", "2:13", "'children' of group 'all' must be a map of group names, found the string 'web'"),
        ("", "1:1", "the inventory is empty"),
        ("all:\n  children:\n    web:\n      hosts:\n", "3:5", "the inventory defines no hosts"),
        ("all:\n  hosts:\n    web1: {ansible_host: 127.0.0.1, ansible_port: 70000}\n", "3:51", "'ansible_port' must be an integer from 1 to 65535"),
    ])
    func inventoryTypeHolesAreFileLineErrors(yaml: String, position: String, message: String) throws {
        let inventory = try write(yaml, named: "inventory.yml")
        let db = try CLI.temporaryDirectory().appendingPathComponent("h.db").path
        try expectFileError(["scan", "-i", inventory, "--db", db], file: inventory, at: position, message)
        #expect(!FileManager.default.fileExists(atPath: db), "nothing may be recorded for an invalid inventory")
    }
}
