import Foundation
import GRDB
import LabSupport
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
        JSONSchema.validate(scan.stdout, schema: "scan-run")
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
                // Issue 13: apt gives no severity and no advisory ids: null and [], never a missing key.
                #expect(update["severity"] is NSNull, "\(update)")
                #expect((update["advisories"] as? [Any])?.isEmpty == true, "\(update)")
            }
        }
        let summary = try #require(document["summary"] as? [String: Any])
        #expect(summary["hosts"] as? Int == 2 && summary["failed"] as? Int == 0)

        // The database is private to its owner.
        let permissions = try FileManager.default.attributesOfItem(atPath: db)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let history = try CLI.run(["history", "--db", db, "--output", "json"])
        #expect(history.status == 0)
        JSONSchema.validate(history.stdout, schema: "history-list")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(runs.first?["run_id"] as? String == runId && runs.first?["hosts"] as? Int == 2)

        let shown = try CLI.run(["history", "show", String(runId.prefix(22)), "--db", db, "--output", "json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        JSONSchema.validate(shown.stdout, schema: "history-show")
        JSONSchema.validate(shown.stdout, schema: "scan-run")
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
        var runIds: Set<String> = []
        for line in lines {
            let host = try CLI.json(String(line))
            statuses[host["name"] as? String ?? ""] = host["status"] as? String
            runIds.insert(host["run_id"] as? String ?? "(none)")
        }
        #expect(statuses == ["web1": "ok", "web2": "ok", "dead": "unreachable"])
        JSONSchema.validate(scan.stdout, schema: "scan-host-line", lines: true)
        // Issue 13: every line names its run, the one history recorded.
        let history = try CLI.json(String(try CLI.run(["history", "--db", db, "--output", "json"]).stdout.dropFirst().dropLast(2)))
        #expect(runIds == [history["run_id"] as? String ?? "?"], "\(runIds)")
        let shown = try CLI.run(["history", "show", history["run_id"] as? String ?? "?", "--db", db, "--output", "ndjson"])
        #expect(shown.stdout.split(separator: "\n").allSatisfy { (try? CLI.json(String($0)))?["run_id"] as? String == history["run_id"] as? String })
        JSONSchema.validate(shown.stdout, schema: "scan-host-line", lines: true)
    }

    /// Issue 12: with feeds synced into the run's history database, NDJSON lines carry each
    /// update's `cves` and the host's `unfixed_cves`, and `--details` counts them; history keeps them.
    @Test func syncedFeedsReachNDJSONDetailsAndHistory() throws {
        let folder = try CLI.temporaryDirectory()
        let db = folder.appendingPathComponent("h.db").path
        let inventory = try inventory(in: folder, includeDead: false)
        let common = ["-i", inventory, "--limit", "web1", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db]
        let before = try CLI.run(["scan", "--output", "ndjson"] + common)
        #expect(before.status == 0, "\(before.stderr)")
        let plain = try CLI.json(String(before.stdout.split(separator: "\n")[0]))
        #expect((plain["unfixed_cves"] as? [Any])?.isEmpty == true, "no feed synced: nothing matched")
        // The lab repository's own packages: patchlab-canary 1.0 -> 1.1, patchlab-tool 1.0 -> 2.0 (stable across lab rebuilds).
        try DatabaseQueue(path: db).write { db in
            try db.execute(sql: """
                INSERT INTO advisory_feeds (id, kind, location, record_count) VALUES (1, 'debian-tracker', 'test', 2), (2, 'kev', 'test', 1);
                INSERT INTO advisory_ranges (feed_id, vulnerability, ecosystem, package, fixed, vendor_severity, severity)
                    VALUES (1, 'CVE-2099-0001', 'Debian:12', 'patchlab-canary', '1.1', 'high', 'high'),
                           (1, 'CVE-2099-0002', 'Debian:12', 'patchlab-tool', '3.0', 'low', 'low');
                INSERT INTO kev (cve, feed_id, vendor, product, name, date_added) VALUES ('CVE-2099-0001', 2, 'v', 'p', 'n', '2026-01-01');
                """)
        }
        let scan = try CLI.run(["scan", "--output", "ndjson"] + common)
        #expect(scan.status == 0, "\(scan.stderr)")
        let host = try CLI.json(String(scan.stdout.split(separator: "\n")[0]))
        let updates = try #require(host["updates"] as? [[String: Any]])
        let canary = try #require(updates.first { $0["name"] as? String == "patchlab-canary" })
        let cves = try #require(canary["cves"] as? [[String: Any]])
        #expect(cves.count == 1 && cves[0]["id"] as? String == "CVE-2099-0001" && cves[0]["severity"] as? String == "high")
        #expect(cves[0]["kev"] as? Bool == true && cves[0]["fixed_version"] as? String == "1.1" && cves[0]["source"] as? String == "debian-tracker")
        #expect(cves[0]["epss"] is NSNull && cves[0]["cvss"] is NSNull)
        #expect(updates.filter { $0["name"] as? String != "patchlab-canary" }.allSatisfy { ($0["cves"] as? [Any])?.isEmpty == true })
        let unfixed = try #require(host["unfixed_cves"] as? [[String: Any]])
        #expect(unfixed.count == 1 && unfixed[0]["id"] as? String == "CVE-2099-0002" && unfixed[0]["package"] as? String == "patchlab-tool")
        #expect(unfixed[0]["fixed_version"] as? String == "3.0" && unfixed[0]["source"] as? String == "patchlab-tool")

        let table = try CLI.run(["scan", "--details"] + common)
        #expect(table.status == 0, "\(table.stderr)")
        let row = try #require(table.stdout.split(separator: "\n").first { $0.contains("patchlab-canary") })
        #expect(row.contains("security     1  high"), "\(table.stdout)")
        #expect(table.stdout.contains("CVES  SEVERITY"))

        let runs = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--db", db, "--output", "json"]).stdout.utf8)) as? [[String: Any]])
        let shown = try CLI.run(["history", "show", try #require(runs.first?["run_id"] as? String), "--db", db, "--output", "json"])
        let replayed = try #require((try CLI.json(shown.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect((replayed["unfixed_cves"] as? [[String: Any]])?.map { $0["id"] as? String } == ["CVE-2099-0002"])
    }

    /// Issue 13: on a terminal the progress line names the phases with their host counts, tables
    /// fit the terminal's width and are coloured; NO_COLOR and --color never turn colour off, and
    /// --color always turns it on for a pipe.
    @Test func onATerminalProgressShowsPhasesAndTablesFitTheWidthInColour() throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = try inventory(in: folder, includeDead: true)
        let db = folder.appendingPathComponent("history.db").path
        let arguments = ["scan", "--details", "-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db]
        let terminal = ["TERM": "xterm-256color", "NO_COLOR": ""]

        let scan = try CLI.runOnTerminal(arguments, columns: 64, environment: terminal)
        #expect(scan.status == 2, "\(scan.raw)")
        // Every host reports each phase it enters, so both phases were drawn with their counts.
        #expect(scan.raw.contains(/hosts done[^\r\n]* · connecting [0-9]+/), "\(scan.raw)")
        #expect(scan.raw.contains(/\ · scanning [0-9]+/), "\(scan.raw)")
        #expect(scan.raw.contains("3/3 hosts done, 1 failed"), "\(scan.raw)")
        // The tables: from the hosts' header to the failures' lines (messages, which wrap as text does).
        let lines = scan.visibleLines
        let start = try #require(lines.firstIndex { $0.hasPrefix("HOST") }, "\(lines)")
        let tables = Array(lines[start..<(lines.firstIndex { $0.hasPrefix("dead: unreachable") } ?? lines.endIndex)])
        let wide = tables.filter { $0.count > 64 }
        #expect(tables.count > 10 && wide.isEmpty, "lines wider than the terminal: \(wide)")
        // --details' SOURCE column (Debian-Security:12/oldstable-security) gave way, visibly.
        #expect(tables.contains { $0.hasPrefix("PACK") } && tables.contains { $0.hasSuffix("…") }, "\(tables)")
        #expect(lines.contains { $0.hasPrefix("web1") && $0.contains("ok") })
        // Bold headers, green ok, red unreachable.
        #expect(scan.colourSequences.isSuperset(of: ["\u{1B}[1m", "\u{1B}[32m", "\u{1B}[31m", "\u{1B}[0m"]), "\(scan.colourSequences)")

        let noColour = try CLI.runOnTerminal(arguments, columns: 64, environment: ["TERM": "xterm-256color", "NO_COLOR": "1"])
        #expect(noColour.status == 2)
        #expect(noColour.colourSequences.isEmpty, "\(noColour.raw)")
        #expect(noColour.visibleLines.filter { $0.contains("security ") }.allSatisfy { $0.count <= 64 })
        let never = try CLI.runOnTerminal(arguments + ["--color", "never"], columns: 64, environment: terminal)
        #expect(never.colourSequences.isEmpty)

        // A pipe gets every column whole, no colour and no progress line, unless colour is asked for.
        let piped = try CLI.run(arguments)
        #expect(!piped.stdout.contains("\u{1B}") && !piped.stderr.contains("\u{1B}") && !piped.stdout.contains("…"), "\(piped.stdout)")
        #expect(piped.stdout.contains("oldstable-security"))
        let forced = try CLI.run(arguments + ["--color=always"])
        #expect(forced.stdout.contains("\u{1B}[1mHOST\u{1B}[0m"), "\(forced.stdout)")
        #expect(!forced.stderr.contains("\u{1B}"), "no progress line on a pipe: \(forced.stderr)")
        let wrong = try CLI.run(arguments + ["--color", "sometimes"])
        #expect(wrong.status == 64 && wrong.stderr.contains("'sometimes' is not one of auto, always, never"), "\(wrong.stderr)")
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
