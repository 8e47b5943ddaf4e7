import Foundation
import LabSupport
import Testing

@Suite("patchctl exec CLI", .serialized, .enabled(if: CLI.labEnabled))
struct ExecCommandTests {
    func inventory(_ folder: URL) throws -> String {
        let path = folder.appendingPathComponent("inv.yml")
        try """
            all:
              vars: {ansible_user: root, ansible_port: \(try CLI.lab("LAB_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
              hosts:
                a: {ansible_host: 127.0.0.1}
                b: {ansible_host: 127.0.0.2}
                c: {ansible_host: 127.0.0.3}
            """.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    @Test func outputsExitCodesAndHistory() throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let common = ["-i", try inventory(folder), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "json"]
        let ok = try CLI.run(["exec"] + common + ["--", "cat", "/etc/debian_version;", "echo", "warn", ">&2"])
        #expect(ok.status == 0, "\(ok.stderr)")
        JSONSchema.validate(ok.stdout, schema: "exec-run")
        let document = try CLI.json(ok.stdout)
        #expect(document["command"] as? String == "cat /etc/debian_version; echo warn >&2")
        let hosts = try #require(document["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["name"] as? String } == ["a", "b", "c"])
        let version = try String(contentsOfFile: try CLI.lab("LAB_ROOT") + "/etc/debian_version", encoding: .utf8)
        for host in hosts {
            #expect(host["status"] as? String == "ok" && host["exit_code"] as? Int == 0)
            #expect(host["stdout"] as? String == version)
            #expect(host["stderr"] as? String == "warn\n")
            #expect(host["duration_ms"] is Int)
        }

        let failing = try CLI.run(["exec"] + common + ["--limit", "b", "--", "exit 7"])
        #expect(failing.status == 2)
        let failed = try #require((try CLI.json(failing.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect(failed["status"] as? String == "failed" && failed["exit_code"] as? Int == 7)

        let runId = try #require(try CLI.json(failing.stdout)["run_id"] as? String)
        let shown = try CLI.run(["history", "show", runId, "--db", db, "--output", "json"])
        JSONSchema.validate(shown.stdout, schema: "history-show")
        JSONSchema.validate(shown.stdout, schema: "exec-run")
        let replay = try CLI.json(shown.stdout)
        #expect(replay["kind"] as? String == "exec" && replay["command"] as? String == "exit 7")

        // Issue 13: NDJSON lines carry the run's id.
        let lines = try CLI.run(["exec"] + common.dropLast(2) + ["--output", "ndjson", "--", "true"])
        #expect(lines.status == 0, "\(lines.stderr)")
        JSONSchema.validate(lines.stdout, schema: "exec-host-line", lines: true)
        let ids = Set(try lines.stdout.split(separator: "\n").map { try CLI.json(String($0))["run_id"] as? String ?? "(none)" })
        let latest = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--db", db, "--output", "json"]).stdout.utf8)) as? [[String: Any]])
        #expect(ids.count == 1 && ids.first == latest.first?["run_id"] as? String, "\(ids)")
        #expect((replay["hosts"] as? [[String: Any]])?.first?["exit_code"] as? Int == 7)
    }

    @Test func missingCommandIsUsageError() throws {
        #expect(try CLI.run(["exec", "-i", "x.yml"]).status == 64)
    }
}
