import Foundation
import LabSupport
import Testing

/// `patchctl ping` against the lab's real sshd and sudo: reachable, wrong port, wrong key, a
/// host key that does not match, and become that works (NOPASSWD, a become password) or fails.
@Suite("patchctl ping CLI", .serialized, .enabled(if: CLI.labEnabled))
struct PingCommandTests {
    static func inventory(_ folder: URL) throws -> String {
        let path = folder.appendingPathComponent("inv.yml")
        let sudoUser = try CLI.lab("LAB_SUDO_USER")
        try """
            all:
              vars: {ansible_port: \(try CLI.lab("LAB_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY")), ansible_user: root}
              hosts:
                reachable: {ansible_host: 127.0.0.1}
                closed: {ansible_host: 127.0.0.2, ansible_port: 1}
                wrongkey: {ansible_host: 127.0.0.3, ansible_ssh_private_key_file: \(try CLI.lab("LAB_WRONG_KEY"))}
                nopasswd: {ansible_host: 127.0.0.1, ansible_user: \(try CLI.lab("LAB_NOPASSWD_USER")), ansible_become: true}
                withpass: {ansible_host: 127.0.0.2, ansible_user: \(sudoUser), ansible_become: true, become_password_env: PING_SUDO}
                nopass: {ansible_host: 127.0.0.3, ansible_user: \(sudoUser), ansible_become: true}
                wrongpass: {ansible_host: 127.0.0.1, ansible_user: \(sudoUser), ansible_become: true, become_password_env: PING_WRONG}
            """.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    @Test func eachHostIsOkOrItsPreciseFailureAndNothingIsRecorded() async throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let environment = ["PING_SUDO": try CLI.lab("LAB_SUDO_PASSWORD"), "PING_WRONG": "not-the-password", "PATCHCTL_DB": db]
        let common = ["-i", try Self.inventory(folder), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS")]
        let result = try await CLI.runWaiting(["ping", "--output", "json"] + common, environment: environment)
        #expect(result.status == 2, "\(result.stderr)")
        JSONSchema.validate(result.stdout, schema: "ping-run")
        let hosts = try #require(try CLI.json(result.stdout)["hosts"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: hosts.map { ($0["name"] as? String ?? "?", $0) })
        func status(_ name: String) -> String? { byName[name]?["status"] as? String }
        func error(_ name: String) -> String { byName[name]?["error"] as? String ?? "" }
        #expect(hosts.map { $0["name"] as? String } == ["reachable", "closed", "wrongkey", "nopasswd", "withpass", "nopass", "wrongpass"])
        #expect(status("reachable") == "ok" && byName["reachable"]?["error"] is NSNull)
        #expect(byName["reachable"]?["user"] as? String == "root" && (byName["reachable"]?["via"] as? [Any])?.isEmpty == true)
        #expect(status("closed") == "unreachable" && error("closed").contains("cannot connect to 127.0.0.2 port 1"), "\(error("closed"))")
        #expect(status("wrongkey") == "auth_failed" && error("wrongkey").contains("authentication failed for user root"), "\(error("wrongkey"))")
        #expect(status("nopasswd") == "ok" && byName["nopasswd"]?["become"] as? Bool == true, "\(error("nopasswd"))")
        #expect(status("withpass") == "ok" && byName["withpass"]?["become"] as? Bool == true, "\(error("withpass"))")
        #expect(status("nopass") == "auth_failed" && error("nopass").contains("sudo needs a password"), "\(error("nopass"))")
        #expect(status("wrongpass") == "auth_failed" && error("wrongpass").contains("privilege escalation failed") && error("wrongpass").contains("refused"), "\(error("wrongpass"))")
        // Nothing recorded: the database was never even created.
        #expect(!FileManager.default.fileExists(atPath: db))

        // Table and NDJSON; --limit and --become (root needs no sudo; the NOPASSWD account does).
        let table = try await CLI.runWaiting(["ping", "--limit", "reachable:closed"] + common, environment: environment)
        #expect(table.status == 2)
        #expect(table.stdout.contains("closed: unreachable: cannot connect to 127.0.0.2 port 1"), "\(table.stdout)")
        #expect(table.stdout.contains("2 hosts: 1 ok, 1 unreachable"), "\(table.stdout)")
        let ndjson = try await CLI.runWaiting(["ping", "--limit", "reachable", "--become", "--output", "ndjson"] + common, environment: environment)
        #expect(ndjson.status == 0, "\(ndjson.stderr)")
        let line = try CLI.json(ndjson.stdout.trimmingCharacters(in: .newlines))
        #expect(line["name"] as? String == "reachable" && line["status"] as? String == "ok" && line["become"] as? Bool == false)
    }

    @Test func aChangedHostKeyACommandlessLoginAndAnInvalidInventoryKeepExecsExitCodes() async throws {
        let folder = try CLI.temporaryDirectory()
        let common = ["-i", try Self.inventory(folder), "--known-hosts", try CLI.lab("LAB_WRONG_KNOWN_HOSTS"), "--limit", "reachable"]
        let mismatch = try await CLI.runWaiting(["ping", "--output", "json"] + common)
        #expect(mismatch.status == 2)
        let host = try #require((try CLI.json(mismatch.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect(host["status"] as? String == "host_key_mismatch", "\(host)")
        #expect((host["error"] as? String)?.contains("HOST KEY CHANGED") == true)

        // The lab's deploy port answers any non-slot address with a ForceCommand that exits 1: logged
        // in, but no command runs, so patchctl could do nothing there (a known_hosts copy of its own).
        let known = folder.appendingPathComponent("known_hosts").path
        try FileManager.default.copyItem(atPath: try CLI.lab("LAB_KNOWN_HOSTS"), toPath: known)
        let forcedInventory = folder.appendingPathComponent("forced.yml")
        try "all:\n  hosts:\n    forced: {ansible_host: 127.0.0.1, ansible_port: \(try CLI.lab("LAB_DEPLOY_PORT")), ansible_user: root, ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}\n"
            .write(to: forcedInventory, atomically: true, encoding: .utf8)
        let forced = try await CLI.runWaiting(["ping", "--output", "json", "-i", forcedInventory.path, "--known-hosts", known, "--accept-new-host-keys"])
        #expect(forced.status == 2, "\(forced.stderr)")
        let forcedHost = try #require((try CLI.json(forced.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect(forcedHost["status"] as? String == "failed", "\(forcedHost)")
        #expect((forcedHost["error"] as? String)?.hasPrefix("true exited 1: patchctl lab: port") == true, "\(forcedHost)")

        let broken = folder.appendingPathComponent("broken.yml")
        try "all:\n  hosts: [\n".write(to: broken, atomically: true, encoding: .utf8)
        #expect(try await CLI.runWaiting(["ping", "-i", broken.path]).status == 65)
        #expect(try await CLI.runWaiting(["ping", "-i", broken.path, "--forks", "0"]).status == 64)
    }

    @Test func anUnknownHostKeyIsItsOwnStatusAndAcceptingItSaysWhichKeyItAdded() async throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = try Self.inventory(folder)
        let known = folder.appendingPathComponent("known_hosts_new").path
        #expect(FileManager.default.createFile(atPath: known, contents: nil))
        let port = try CLI.lab("LAB_PORT")
        let refused = try await CLI.runWaiting(["ping", "-i", inventory, "-l", "reachable", "--known-hosts", known, "--output", "json"])
        #expect(refused.status == 2, "\(refused.stderr)")
        let host = try #require((try CLI.json(refused.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect(host["status"] as? String == "host_key_unknown", "\(host)")
        let error = host["error"] as? String ?? ""
        #expect(error.hasPrefix("reachable (127.0.0.1) port \(port): host key SHA256:"), "\(error)")
        #expect(error.contains("(ssh-keyscan -p \(port) 127.0.0.1 >> \(known))") && error.contains("--accept-new-host-keys"), "\(error)")
        // JSON on stdout; on stderr the line per failed host that cron mails.
        #expect(refused.stderr.contains("patchctl: 1 of 1 host failed:\npatchctl:   reachable (127.0.0.1): host_key_unknown: reachable (127.0.0.1) port \(port)"),
                "\(refused.stderr)")
        let fingerprint = try #require(error.components(separatedBy: "host key ").dropFirst().first?.split(separator: " ").first.map(String.init))

