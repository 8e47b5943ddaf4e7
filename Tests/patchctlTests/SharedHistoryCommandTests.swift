import Foundation
import LabSupport
import Testing

/// Two controllers share one PostgreSQL history, as the binary runs: each scans its shard of the
/// lab at the same time, both runs land in one history, and one report covers them.
@Suite("shared PostgreSQL history (binary)", .serialized, .enabled(if: PostgresServer.enabled && CLI.labEnabled))
struct SharedHistoryCommandTests {
    /// Six lab hosts: the bookworm tree's two sshd ports on three loopback addresses.
    static func inventory(in folder: URL) throws -> String {
        var hosts = ""
        for (index, address) in ["127.0.0.1", "127.0.0.2", "127.0.0.3"].enumerated() {
            hosts += "            deb\(index * 2 + 1): {ansible_host: \(address), ansible_port: \(try CLI.lab("LAB_PORT"))}\n"
            hosts += "            deb\(index * 2 + 2): {ansible_host: \(address), ansible_port: \(try CLI.lab("LAB_RW_PORT"))}\n"
        }
        let text = """
            all:
              vars:
                ansible_user: root
                ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))
              children:
                lab:
                  hosts:
            \(hosts)
            """
        let path = folder.appendingPathComponent("inventory.yml")
        try text.write(to: path, atomically: true, encoding: .utf8)
        return path.path
    }

    static func names(_ document: String) throws -> [String] {
        let hosts = try #require(try CLI.json(document)["hosts"] as? [[String: Any]])
        return hosts.compactMap { $0["name"] as? String }
    }

