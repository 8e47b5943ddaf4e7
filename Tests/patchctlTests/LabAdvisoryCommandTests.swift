import Foundation
import LabSupport
import Testing

/// Advisories end to end, as a sysadmin runs them: a Debian Security Tracker feed served over
/// HTTP on loopback, `advisories sync`, then `scan`, `deploy` and `report cves` against the lab's
/// real Debian endpoint. The feed's records come from Debian's own changelogs of the lab tree's
/// pending security updates (lab/advisory-data.sh), plus decoys every rule must see through.
@Suite("patchctl advisories against the lab", .serialized, .enabled(if: CLI.labEnabled))
struct LabAdvisoryCommandTests {
    /// lab/advisory_data.py's record: per source package, its installed and candidate versions,
    /// the pending binaries built from it, and the CVEs its newer changelog entries name.
    struct LabData: Decodable, Sendable {
        struct Source: Decodable, Sendable {
            var source: String
            var installed_version: String
            var candidate_version: String
            var binaries: [String]
            var cves: [CVE]
            var fixed_before: [CVE]
        }
        struct CVE: Decodable, Sendable {
            var id: String
            var fixed_version: String
        }
        var sources: [Source]

        static func load() throws -> LabData {
            let path = try CLI.lab("LAB_ADVISORY_DATA")
            return try JSONDecoder().decode(LabData.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
    }

    /// The urgency the generated feed gives each real CVE: a spread over Debian's words, fixed per
    /// position so the expectations below follow from the data, whatever the lab's updates are.
    static let urgencies = ["high", "low", "medium**", "unimportant", "not yet assigned", "medium", "high**"]

    /// The feed, and what a scan must make of it.
    struct Feed: Sendable {
        /// The tracker document, as served.
        var tracker = Data()
        /// Binary package → the CVE ids its update must carry, exactly.
        var fixes: [String: Set<String>] = [:]
        /// CVE id → the severity word the feed gives it.
        var urgency: [String: String] = [:]
        /// The unfixed CVEs the host must report: (CVE, source package, fixed version or nil).
        var unfixed: Set<String> = []
        var kev: String?
    }

    static func feed(from data: LabData) throws -> Feed {
        var feed = Feed()
        var tracker: [String: Any] = [:]
        var position = 0
        func record(_ status: String, fixed: String?, urgency: String, release: String = "bookworm") -> [String: Any] {
            var entry: [String: Any] = ["status": status, "urgency": urgency, "repositories": ["bookworm": fixed ?? "0"]]
            if let fixed { entry["fixed_version"] = fixed }
            return ["description": "patchctl lab feed", "scope": "remote", "releases": [release: entry]]
        }
        for source in data.sources {
            var entries: [String: Any] = [:]
            for cve in source.cves {
                let urgency = urgencies[position % urgencies.count]
                position += 1
                entries[cve.id] = record("resolved", fixed: cve.fixed_version, urgency: urgency)
                feed.urgency[cve.id] = urgency
                for binary in source.binaries { feed.fixes[binary, default: []].insert(cve.id) }
            }
            // Decoy: real CVEs whose fix is at or below the installed version.
            for cve in source.fixed_before {
                entries[cve.id] = record("resolved", fixed: cve.fixed_version, urgency: "high")
            }
            if !entries.isEmpty { tracker[source.source] = entries }
        }
        let withCVEs = data.sources.filter { !$0.cves.isEmpty }
        let first = try #require(withCVEs.first, "the lab's pending security updates name no CVE in their changelogs")
        let last = try #require(withCVEs.last)
        var decoys = (tracker[first.source] as? [String: Any]) ?? [:]
        // Open: no fix anywhere; the host must list it as unfixed.
        decoys["CVE-2099-0001"] = record("open", fixed: nil, urgency: "high")
        feed.unfixed.insert("CVE-2099-0001 \(first.source) -")
        // Fixed only beyond the candidate the host is offered: unfixed, with that version.
        let beyond = first.candidate_version + "+patchctl1"
        decoys["CVE-2099-0002"] = record("resolved", fixed: beyond, urgency: "medium")
        feed.unfixed.insert("CVE-2099-0002 \(first.source) \(beyond)")
        // Never affected (fixed_version "0"), a TEMP- id, and another release's record: none counts.
        decoys["CVE-2099-0003"] = record("resolved", fixed: "0", urgency: "high")
        decoys["TEMP-0000000-7A1B2C"] = record("open", fixed: nil, urgency: "high")
        decoys["CVE-2099-0004"] = record("open", fixed: nil, urgency: "high", release: "bullseye")
        tracker[first.source] = decoys
        // A source package the host does not have.
        tracker["patchctl-not-installed"] = ["CVE-2099-0005": record("open", fixed: nil, urgency: "high")]
        feed.kev = last.cves.first?.id
        feed.tracker = try JSONSerialization.data(withJSONObject: tracker, options: [.sortedKeys])
        return feed
    }

    /// CISA's catalogue format, with the one entry the test marks as exploited.
    static func kevCatalogue(_ cve: String) -> [String: Any] {
        ["title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2026.12.03", "dateReleased": "2026-12-03T12:00:00.0000Z",
         "count": 1, "vulnerabilities": [[
            "cveID": cve, "vendorProject": "Debian", "product": "lab", "vulnerabilityName": "patchctl lab entry",
            "dateAdded": "2026-12-01", "shortDescription": "", "requiredAction": "Apply updates.", "dueDate": "2026-12-22",
            "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": [],
         ]]]
    }

    /// A feed folder served by python3's http.server on a free loopback port.
    final class FeedServer: @unchecked Sendable {
        let process = Process()
        let url: String

        init(folder: URL) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", folder.path, "0"]
            // The first line names the port it bound: "Serving HTTP on 127.0.0.1 port N (…".
            let text = try ChildServer.start(process, what: "http.server")
            guard let range = text.range(of: #"port (\d+)"#, options: .regularExpression) else {
                process.terminate()
                throw HostileEndpoint.Failure("http.server did not start: \(text)")
            }
            url = "http://127.0.0.1:" + text[range].dropFirst(5)
        }

        // SIGKILL: a child of the test runner inherits its ignored SIGTERM.
        deinit {
            kill(process.processIdentifier, SIGKILL)
            process.waitForExit()
        }
    }