        let accepted = try await CLI.runWaiting(["ping", "-i", inventory, "-l", "reachable", "--known-hosts", known, "--accept-new-host-keys"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(accepted.stderr.contains("added a new host key to known_hosts") && accepted.stderr.contains(fingerprint)
                && accepted.stderr.contains("127.0.0.1:\(port)") && accepted.stderr.contains(known), "\(accepted.stderr)")
        #expect(try String(contentsOfFile: known, encoding: .utf8).contains("[127.0.0.1]:\(port) "))
        // Known now: nothing more is added, nothing said.
        let again = try await CLI.runWaiting(["ping", "-i", inventory, "-l", "reachable", "--known-hosts", known, "--accept-new-host-keys"])
        #expect(again.status == 0 && !again.stderr.contains("added a new host key"), "\(again.stderr)")
    }

    @Test func ansiblesShortFlagsAndBecomeOnTheCommandLine() async throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("plain.yml")
        // No user and no become in the inventory: -u and -b give them.
        try """
            all:
              vars: {ansible_port: \(try CLI.lab("LAB_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
              hosts:
                plain: {ansible_host: 127.0.0.1}
                other: {ansible_host: 127.0.0.2}
            """.write(to: inventory, atomically: true, encoding: .utf8)
        let common = ["-i", inventory.path, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", folder.appendingPathComponent("h.db").path,
                      "-u", try CLI.lab("LAB_NOPASSWD_USER"), "-f", "1", "-l", "plain", "--output", "json"]
        func uid(_ result: CLI.Result) throws -> String? {
            let hosts = try #require(try CLI.json(result.stdout)["hosts"] as? [[String: Any]])
            #expect(hosts.map { $0["name"] as? String } == ["plain"], "-l plain")
            return hosts.first?["stdout"] as? String
        }
        let unprivileged = try await CLI.runWaiting(["exec"] + common + ["--", "id", "-u"])
        #expect(unprivileged.status == 0, "\(unprivileged.stderr)")
        #expect(try uid(unprivileged).map { $0 != "0\n" && !$0.isEmpty } == true, "-u logs in as the NOPASSWD account, not root")
        let escalated = try await CLI.runWaiting(["exec", "-b"] + common + ["--", "id", "-u"])
        #expect(escalated.status == 0, "\(escalated.stderr)")
        #expect(try uid(escalated) == "0\n", "-b: through sudo")
        // A command that fails: stdout has the JSON, stderr the line per failed host.
        let failing = try await CLI.runWaiting(["exec"] + common + ["--", "exit", "3"])
        #expect(failing.status == 2)
        #expect(failing.stderr.contains("patchctl:   plain (127.0.0.1): failed: exit code 3"), "\(failing.stderr)")
    }
}