    /// A compliance report's hosts, by name, with run ids masked (the two histories' runs differ).
    static func reportHosts(_ document: String) throws -> [String: String] {
        let hosts = try #require(try CLI.json(document)["hosts"] as? [[String: Any]])
        var result: [String: String] = [:]
        for host in hosts {
            let text = String(decoding: try JSONSerialization.data(withJSONObject: host, options: [.sortedKeys]), as: UTF8.self)
            result[host["name"] as? String ?? ""] = text.replacingOccurrences(of: #"\d{8}T\d{6}Z-[0-9a-f]{6}"#, with: "RUN", options: .regularExpression)
        }
        return result
    }

    @Test func twoControllersScanTheirShardsIntoOneHistoryAndOneReportCoversBoth() async throws {
        let server = try await PostgresServer()
        try await server.createDatabase("fleet")
        let folder = try CLI.temporaryDirectory()
        let inventory = try Self.inventory(in: folder)
        let url = server.url(database: "fleet")
        let environment = ["PGPASSFILE": try server.passwordFile()]
        let common = ["-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", url, "--output", "json"]

        // Both controllers at once, as cron on two machines (or two pods of an Indexed Job) would start them.
        let dmz = try CLI.start(["scan"] + common + ["--shard", "1/2", "--controller", "dmz"], environment: environment)
        let office = try CLI.start(["scan"] + common + ["--shard", "2/2", "--controller", "office"], environment: environment)
        let (first, second) = (await CLI.finished(dmz), await CLI.finished(office))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(second.status == 0, "\(second.stderr)")
        let (dmzHosts, officeHosts) = (try Self.names(first.stdout), try Self.names(second.stdout))
        #expect(Set(dmzHosts).isDisjoint(with: officeHosts) && Set(dmzHosts + officeHosts) == Set((1...6).map { "deb\($0)" }))
        #expect(!dmzHosts.isEmpty && !officeHosts.isEmpty)

        // One history: both runs, each with its controller, each host's findings as its controller printed them.
        let history = try CLI.run(["history", "--db", url, "--output", "json"], environment: environment)
        #expect(history.status == 0, "\(history.stderr)")
        JSONSchema.validate(history.stdout, schema: "history-list")
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(Set(runs.compactMap { $0["controller"] as? String }) == ["dmz", "office"] && runs.count == 2)
        #expect(runs.allSatisfy { $0["state"] as? String == "finished" })
        for scan in [first, second] {
            let runId = try #require(try CLI.json(scan.stdout)["run_id"] as? String)
            let shown = try CLI.run(["history", "show", runId, "--db", url, "--output", "json"], environment: environment)
            #expect(shown.status == 0, "\(shown.stderr)")
            // Each host's pending updates, by host: what the scan printed is what history keeps.
            func updates(_ document: String) throws -> [String: [String]] {
                let hosts = try #require(try CLI.json(document)["hosts"] as? [[String: Any]])
                return Dictionary(uniqueKeysWithValues: hosts.map { host in
                    (host["name"] as? String ?? "", ((host["updates"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }.sorted())
                })
            }
            #expect(try updates(shown.stdout) == updates(scan.stdout))
            #expect(try updates(shown.stdout).values.allSatisfy { !$0.isEmpty })
        }

        // One compliance report over both controllers judges each host as one controller scanning all of them into a file does.
        let sqlite = folder.appendingPathComponent("single.db").path
        let single = try CLI.run(["scan", "-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", sqlite, "--output", "json"])
        #expect(single.status == 0, "\(single.stderr)")
        let shared = try CLI.run(["report", "compliance", "--db", url, "--format", "json", "--since", "1d"], environment: environment)
        let alone = try CLI.run(["report", "compliance", "--db", sqlite, "--format", "json", "--since", "1d"])
        #expect(shared.status == 0 || shared.status == 2, "\(shared.stderr)")
        let (sharedHosts, aloneHosts) = (try Self.reportHosts(shared.stdout), try Self.reportHosts(alone.stdout))
        #expect(sharedHosts.keys.sorted() == (1...6).map { "deb\($0)" })
        for (name, entry) in aloneHosts {
            // Ages and scan times differ by the seconds between the runs; the judgement and the findings do not.
            let strip = { (text: String) in text.replacingOccurrences(of: #""(at|last_contact|last_scan|age_days|oldest_days|first_seen|due_at)":[^,}]*"#, with: "", options: .regularExpression) }
            #expect(strip(sharedHosts[name] ?? "") == strip(entry), "\(name)")
        }
        // One controller's report: its shard's hosts were scanned, the others never were (by it).
        let onlyDMZ = try CLI.run(["report", "compliance", "--db", url, "--format", "json", "--controller", "dmz"], environment: environment)
        let scanned = try #require(try CLI.json(onlyDMZ.stdout)["hosts"] as? [[String: Any]]).filter { !($0["last_scan"] is NSNull) }
        #expect(Set(scanned.compactMap { $0["name"] as? String }) == Set(dmzHosts), "\(onlyDMZ.stderr)")

        // Exceptions and deferrals are kept in the shared history, for every controller's reports and deployments.
        let exception = try CLI.run(["exception", "add", "deb1", "apt", "--until", "30d", "--reason", "CHG-7", "--db", url, "--output", "json"],
                                    environment: environment)
        #expect(exception.status == 0, "\(exception.stderr)")
        let exceptions = try CLI.run(["exception", "list", "--db", url], environment: environment)
        #expect(exceptions.status == 0 && exceptions.stdout.contains("CHG-7"), "\(exceptions.stderr)")
        let withException = try CLI.run(["report", "compliance", "--db", url, "--format", "json", "--since", "1d"], environment: environment)
        #expect(withException.stdout.contains("\"exception_id\":1") || withException.stdout.contains("\"exception_id\" : 1"), "\(withException.stderr)")
        #expect(try CLI.run(["exception", "remove", "1", "--db", url], environment: environment).status == 0)
        let deferral = try CLI.run(["defer", "deb2", "--until", "48h", "--reason", "month-end close", "-i", inventory, "--db", url], environment: environment)
        #expect(deferral.status == 0, "\(deferral.stderr)")
        let deferrals = try CLI.run(["defer", "list", "--db", url], environment: environment)
        #expect(deferrals.status == 0 && deferrals.stdout.contains("month-end close"), "\(deferrals.stderr)")
        let events = try CLI.run(["history", "events", "--db", url], environment: environment)
        #expect(["exception", "exception-remove", "defer"].allSatisfy { events.stdout.contains($0) }, "\(events.stdout)")

        // Reading and keeping commands work on it as on a file.
        for arguments in [["diff", "--since", "last", "--output", "json"], ["report", "cves", "--format", "json"], ["metrics"],
                          ["history", "prune", "--older-than", "400d", "--dry-run", "--output", "json"], ["history", "migrate"]] {
            let read = try CLI.run(arguments + ["--db", url], environment: environment)
            #expect(read.status == 0 && !read.stdout.isEmpty, "\(arguments): \(read.stderr)")
        }
        // A host retired in the shared history is out of every controller's reports, until a scan reaches it again.
        let retire = try CLI.run(["hosts", "retire", "deb1", "--reason", "decommissioned", "--db", url], environment: environment)
        #expect(retire.status == 0, "\(retire.stderr)")
        let listed = try CLI.run(["hosts", "list", "--db", url, "--output", "json"], environment: environment)
        #expect(listed.status == 0 && listed.stdout.contains("decommissioned"), "\(listed.stderr)")
        let retiredReport = try Self.reportHosts(try CLI.run(["report", "compliance", "--db", url, "--format", "json"], environment: environment).stdout)
        #expect(retiredReport["deb1"] == nil && retiredReport["deb2"] != nil)
        let back = try CLI.run(["scan"] + common + ["--limit", "deb1", "--controller", "office"], environment: environment)
        #expect(back.status == 0, "\(back.stderr)")
        let reappeared = try CLI.run(["history", "events", "--db", url], environment: environment)
        #expect(reappeared.stdout.contains("reappeared"), "\(reappeared.stdout)")
        #expect(try Self.reportHosts(try CLI.run(["report", "compliance", "--db", url, "--format", "json"], environment: environment).stdout)["deb1"] != nil)

        // The package library is the shared history's too (PackageCommandTests installs from it across controllers).
        let library = try CLI.run(["package", "list", "--db", url], environment: environment)
        #expect(library.status == 0 && library.stdout == "the library is empty\n", "\(library.stdout)\(library.stderr)")
        #expect(!FileManager.default.fileExists(atPath: CLI.repository.path + "/postgres:"))
    }

    /// Two controllers deploying one policy into one PostgreSQL history: the second is refused while
    /// the first runs (its advisory lock, not a file: each has its own state folder, as two machines
    /// would), naming the holder; the deployment is recorded once, with its controller.
    @Test func oneDeploymentOfAPolicyAtATimeAcrossControllers() async throws {
        let server = try await PostgresServer()
        try await server.createDatabase("fleet")
        let url = server.url(database: "fleet")
        let password = try server.passwordFile()
        try await CLI.withDeployEndpoints {
            let setup = try DeployCommandTests.setup(slots: [1], policy: DeployCommandTests.localPolicy)
            try DeployCommandTests.slowDpkg(setup.roots[0], seconds: 3)
            let common = ["deploy", "--policy", setup.policy, "--quiet", "-i", setup.inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", url]
            let folder = setup.folder
            let machine: @Sendable (String) -> [String: String] = { name in
                let home = folder.appendingPathComponent(name).path
                return ["PGPASSFILE": password, "HOME": home, "STATE_DIRECTORY": home + "/state", "XDG_STATE_HOME": home + "/state"]
            }
            let first = try CLI.start(common + ["--controller", "dmz"], environment: machine("dmz"))
            nonisolated(unsafe) var second: CLI.Result?
            let overlapped = DeployCommandTests.whenDpkgRuns(setup.roots[0]) {
                second = try? CLI.run(common + ["--controller", "office"], environment: machine("office"))
            }
            let done = CLI.finish(first)
            overlapped.wait()
            #expect(second?.status == 75, "\(second?.stderr ?? "")")
            #expect(second?.stderr.contains("policy lab-cli is already being deployed (held by patchctl from 127.0.0.1") == true, "\(second?.stderr ?? "")")
            #expect(done.status == 0, "\(done.stderr)")
            #expect(try DeployCommandTests.canary(setup.roots[0]) == "1.1 ii")

            let history = try CLI.run(["history", "--db", url, "--output", "json"], environment: machine("dmz"))
            let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
            #expect(runs.count == 1 && runs.first?["kind"] as? String == "deploy" && runs.first?["controller"] as? String == "dmz"
                    && runs.first?["installed"] as? Int == 1, "\(history.stdout)")
            let runId = try #require(runs.first?["run_id"] as? String)
            let shown = try CLI.run(["history", "show", runId, "--db", url, "--output", "json"], environment: machine("office"))
            #expect(shown.status == 0 && shown.stdout.contains("patchlab-canary"), "\(shown.stderr)")
            // The lock went with the first run: the other controller deploys now (nothing is left to install).
            let again = try CLI.run(common + ["--controller", "office"], environment: machine("office"))
            #expect(again.status == 0, "\(again.stderr)")
        }
    }
}