    struct Setup: Sendable {
        var folder: URL
        var db: String
        var server: FeedServer
        var feed: Feed
        var data: LabData
        /// The history's environment: for a PostgreSQL history, its password file and this controller's state folder.
        var environment: [String: String] = [:]
        /// The PostgreSQL server holding the history (nil: an SQLite file), kept running as long as the setup.
        var postgres: PostgresServer?
    }

    /// The same, with the history in a database of a PostgreSQL server of the test's own.
    static func setup(onPostgres: Bool) async throws -> Setup {
        var setup = try setup()
        guard onPostgres else { return setup }
        let server = try await PostgresServer()
        try await server.createDatabase("fleet")
        setup.postgres = server
        setup.db = server.url(database: "fleet")
        let state = setup.folder.appendingPathComponent("state").path
        setup.environment = ["PGPASSFILE": try server.passwordFile(), "HOME": setup.folder.path, "XDG_STATE_HOME": state, "STATE_DIRECTORY": state]
        return setup
    }

    static func setup() throws -> Setup {
        let data = try LabData.load()
        let feed = try Self.feed(from: data)
        let folder = try CLI.temporaryDirectory()
        let served = folder.appendingPathComponent("feeds")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        try feed.tracker.write(to: served.appendingPathComponent("tracker.json"))
        try JSONSerialization.data(withJSONObject: kevCatalogue(feed.kev ?? "CVE-2099-0009"), options: [.sortedKeys])
            .write(to: served.appendingPathComponent("kev.json"))
        return Setup(folder: folder, db: folder.appendingPathComponent("h.db").path, server: try FeedServer(folder: served), feed: feed, data: data)
    }

    static func sync(_ setup: Setup) async throws {
        let sync = try await CLI.runWaiting([
            "advisories", "sync", "--db", setup.db,
            "--from", "debian-tracker=\(setup.server.url)/tracker.json", "--from", "kev=\(setup.server.url)/kev.json",
        ], environment: setup.environment)
        #expect(sync.status == 0, "\(sync.stdout)\(sync.stderr)")
    }

