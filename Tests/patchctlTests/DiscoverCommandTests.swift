import Foundation
import LabSupport
import Testing

/// `patchctl discover` against real sshd processes and a WS-Management-like listener in a network
/// namespace of the tests' own (`DiscoverTopology`), compared with ssh-keyscan and ssh-keygen on
/// the same hosts, and its inventory loaded by patchctl and by ansible-inventory.
@Suite("discover sweeps a namespace of real sshds", .serialized,
       .enabled(if: CLI.labEnabled && DiscoverTopology.canRun(chroot: CLI.labEnv["LAB_ROOT"] ?? (CLI.labEnabled ? "/" : nil))))
struct DiscoverCommandTests {
    static func topology() throws -> DiscoverTopology {
        try DiscoverTopology(chroot: try CLI.lab("LAB_ROOT"))
    }

    static func hosts(_ result: CLI.Result) throws -> [String: [String: Any]] {
        let document = try CLI.json(result.stdout)
        let hosts = try #require(document["hosts"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: hosts.map { ($0["address"] as? String ?? "", $0) })
    }

    static func keys(_ host: [String: Any]?, port: Int = 22) -> [[String: String]] {
        let services = host?["ssh"] as? [[String: Any]] ?? []
        return services.first { $0["port"] as? Int == port }?["keys"] as? [[String: String]] ?? []
    }

    @Test("the found set is exact; banners and fingerprints equal ssh-keyscan's; WinRM answers as WS-Management")
    func sweepEqualsKeyscan() throws {
        let topology = try Self.topology()
        let folder = try CLI.temporaryDirectory()
        let result = try CLI.run(["discover", DiscoverTopology.range, "--no-dns", "--format", "json", "--db", folder.path + "/h.db"])
        #expect(result.status == 0, "\(result.stderr)")
        let hosts = try Self.hosts(result)
        #expect(hosts.keys.sorted() == [DiscoverTopology.rsaOnly, DiscoverTopology.ed25519AndECDSA, DiscoverTopology.login, DiscoverTopology.wsman])
        let document = try CLI.json(result.stdout)
        #expect(document["addresses_swept"] as? Int == 14)
        for address in DiscoverTopology.sshHosts {
            let scanned = DiscoverTopology.keyscan(address)
            let ours = Self.keys(hosts[address])
            #expect(ours.map { $0["fingerprint"] ?? "" }.sorted() == scanned.fingerprints, "\(address)")
            // The same key blobs, type and base64, as the known_hosts lines ssh-keyscan prints.
            let lines = Set(scanned.lines.map { $0.split(separator: " ").dropFirst().joined(separator: " ") })
            #expect(Set(ours.map { "\($0["type"] ?? "") \($0["key"] ?? "")" }) == lines, "\(address)")
            let banner = (hosts[address]?["ssh"] as? [[String: Any]])?.first?["banner"] as? String
            #expect(banner != nil && banner == DiscoverTopology.keyscanBanner(address), "\(address)")
        }
        #expect(Self.keys(hosts[DiscoverTopology.rsaOnly]).map { $0["type"] ?? "" } == ["ssh-rsa"])
        #expect(Self.keys(hosts[DiscoverTopology.ed25519AndECDSA]).map { $0["type"] ?? "" }.sorted() == ["ecdsa-sha2-nistp256", "ssh-ed25519"])
        let winrm = try #require(hosts[DiscoverTopology.wsman]?["winrm"] as? [[String: Any]])
        #expect(winrm.map { "\($0["port"] as? Int ?? 0)/\($0["scheme"] as? String ?? "")" } == ["5985/http", "5986/https"])
        for listener in winrm {
            #expect(listener["wsman"] as? Bool == true, "\(listener)")
            #expect(listener["auth"] as? [String] == ["Negotiate", "Basic"], "\(listener)")
            #expect(listener["server"] as? String == "Microsoft-HTTPAPI/2.0", "\(listener)")
        }
        #expect((hosts[DiscoverTopology.wsman]?["ssh"] as? [Any])?.isEmpty == true)
        // The first run: everything is new.
        let changes = try #require(document["changes"] as? [String: Any])
        #expect((changes["new"] as? [String])?.count == 4)
        withExtendedLifetime(topology) {}
    }

