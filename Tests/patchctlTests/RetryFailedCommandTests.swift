import Foundation
import Testing

/// `--retry-failed [RUN]` on scan, exec, deploy and install: the real binary against the lab's
/// read-only endpoints, one host made to fail by a wrong port (nothing listens on port 1).
@Suite("patchctl --retry-failed CLI", .serialized, .enabled(if: CLI.labEnabled))
struct RetryFailedCommandTests {
    /// Hosts a and b reach the lab; `bad` reaches it only when `badPort` is the lab's port.
    static func inventory(_ folder: URL, badPort: String) throws -> String {
        let path = folder.appendingPathComponent("inv.yml")
        try """
            all:
              vars: {ansible_user: root, ansible_port: \(try CLI.lab("LAB_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
              children:
                fleet:
                  hosts:
                    a: {ansible_host: 127.0.0.1}
                    bad: {ansible_host: 127.0.0.2, ansible_port: \(badPort)}
                    b: {ansible_host: 127.0.0.3}
            """.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    static func hosts(_ output: String) throws -> [String: String] {
        let hosts = try #require(try CLI.json(output)["hosts"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: hosts.map { ($0["name"] as? String ?? "?", $0["status"] as? String ?? "?") })
    }

    @Test func scanRetriesExactlyTheHostsThatFailedWithinLimit() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let inventory = try Self.inventory(folder, badPort: "1")
        let common = ["-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "json"]

        let empty = try await CLI.runWaiting(["scan", "--retry-failed"] + common)
        #expect(empty.status == 1 && empty.stderr.contains("history has no scan run to retry"), "\(empty.stderr)")

        let first = try await CLI.runWaiting(["scan"] + common)
        #expect(first.status == 2)
        #expect(try Self.hosts(first.stdout) == ["a": "ok", "bad": "unreachable", "b": "ok"])
        let failedRun = try #require(try CLI.json(first.stdout)["run_id"] as? String)

        // Only `bad` is contacted again (still failing: exit 2).
        let again = try await CLI.runWaiting(["scan", "--retry-failed"] + common)
        #expect(again.status == 2, "\(again.stderr)")
        #expect(try Self.hosts(again.stdout) == ["bad": "unreachable"])

        // Fixed in the inventory: the retry of the first run (named by a prefix) reaches it.
        _ = try Self.inventory(folder, badPort: try CLI.lab("LAB_PORT"))
        let fixed = try await CLI.runWaiting(["scan", "--retry-failed", String(failedRun.prefix(22))] + common)
        #expect(fixed.status == 0, "\(fixed.stderr)")
        #expect(try Self.hosts(fixed.stdout) == ["bad": "ok"])

        // The latest scan had no failure: nothing to do, exit 0, nothing recorded, stdout empty.
        let runsBefore = try await CLI.runWaiting(["history", "--db", db, "--output", "json"]).stdout
        let nothing = try await CLI.runWaiting(["scan", "--retry-failed"] + common)
        #expect(nothing.status == 0 && nothing.stdout.isEmpty)
        #expect(nothing.stderr.contains("no host failed; nothing to retry"), "\(nothing.stderr)")
        #expect(try await CLI.runWaiting(["history", "--db", db, "--output", "json"]).stdout == runsBefore)

        // --limit intersects: the first run's failed host is outside it.
        let limited = try await CLI.runWaiting(["scan", "--retry-failed=\(failedRun)", "--limit", "a:b"] + common)
        #expect(limited.status == 0 && limited.stdout.isEmpty)
        #expect(limited.stderr.contains("none of its 1 failed host is in the inventory within --limit 'a:b'"), "\(limited.stderr)")

        #expect(try await CLI.runWaiting(["scan", "--retry-failed="] + common).status == 64)
        let unknown = try await CLI.runWaiting(["scan", "--retry-failed", "19990101T000000Z"] + common)
        #expect(unknown.status == 1 && unknown.stderr.contains("no run with id '19990101T000000Z'"), "\(unknown.stderr)")
    }

    @Test func execRetriesItsOwnKindOnlyAndTakesTheCommandAfterTheTerminator() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let common = ["-i", try Self.inventory(folder, badPort: "1"), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "json"]
        let scan = try await CLI.runWaiting(["scan", "--limit", "a"] + common)
        let scanRun = try #require(try CLI.json(scan.stdout)["run_id"] as? String)

        // A non-zero exit is a failure too (status failed), as is an unreachable host.
        // Host a (the lab at 127.0.0.1: sshd's SSH_CONNECTION names the address) exits 3.
        let first = try await CLI.runWaiting(["exec"] + common + ["--", "case \"$SSH_CONNECTION\" in *' 127.0.0.1 '*) exit 3;; esac"])
        #expect(first.status == 2)
        #expect(try Self.hosts(first.stdout) == ["a": "failed", "bad": "unreachable", "b": "ok"])

        let retried = try await CLI.runWaiting(["exec", "--retry-failed"] + common + ["--", "true"])
        #expect(retried.status == 2, "\(retried.stderr)")
        #expect(try Self.hosts(retried.stdout) == ["a": "ok", "bad": "unreachable"])

        let wrongKind = try await CLI.runWaiting(["exec", "--retry-failed", scanRun] + common + ["--", "true"])
        #expect(wrongKind.status == 1, "\(wrongKind.stderr)")
        #expect(wrongKind.stderr.contains("run \(scanRun) is of kind scan; exec --retry-failed retries exec runs"), "\(wrongKind.stderr)")
    }

    @Test func deployRetriesTheFailedHostsOfThePolicysLatestRun() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let policy = folder.appendingPathComponent("retry.yml").path
        try "name: retry-cli\ntargets: fleet\nrefresh: false\nselect: {updates: security, include: [\"nothing-*\"]}\n"
            .write(toFile: policy, atomically: true, encoding: .utf8)
        let common = ["-i", try Self.inventory(folder, badPort: "1"), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "json"]

        let none = try await CLI.runWaiting(["deploy", "--policy", policy, "--retry-failed"] + common)
        #expect(none.status == 1 && none.stderr.contains("history has no deploy run of policy retry-cli to retry"), "\(none.stderr)")
        #expect(try await CLI.runWaiting(["deploy", "--resume", "x", "--retry-failed"] + common).status == 64)

        // A dry run (kind plan) is named explicitly; its unreachable host is the only one planned again.
        let plan = try await CLI.runWaiting(["deploy", "--policy", policy, "--dry-run"] + common)
        #expect(plan.status == 2, "\(plan.stderr)")
        #expect(try Self.hosts(plan.stdout)["bad"] == "unreachable")
        let planRun = try #require(try CLI.json(plan.stdout)["run_id"] as? String)
        let retried = try await CLI.runWaiting(["deploy", "--policy", policy, "--dry-run", "--retry-failed", planRun] + common)
        #expect(retried.status == 2, "\(retried.stderr)")
        #expect(try Self.hosts(retried.stdout) == ["bad": "unreachable"])
    }

    @Test func installParsesAPackageBesideABareRetryFailed() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let common = ["-i", try Self.inventory(folder, badPort: "1"), "--db", db]
        // Both orders parse (the package is never taken for RUN); the library has no such package.
        for arguments in [["install", "--retry-failed", "acme@1.0"], ["install", "acme@1.0", "--retry-failed"]] {
            let result = try await CLI.runWaiting(arguments + common)
            #expect(result.status == 1 && result.stderr.contains("no acme@1.0 in the library"), "\(arguments): \(result.stderr)")
        }
    }
}
