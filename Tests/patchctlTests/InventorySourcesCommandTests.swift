import Foundation
import Testing

/// `-i` is repeatable and takes INI files; `--list-hosts` shows how each host would be reached
/// without contacting it; host objects in JSON output carry `user` and `via`.
@Suite("patchctl inventory sources and --list-hosts")
struct InventorySourcesCommandTests {
    func inventories(_ folder: URL) throws -> (ini: String, yaml: String) {
        let ini = folder.appendingPathComponent("hosts.ini")
        // TEST-NET addresses: a connection attempt would hang until the timeout, a listing must not.
        try """
            [web]
            web[1:2] ansible_host=192.0.2.10 ansible_user=deploy
            [web:vars]
            ansible_ssh_common_args='-o ProxyJump=ops@bastion.example:2200'
            """.write(to: ini, atomically: true, encoding: .utf8)
        let yaml = folder.appendingPathComponent("more.yml")
        try "all:\n  hosts:\n    db1:\n      ansible_host: 192.0.2.20\n      ansible_port: 2222\n".write(to: yaml, atomically: true, encoding: .utf8)
        return (ini.path, yaml.path)
    }

    @Test func listHostsMergesSourcesAndContactsNothing() async throws {
        let folder = try CLI.temporaryDirectory()
        let (ini, yaml) = try inventories(folder)
        let db = folder.appendingPathComponent("h.db").path
        let started = Date()
        let result = try await CLI.runWaiting(["scan", "-i", ini, "-i", yaml, "--list-hosts", "--output", "json", "--db", db, "--user", "fallback",
                                               "--connect-timeout", "600"])
        #expect(result.status == 0, "\(result.stderr)")
        // Dialling the TEST-NET addresses would wait out the 600 s connect timeout: nothing was dialled.
        #expect(Date().timeIntervalSince(started) < 300)
        #expect(!FileManager.default.fileExists(atPath: db))  // and nothing recorded
        let hosts = try #require(try CLI.json(result.stdout)["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["name"] as? String } == ["web1", "web2", "db1"])
        #expect(hosts[0]["address"] as? String == "192.0.2.10")
        #expect(hosts[0]["user"] as? String == "deploy")
        #expect(hosts[0]["via"] as? [String] == ["ops@bastion.example:2200"])
        #expect(hosts[0]["transport"] as? String == "ssh")
        #expect(hosts[2]["port"] as? Int == 2222)
        #expect(hosts[2]["user"] as? String == "fallback")
        #expect(hosts[2]["via"] as? [String] == [])

        let table = try await CLI.runWaiting(["exec", "-i", ini, "-i", yaml, "--limit", "web", "--list-hosts", "--db", db])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("ops@bastion.example:2200"))
        #expect(table.stdout.contains("2 hosts"))
        #expect(!table.stdout.contains("db1"))
    }

    @Test func deployListsThePolicysTargetsWithoutAPlanOrARun() async throws {
        let folder = try CLI.temporaryDirectory()
        let (ini, yaml) = try inventories(folder)
        let policy = folder.appendingPathComponent("web-only.yml")
        try "name: web-only\ntargets: web\nselect: security\napproval: auto\nreboot: never\n".write(to: policy, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("h.db").path
        let result = try await CLI.runWaiting(["deploy", "--policy", policy.path, "-i", ini, "-i", yaml, "--limit", "web1,db1",
                                  "--list-hosts", "--output", "json", "--db", db])
        #expect(result.status == 0, "\(result.stderr)")
        let hosts = try #require(try CLI.json(result.stdout)["hosts"] as? [[String: Any]])
        // The policy targets web; --limit narrows it to web1 (db1 is not a target).
        #expect(hosts.map { $0["name"] as? String } == ["web1"])
        #expect(hosts.first?["via"] as? [String] == ["ops@bastion.example:2200"])
        let runs = try await CLI.runWaiting(["history", "--db", db, "--output", "json"])
        #expect(runs.status == 0, "\(runs.stderr)")
        let recorded = try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [Any]
        #expect(recorded?.isEmpty == true, "\(runs.stdout)")
    }

    @Test func anInvalidINIFileExits65WithItsPosition() async throws {
        let folder = try CLI.temporaryDirectory()
        let ini = folder.appendingPathComponent("hosts.ini")
        try "[web]\nweb1 ansible_become_method=su\n".write(to: ini, atomically: true, encoding: .utf8)
        let result = try await CLI.runWaiting(["scan", "-i", ini.path, "--list-hosts"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(ini.path):2:6"), "\(result.stderr)")
        #expect(result.stderr.contains("sudo only"), "\(result.stderr)")
    }

    @Test func execJSONHostsCarryUserAndVia() async throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("inv.ini")
        // Port 1 on loopback refuses at once: a failed host still reports how it was reached.
        try "solo ansible_host=127.0.0.1 ansible_port=1 ansible_user=someone\n".write(to: inventory, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: folder.appendingPathComponent("kh").path, contents: Data())
        let result = try await CLI.runWaiting(["exec", "-i", inventory.path, "--db", folder.appendingPathComponent("h.db").path,
                                  "--known-hosts", folder.appendingPathComponent("kh").path, "--output", "json", "--", "true"])
        #expect(result.status == 2, "\(result.stderr)")
        let host = try #require((try CLI.json(result.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect(host["user"] as? String == "someone")
        #expect(host["via"] as? [String] == [])
        #expect(host["status"] as? String == "unreachable")
    }
}