    @Test("--login detects the chrooted Debian; the YAML and INI inventories and the known_hosts file work in patchctl and ansible-inventory")
    func loginInventoryAndKnownHosts() async throws {
        let topology = try Self.topology()
        let folder = try CLI.temporaryDirectory()
        let db = folder.path + "/h.db"
        let known = folder.path + "/known_hosts.discovered"
        let json = try CLI.run(["discover", DiscoverTopology.login, "--ports", "22", "--no-dns", "--login", "-u", "root", "--private-key", topology.keyPath,
                                "--format", "json", "--db", db, "--known-hosts-out", known, "--hash"])
        #expect(json.status == 0, "\(json.stderr)")
        let host = try #require(try Self.hosts(json)[DiscoverTopology.login])
        let os = try #require(host["os"] as? [String: Any], "\(host)")
        #expect(os["id"] as? String == "debian")
        #expect(os["version"] as? String == "12")
        #expect(host["login_user"] as? String == "root")
        // Hashed names, found by ssh-keygen -F under the address as OpenSSH looks it up.
        let text = try String(contentsOfFile: known, encoding: .utf8)
        #expect(!text.contains(DiscoverTopology.login))
        let (found, listed) = DiscoverTopology.runTool("/usr/bin/ssh-keygen", ["-F", DiscoverTopology.login, "-f", known], stderr: false)
        #expect(found == 0 && listed.contains("ssh-ed25519"), "\(listed)")

        for format in ["yaml", "ini"] {
            let inventory = folder.path + "/discovered." + format
            let made = try CLI.run(["discover", DiscoverTopology.login, "--ports", "22", "--no-dns", "--login", "-u", "root", "--private-key", topology.keyPath,
                                    "--format", format, "-o", inventory, "--db", db])
            #expect(made.status == 0, "\(made.stderr)")
            let written = try String(contentsOfFile: inventory, encoding: .utf8)
            #expect(written.contains("debian_12"), "\(written)")
            // patchctl reaches the host through the inventory and the separate known_hosts file, strictly.
            let ping = try CLI.run(["ping", "-i", inventory, "--known-hosts", known, "-u", "root", "--private-key", topology.keyPath, "--output", "json"])
            #expect(ping.status == 0, "\(format): \(ping.stdout) \(ping.stderr)")
            let pinged = try CLI.json(ping.stdout)["hosts"] as? [[String: Any]]
            #expect(pinged?.map { $0["address"] as? String } == [DiscoverTopology.login])
            // ansible-inventory sees the same host in the same groups.
            let ansible = CLI.repository.appendingPathComponent(".venv/bin/ansible-inventory").path
            if FileManager.default.isExecutableFile(atPath: ansible) || ProcessInfo.processInfo.environment["CI"] == "true" {
                let (status, listing) = DiscoverTopology.runTool(ansible, ["-i", inventory, "--list"], stderr: false)
                #expect(status == 0, "\(format): \(listing)")
                let parsed = try CLI.json(listing)
                #expect((parsed["debian_12"] as? [String: Any])?["hosts"] as? [String] == [DiscoverTopology.login], "\(format): \(listing)")
                #expect((parsed["debian"] as? [String: Any])?["children"] as? [String] == ["debian_12"], "\(format): \(listing)")
            }
        }
        withExtendedLifetime(topology) {}
    }

