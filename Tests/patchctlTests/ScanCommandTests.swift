import Foundation
import Testing

/// `patchctl scan` and `patchctl history` as processes: exit codes, JSON schema, history.
@Suite("patchctl scan/history CLI", .serialized, .enabled(if: CLI.labEnabled))
struct ScanCommandTests {
    /// An inventory with two lab hosts and one closed port, written in Ansible's format.
    func inventory(in folder: URL, includeDead: Bool) throws -> String {
        let port = try CLI.lab("LAB_PORT")
        var text = """
            all:
              vars:
                ansible_user: root
                ansible_port: \(port)
                ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))
              children:
                web:
                  hosts:
                    web1: {ansible_host: 127.0.0.1}
                    web2: {ansible_host: 127.0.0.2}

            """
        if includeDead {
            text += """
                    db:
                      hosts:
                        dead: {ansible_host: 127.0.0.1, ansible_port: 1}

                """
        }
        let path = folder.appendingPathComponent("inventory.yml")
        try text.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    @Test func jsonDocumentHistoryAndExitZero() throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("state/history.db").path
        let inventory = try inventory(in: folder, includeDead: false)
        let scan = try CLI.run(["scan", "-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "json"])
        #expect(scan.status == 0, "\(scan.stderr)")
        let document = try CLI.json(scan.stdout)
        let runId = try #require(document["run_id"] as? String)
        #expect(document["started_at"] is String && document["finished_at"] is String)
        let hosts = try #require(document["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["name"] as? String } == ["web1", "web2"])
        for host in hosts {
            #expect(Set(host.keys).isSuperset(of: ["name", "address", "port", "status", "error", "os", "reboot_required", "updates"]))
            #expect(host["status"] as? String == "ok")
            #expect(host["error"] is NSNull)
            let os = try #require(host["os"] as? [String: Any])
            #expect(os["family"] as? String == "debian" && os["name"] as? String == "Debian GNU/Linux" && os["version"] as? String == "12")
            let updates = try #require(host["updates"] as? [[String: Any]])
            #expect(!updates.isEmpty)
            for update in updates {
                #expect(Set(update.keys).isSuperset(of: ["name", "installed_version", "available_version", "source", "security"]))
            }
        }
        let summary = try #require(document["summary"] as? [String: Any])
        #expect(summary["hosts"] as? Int == 2 && summary["failed"] as? Int == 0)

        // The database is private to its owner.
        let permissions = try FileManager.default.attributesOfItem(atPath: db)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let history = try CLI.run(["history", "--db", db, "--output", "json"])
        #expect(history.status == 0)
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(runs.first?["run_id"] as? String == runId && runs.first?["hosts"] as? Int == 2)

        let shown = try CLI.run(["history", "show", String(runId.prefix(22)), "--db", db, "--output", "json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let replay = try CLI.json(shown.stdout)
        #expect(replay["run_id"] as? String == runId)
        #expect((replay["hosts"] as? [[String: Any]])?.count == 2)
        let original = hosts.map { ($0["updates"] as? [[String: Any]])?.count }
        #expect((replay["hosts"] as? [[String: Any]])?.map { ($0["updates"] as? [[String: Any]])?.count } == original)
    }

    @Test func failedHostsExitTwoAndNDJSONStreamsEveryHost() throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let inventory = try inventory(in: folder, includeDead: true)
        let scan = try CLI.run(["scan", "-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db, "--output", "ndjson"])
        #expect(scan.status == 2)
        let lines = scan.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        var statuses: [String: String] = [:]
        for line in lines {
            let host = try CLI.json(String(line))
            statuses[host["name"] as? String ?? ""] = host["status"] as? String
        }
        #expect(statuses == ["web1": "ok", "web2": "ok", "dead": "unreachable"])
    }

    @Test func limitPatternSelectsHosts() throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = try inventory(in: folder, includeDead: true)
        let scan = try CLI.run(["scan", "-i", inventory, "--limit", "all:!db:!web2", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"),
                                "--db", folder.appendingPathComponent("h.db").path, "--output", "json"])
        #expect(scan.status == 0, "\(scan.stderr)")
        let hosts = try #require(try CLI.json(scan.stdout)["hosts"] as? [[String: Any]])
        #expect(hosts.map { $0["name"] as? String } == ["web1"])
    }

    @Test func invalidInventoryExits65WithPositionAndContactsNobody() throws {
        let folder = try CLI.temporaryDirectory()
        let path = folder.appendingPathComponent("bad.yml")
        try """
            all:
              hosts:
                web1:
                  ansible_host: 127.0.0.1
                  ansible_port: twenty-two
            """.write(to: path, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("h.db").path
        let scan = try CLI.run(["scan", "-i", path.path, "--db", db])
        #expect(scan.status == 65)
        #expect(scan.stderr.contains("bad.yml:5:"), "\(scan.stderr)")
        #expect(scan.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test func unknownGroupInPatternExits65() throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = try inventory(in: folder, includeDead: false)
        let scan = try CLI.run(["scan", "-i", inventory, "--limit", "web:&nosuchgroup", "--db", folder.appendingPathComponent("h.db").path])
        #expect(scan.status == 65)
        #expect(scan.stderr.contains("nosuchgroup"))
    }

    @Test func usageErrorsExit64() throws {
        #expect(try CLI.run(["scan"]).status == 64)
        #expect(try CLI.run(["scan", "-i", "x.yml", "--forks", "0"]).status == 64)
        #expect(try CLI.run(["scan", "-i", "x.yml", "--output", "xml"]).status == 64)
    }

    @Test func historyShowUnknownRunFails() throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        // Reading never creates a database.
        let missing = try CLI.run(["history", "show", "nope", "--db", db])
        #expect(missing.status == 1 && missing.stderr.contains("no history database here"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: db))
        #expect(try CLI.run(["exception", "add", "web1", "apt", "--until", "1d", "--reason", "x", "--owner", "ops", "--db", db]).status == 0)
        let result = try CLI.run(["history", "show", "nope", "--db", db])
        #expect(result.status == 1)
        #expect(result.stderr.contains("no run with id 'nope'"))
    }
}
