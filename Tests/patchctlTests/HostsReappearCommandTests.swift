import Foundation
import LabSupport
import Testing

/// A retired host that a scan reaches again is back in the fleet: the binary, a lab host, and
/// history's audit trail.
@Suite("patchctl hosts: a retired host reappears", .enabled(if: CLI.labEnabled))
struct HostsReappearCommandTests {
    @Test func aSuccessfulScanUnretiresAndAFailedOneDoesNot() throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("history.db").path
        let inventory = folder.appendingPathComponent("inventory.yml").path
        try """
            all:
              vars:
                ansible_user: root
                ansible_port: \(try CLI.lab("LAB_PORT"))
                ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))
              hosts:
                web1: {ansible_host: 127.0.0.1}
                dead: {ansible_host: 127.0.0.1, ansible_port: 1}

            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let scan = ["scan", "-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db]
        #expect(try CLI.run(scan).status == 2)
        let retired = try CLI.run(["hosts", "retire", "web1", "dead", "--reason", "moved to the new DC", "--db", db])
        #expect(retired.status == 0, "\(retired.stderr)")

        // web1 answers: back in scope; dead stays unreachable: still retired.
        let again = try CLI.run(scan + ["--output", "json"])
        #expect(again.status == 2, "\(again.stderr)")
        let runId = try #require(try CLI.json(again.stdout)["run_id"] as? String)
        let listed = try CLI.run(["hosts", "list", "--db", db, "--output", "json"])
        JSONSchema.validate(listed.stdout, schema: "hosts-list")
        let hosts = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let retiredNow = hosts.filter { $0["retired"] as? Bool == true }.compactMap { $0["name"] as? String }
        #expect(retiredNow == ["dead"], "\(listed.stdout)")
        let events = try CLI.run(["history", "events", "--db", db, "--output", "json"])
        let trail = try #require(try JSONSerialization.jsonObject(with: Data(events.stdout.utf8)) as? [[String: Any]])
        let reappeared = try #require(trail.first { $0["action"] as? String == "reappeared" })
        #expect(reappeared["host"] as? String == "web1" && reappeared["run_id"] as? String == runId
                && (reappeared["detail"] as? String)?.contains("a successful scan reached it") == true, "\(reappeared)")
        #expect(!trail.contains { $0["action"] as? String == "reappeared" && $0["host"] as? String == "dead" })
    }
}