    @Test("--against lists found hosts the inventory lacks and inventory hosts not found")
    func againstAnInventory() throws {
        let topology = try Self.topology()
        let folder = try CLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("hosts.yml").path
        try """
            all:
              hosts:
                rsa-host:
                  ansible_host: \(DiscoverTopology.rsaOnly)
                ghost:
                  ansible_host: 10.234.0.25
                elsewhere:
                  ansible_host: 192.0.2.10
            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let result = try CLI.run(["discover", DiscoverTopology.range, "--ports", "22", "--no-dns", "--against", inventory, "--format", "json",
                                  "--db", folder.path + "/h.db"])
        #expect(result.status == 0, "\(result.stderr)")
        let against = try #require(try CLI.json(result.stdout)["against"] as? [String: Any])
        #expect(against["not_in_inventory"] as? [String] == [DiscoverTopology.ed25519AndECDSA, DiscoverTopology.login])
        #expect(against["not_found"] as? [String] == ["ghost"])
        #expect(against["outside_sweep"] as? Int == 1)
        let table = try CLI.run(["discover", DiscoverTopology.range, "--ports", "22", "--no-dns", "--against", inventory, "--db", folder.path + "/h.db"])
        #expect(table.stdout.contains("(unmanaged): \(DiscoverTopology.ed25519AndECDSA) \(DiscoverTopology.login)"), "\(table.stdout)")
        withExtendedLifetime(topology) {}
    }

    @Test("a second run reports a changed host key (exit 4) and hosts gone; history shows the run")
    func changedKeyAndGoneHosts() throws {
        let topology = try Self.topology()
        let folder = try CLI.temporaryDirectory()
        let db = folder.path + "/h.db"
        let first = try CLI.run(["discover", DiscoverTopology.range, "--ports", "22,5985", "--no-dns", "--format", "json", "--db", db])
        #expect(first.status == 0, "\(first.stderr)")
        let before = Self.keys(try Self.hosts(first)[DiscoverTopology.login]).first?["fingerprint"]
        try topology.rekeyLoginHost()
        let second = try CLI.run(["discover", DiscoverTopology.range, "--ports", "22", "--no-dns", "--format", "json", "--db", db])
        #expect(second.status == 4, "\(second.stderr)")
        #expect(second.stderr.contains("HOST KEY CHANGED: \(DiscoverTopology.login) port 22 ssh-ed25519"), "\(second.stderr)")
        let document = try CLI.json(second.stdout)
        let changes = try #require(document["changes"] as? [String: Any])
        let changed = try #require((changes["changed_keys"] as? [[String: Any]])?.first)
        #expect(changed["address"] as? String == DiscoverTopology.login)
        #expect(changed["previous_fingerprint"] as? String == before)
        #expect(changed["fingerprint"] as? String == DiscoverTopology.keyscan(DiscoverTopology.login).fingerprints.first)
        #expect((changes["new"] as? [String]) == [])
        // Port 5985 was not probed this time, so the WinRM-only host answered nothing.
        #expect((changes["gone"] as? [String]) == [DiscoverTopology.wsman])
        let runId = try #require(document["run_id"] as? String)
        let shown = try CLI.run(["history", "show", runId, "--db", db, "--output", "json"])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(try CLI.json(shown.stdout)["kind"] as? String == "discover")
        let listed = try CLI.run(["history", "--db", db])
        #expect(listed.stdout.contains("discover"), "\(listed.stdout)")
        withExtendedLifetime(topology) {}
    }
}

@Suite("discover touches only what it is told to")
struct DiscoverSafetyCommandTests {
    @Test("a public range wider than a /16 is refused without --i-own-this-network, before anything is contacted")
    func widePublicRangeRefused() throws {
        let folder = try CLI.temporaryDirectory()
        let result = try CLI.run(["discover", "8.0.0.0/15", "--db", folder.path + "/h.db"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--i-own-this-network"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/h.db"), "nothing may be recorded either")
    }

    @Test("more than 4,096 addresses need --yes when there is no terminal to ask on")
    func largeSweepNeedsYes() throws {
        let folder = try CLI.temporaryDirectory()
        let result = try CLI.run(["discover", "10.99.0.0/19", "--db", folder.path + "/h.db"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("pass --yes"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/h.db"))
    }

    @Test("targets that are not networks are usage errors naming the file and line")
    func badTargets() throws {
        let folder = try CLI.temporaryDirectory()
        let list = folder.appendingPathComponent("targets.txt").path
        try "# ours\n127.0.0.1\n10.0.0.5/24\n".write(toFile: list, atomically: true, encoding: .utf8)
        let result = try CLI.run(["discover", list, "--db", folder.path + "/h.db"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("targets.txt:3: 10.0.0.5/24: host bits are set"), "\(result.stderr)")
    }
}

extension DiscoverCommandTests {
    @Test("reports list discovered hosts no inventory names as not in scope: unmanaged; every document meets its schema")
    func unmanagedInReports() throws {
        let topology = try Self.topology()
        let folder = try CLI.temporaryDirectory()
        let db = folder.path + "/h.db"
        let inventory = folder.appendingPathComponent("hosts.yml").path
        try "all:\n  hosts:\n    rsa-host:\n      ansible_host: \(DiscoverTopology.rsaOnly)\n".write(toFile: inventory, atomically: true, encoding: .utf8)
        let swept = try CLI.run(["discover", DiscoverTopology.range, "--ports", "22,5985", "--no-dns", "--format", "json", "--db", db])
        #expect(swept.status == 0, "\(swept.stderr)")
        JSONSchema.validate(swept.stdout, schema: "discover-run")
        let lines = try CLI.run(["discover", DiscoverTopology.range, "--ports", "22,5985", "--no-dns", "--format", "ndjson", "--db", db])
        #expect(lines.stdout.split(separator: "\n").count == 4)
        JSONSchema.validate(lines.stdout, schema: "discover-host-line", lines: true)
        let runId = try #require(lines.stdout.split(separator: "\n").first.flatMap { try? CLI.json(String($0))["run_id"] as? String })
        JSONSchema.validate(try CLI.run(["history", "show", runId, "--db", db, "--output", "json"]).stdout, schema: "history-show")
        JSONSchema.validate(try CLI.run(["history", "--db", db, "--output", "json"]).stdout, schema: "history-list")

        let report = try CLI.run(["report", "compliance", "-i", inventory, "--db", db, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        JSONSchema.validate(report.stdout, schema: "compliance-report")
        let unmanaged = try #require(try CLI.json(report.stdout)["unmanaged"] as? [[String: Any]])
        #expect(unmanaged.map { $0["address"] as? String } == [DiscoverTopology.ed25519AndECDSA, DiscoverTopology.login, DiscoverTopology.wsman])
        #expect(unmanaged.allSatisfy { $0["status"] as? String == "not in scope: unmanaged" && $0["run"] as? String == runId })
        let hosts = try CLI.run(["report", "hosts", "-i", inventory, "--db", db])
        #expect(hosts.stdout.contains("not in scope: unmanaged"), "\(hosts.stdout)")
        #expect(hosts.stdout.contains("3 unmanaged (discovered, in no inventory)"), "\(hosts.stdout)")
        let html = try CLI.run(["report", "compliance", "-i", inventory, "--db", db, "--format", "html"])
        #expect(html.stdout.contains("id=\"unmanaged\"") && html.stdout.contains(DiscoverTopology.wsman))
        withExtendedLifetime(topology) {}
    }
}

extension DiscoverSafetyCommandTests {
    @Test("on a terminal it says what it will sweep, and above 4,096 addresses asks: no means nothing is touched")
    func terminalAsksFirst() throws {
        let folder = try CLI.temporaryDirectory()
        let result = try CLI.runOnTerminal(["discover", "10.99.0.0/19", "--db", folder.path + "/h.db"], columns: 120, input: "n\n")
        #expect(result.status == 0, "\(result.raw)")
        let lines = result.visibleLines.joined(separator: "\n")
        #expect(lines.contains("discover: 8190 addresses × 3 ports, at most 100 connection attempts in flight, 3 s each"), "\(lines)")
        #expect(lines.contains("Sweep 8190 addresses? [y/N]"), "\(lines)")
        #expect(lines.contains("nothing swept"), "\(lines)")
        #expect(!FileManager.default.fileExists(atPath: folder.path + "/h.db"), "nothing may be recorded")
    }
}

/// Reverse names come from the system's resolver; the tests ask only for 127.0.0.1, which
/// /etc/hosts answers (nsswitch's `files`), so no query ever leaves the machine.
@Suite("discover names hosts by reverse lookup", .enabled(if: CLI.labEnabled && DiscoverNames.loopbackName != nil))
struct DiscoverNameCommandTests {
    @Test("127.0.0.1 is named as /etc/hosts names it, and its ed25519 fingerprint is the lab's")
    func loopbackIsNamed() throws {
        let folder = try CLI.temporaryDirectory()
        let result = try CLI.run(["discover", "127.0.0.1", "--ports", try CLI.lab("LAB_PORT"), "--format", "json", "--db", folder.path + "/h.db"])
        #expect(result.status == 0, "\(result.stderr)")
        let host = try #require((try CLI.json(result.stdout)["hosts"] as? [[String: Any]])?.first)
        #expect(host["name"] as? String == DiscoverNames.loopbackName)
        let keys = (host["ssh"] as? [[String: Any]])?.first?["keys"] as? [[String: String]]
        #expect(keys?.filter { $0["type"] == "ssh-ed25519" }.map { $0["fingerprint"] } == [try CLI.lab("LAB_HOST_FINGERPRINT")], "\(keys ?? [])")
    }
}

enum DiscoverNames {
    /// The first name /etc/hosts gives 127.0.0.1 (what getnameinfo answers from `files`).
    static var loopbackName: String? {
        guard let text = try? String(contentsOfFile: "/etc/hosts", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "#").first?.split(whereSeparator: { $0 == " " || $0 == "\t" }) ?? []
            if fields.count >= 2, fields[0] == "127.0.0.1" { return String(fields[1]) }
        }
        return nil
    }
}