    /// The lab's read-only Debian endpoint as one host.
    static func labInventory(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("lab.yml").path
        try """
            all:
              hosts:
                lab: {ansible_host: \(try CLI.lab("LAB_HOST")), ansible_port: \(try CLI.lab("LAB_PORT")), ansible_user: root, ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Into an SQLite history, and into a PostgreSQL one (feeds synced into the shared history are
    /// what every controller's scans match against).
    @Test(arguments: [false, true]) func scanNamesExactlyTheCVEsEachPendingUpdateFixes(onPostgres: Bool) async throws {
        guard !onPostgres || PostgresServer.enabled else { return }
        let setup = try await Self.setup(onPostgres: onPostgres)
        try await Self.sync(setup)
        if onPostgres {
            let status = try await CLI.runWaiting(["advisories", "status", "--db", setup.db, "--output", "json"], environment: setup.environment)
            #expect(status.status == 0 && status.stdout.contains("\"debian-tracker\"") && status.stdout.contains("\"kev\""), "\(status.stderr)")
        }
        let inventory = try Self.labInventory(in: setup.folder)
        let scan = try await CLI.runWaiting(["scan", "-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", setup.db, "--output", "json"],
                                            environment: setup.environment)
        #expect(scan.status == 0, "\(scan.stderr)")
        let host = try #require((try CLI.json(scan.stdout)["hosts"] as? [[String: Any]])?.first)
        let updates = try #require(host["updates"] as? [[String: Any]])
        #expect(!updates.isEmpty)
        for update in updates {
            let name = try #require(update["name"] as? String)
            let cves = try #require(update["cves"] as? [[String: Any]], "\(name) has no cves array")
            #expect(Set(cves.compactMap { $0["id"] as? String }) == setup.feed.fixes[name] ?? [], "\(name)")
            for cve in cves {
                let id = try #require(cve["id"] as? String)
                let word = try #require(setup.feed.urgency[id])
                #expect(cve["vendor_severity"] as? String == word, "\(id)")
                let expected = word == "unimportant" ? "none" : word == "not yet assigned" ? "unknown" : word.replacingOccurrences(of: "*", with: "")
                #expect(cve["severity"] as? String == expected, "\(id): \(word)")
                #expect(cve["kev"] as? Bool == (id == setup.feed.kev), "\(id)")
                #expect(cve["source"] as? String == "debian-tracker")
                #expect(cve["fixed_version"] is String)
            }
        }
        let unfixed = try #require(host["unfixed_cves"] as? [[String: Any]])
        let found = Set(unfixed.map { "\($0["id"] as? String ?? "?") \($0["source"] as? String ?? "?") \($0["fixed_version"] as? String ?? "-")" })
        #expect(found == setup.feed.unfixed)

        // "Which hosts still have CVE-X": the pivot names the lab host for a CVE it has, and for
        // the unfixed one.
        for cve in [try #require(setup.feed.fixes.values.first(where: { !$0.isEmpty })?.sorted().first), "CVE-2099-0001"] {
            let report = try await CLI.runWaiting(["report", "cves", "--db", setup.db, "--cve", cve, "--output", "json"], environment: setup.environment)
            #expect(report.status == 0, "\(report.stderr)")
            #expect(report.stdout.contains(cve) && report.stdout.contains("\"lab\""), "\(cve): \(report.stdout)")
        }
    }

    /// `min_severity: high` plans the updates that fix a CVE rated high or critical, and the
    /// security updates nobody rated (the floor that keeps them from never being patched);
    /// `select.cves` installs exactly the updates that fix the CVE named, on a real endpoint.
    @Test func policiesSelectBySeverityAndByCVE() async throws {
        let setup = try Self.setup()
        try await Self.sync(setup)
        let scanned = try await CLI.runWaiting(["scan", "-i", try Self.labInventory(in: setup.folder), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"),
                                                "--db", setup.db, "--output", "json"])
        let pending = try #require((try CLI.json(scanned.stdout)["hosts"] as? [[String: Any]])?.first?["updates"] as? [[String: Any]])
        func rank(_ word: String) -> Int {
            switch word.replacingOccurrences(of: "*", with: "") {
            case "critical": 4
            case "high": 3
            case "medium": 2
            case "low": 1
            case "unimportant": 0
            default: -1
            }
        }
        var high = Set<String>()
        for update in pending where update["security"] as? Bool == true {
            let name = try #require(update["name"] as? String)
            let best = (setup.feed.fixes[name] ?? []).map { rank(setup.feed.urgency[$0] ?? "") }.max() ?? -1
            if best >= 3 || best == -1 { high.insert(name) }
        }
        let expectedHigh = high
        let target = try #require(setup.data.sources.first { $0.cves.count > 0 && $0.binaries.count > 1 } ?? setup.data.sources.first { !$0.cves.isEmpty })
        let cve = try #require(target.cves.first?.id)

        try await CLI.withDeployEndpoints {
            let slot = 4
            try DeployCommandTests.slotScript(["reset", String(slot)])
            let root = try CLI.lab("LAB_SLOTS_ROOT") + "/\(slot)"
            let inventory = setup.folder.appendingPathComponent("slot.yml").path
            try """
                all:
                  vars: {ansible_user: root, ansible_port: \(try CLI.lab("LAB_DEPLOY_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
                  hosts:
                    slot\(slot): {ansible_host: \(try CLI.lab("LAB_SLOT_ADDRESS_PREFIX"))\(slot)}

                """.write(toFile: inventory, atomically: true, encoding: .utf8)
            let common = ["-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", setup.db]

            let high = setup.folder.appendingPathComponent("high.yml").path
            try "name: advisories-high\ntargets: all\nrefresh: false\nselect:\n  updates: security\n  min_severity: high\nreboot: never\n"
                .write(toFile: high, atomically: true, encoding: .utf8)
            let plan = try await CLI.runWaiting(["deploy", "--policy", high, "--dry-run", "--output", "json"] + common)
            #expect(plan.status == 0, "\(plan.stderr)")
            let planned = try #require((try CLI.json(plan.stdout)["hosts"] as? [[String: Any]])?.first?["planned"] as? [[String: Any]])
            #expect(Set(planned.compactMap { $0["name"] as? String }) == expectedHigh)
            for item in planned {
                let name = try #require(item["name"] as? String)
                let ids = try #require(item["cves"] as? [String], "\(name): planned[].cves")
                #expect(Set(ids) == setup.feed.fixes[name] ?? [], "the plan shows the CVEs \(name) closes")
            }

            // Emergency patching of one CVE. The tree's apt cache is seeded with the recorded
            // candidate .debs, so apt installs those files even once the mirror has moved on.
            let debs = try CLI.lab("LAB_ADVISORY_DEBS")
            for file in try FileManager.default.contentsOfDirectory(atPath: debs) where file.hasSuffix(".deb") {
                try? FileManager.default.removeItem(atPath: root + "/var/cache/apt/archives/" + file)
                try FileManager.default.copyItem(atPath: debs + "/" + file, toPath: root + "/var/cache/apt/archives/" + file)
            }
            let before = try Self.versions(root)
            let emergency = setup.folder.appendingPathComponent("cve.yml").path
            try "name: advisories-cve\ntargets: all\nrefresh: false\nselect:\n  updates: all\n  cves: [\(cve)]\nreboot: never\n"
                .write(toFile: emergency, atomically: true, encoding: .utf8)
            let deploy = try await CLI.runWaiting(["deploy", "--policy", emergency, "--output", "json"] + common)
            #expect(deploy.status == 0, "\(deploy.stdout)\(deploy.stderr)")
            let installed = try #require((try CLI.json(deploy.stdout)["hosts"] as? [[String: Any]])?.first?["installed"] as? [[String: Any]])
            #expect(Set(installed.compactMap { $0["name"] as? String }) == Set(target.binaries), "exactly the packages that fix \(cve)")
            let after = try Self.versions(root)
            for (name, version) in before {
                if target.binaries.contains(name) {
                    #expect(after[name] == target.candidate_version, "\(name)")
                } else {
                    #expect(after[name] == version, "\(name) was left alone")
                }
            }
        }
    }

    /// `NAME → VERSION` of every installed package in a tree.
    static func versions(_ root: String) throws -> [String: String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        process.arguments = [root, "dpkg-query", "-W", "-f=${Package}\t${Version}\n"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        var result: [String: String] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2 { result[String(fields[0])] = String(fields[1]) }
        }
        return result
    }
}
