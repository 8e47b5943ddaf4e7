import Foundation
import LabSupport
import PatchCore
import Testing

/// `patchctl hosts list|retire|unretire`: names checked against history, every decision audited,
/// the absent rule (flag and configuration), and reports leaving a retired host out from its
/// retirement on.
@Suite("patchctl hosts: list, retire, unretire")
struct HostsCommandTests {
    typealias CLI = InProcessCLI

    /// ScannedHistory's fleet (web1, web2 scanned a minute ago, down unreachable, spare never
    /// scanned) plus old1, last reached 40 days ago and in no inventory, and a configuration-free
    /// environment whose user is `auditor`.
    struct Fleet {
        var history: ScannedHistory
        var environment: [String: String]
        var db: String { history.db }
        var inventory: String { history.inventory }
    }

    static func fleet() throws -> Fleet {
        let history = try ScannedHistory.make()
        let store = try HistoryStore(path: history.db)
        let then = Date().addingTimeInterval(-40 * 86_400)
        let id = try store.beginRun(kind: .scan, startedAt: then, inventory: "old.yml", hostPattern: nil, options: nil, version: "test")
        try store.record(runId: id, hosts: [
            HostScan(name: "old1", address: "10.0.0.9", port: 22, status: .ok, os: ScannedHistory.debian, rebootRequired: false, installedCount: 200,
                     updates: [ScannedHistory.update("apt", "2.6.1", "2.6.1+deb12u1")], startedAt: then, finishedAt: then.addingTimeInterval(2)),
        ])
        try store.finishRun(runId: id, finishedAt: then.addingTimeInterval(3))
        let folder = history.folder.path
        let environment = ["HOME": folder, "PATCHCTL_SYSTEM_CONFIG": folder + "/no-system.yml", "XDG_CONFIG_HOME": folder + "/xdg",
                           "PATH": "/usr/bin:/bin", "SUDO_USER": "auditor"]
        return Fleet(history: history, environment: environment)
    }

    static func run(_ arguments: [String], _ fleet: Fleet, environment extra: [String: String] = [:]) async -> CLI.Result {
        await CLI.run(arguments + ["--db", fleet.db], environment: fleet.environment.merging(extra) { _, new in new })
    }

    static func list(_ fleet: Fleet, _ extra: [String] = []) async throws -> [String: [String: Any]] {
        let listed = await run(["hosts", "list", "--output", "json"] + extra, fleet)
        #expect(listed.status == 0, "\(listed.stderr)")
        JSONSchema.validate(listed.stdout, schema: "hosts-list")
        let items = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: items.map { ($0["name"] as? String ?? "?", $0) })
    }

    static func events(_ fleet: Fleet) async throws -> [[String: Any]] {
        let shown = await run(["history", "events", "--output", "json"], fleet)
        return try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]])
    }

    @Test func retireChecksNamesAndEveryDecisionIsAudited() async throws {
        let fleet = try Self.fleet()
        let typo = await Self.run(["hosts", "retire", "olb1", "--reason", "decommissioned"], fleet)
        #expect(typo.status == 1 && typo.stderr.contains("unknown host 'olb1'") && typo.stderr.contains("did you mean 'old1'?")
                && typo.stderr.contains("--force retires it anyway"), "\(typo.stderr)")
        // One unknown name among several records none of them.
        #expect(await Self.run(["hosts", "retire", "old1", "ghost"], fleet).status == 1)
        #expect(try await Self.list(fleet).values.allSatisfy { $0["retired"] as? Bool == false })

        let retired = await Self.run(["hosts", "retire", "old1", "--reason", "decommissioned, CHG-7"], fleet)
        #expect(retired.status == 0 && retired.stdout == "retired old1: decommissioned, CHG-7\n", "\(retired.stdout)\(retired.stderr)")
        let again = await Self.run(["hosts", "retire", "old1"], fleet)
        #expect(again.status == 0 && again.stdout.hasPrefix("old1: already retired since ") && again.stdout.hasSuffix(" by auditor\n"), "\(again.stdout)")
        // Never seen: only with --force. Still in the inventory: retired, with a warning.
        #expect(await Self.run(["hosts", "retire", "ghost"], fleet).status == 1)
        #expect(await Self.run(["hosts", "retire", "ghost", "--force"], fleet).status == 0)
        let listed = await Self.run(["hosts", "retire", "web2", "-i", fleet.inventory], fleet)
        #expect(listed.status == 0 && listed.stderr.contains("warning: web2 is still in \(fleet.inventory)"), "\(listed.stderr)")

        let events = try await Self.events(fleet).filter { $0["action"] as? String == "retire" }
        #expect(events.compactMap { $0["host"] as? String }.sorted() == ["ghost", "old1", "web2"], "\(events)")
        let old1 = try #require(events.first { $0["host"] as? String == "old1" })
        #expect(old1["user"] as? String == "auditor" && old1["detail"] as? String == "decommissioned, CHG-7")

        // Usage errors: nothing named, a dry run of names, durations that are not days with a unit.
        for arguments in [["hosts", "retire"], ["hosts", "retire", "old1", "--dry-run"], ["hosts", "retire", "--absent-for", "30m"],
                          ["hosts", "retire", "--absent-for", "30"], ["hosts", "retire", "old1", "--absent-for", "30d"],
                          ["hosts", "retire", "old1", "--reason", " "]] {
            let refused = await Self.run(arguments, fleet)
            #expect(refused.status == 64, "\(arguments): \(refused.stderr)")
        }
    }

    @Test func listShowsEveryHostWithContactsRetirementAndInventory() async throws {
        let fleet = try Self.fleet()
        #expect(await Self.run(["hosts", "retire", "old1", "--reason", "sold"], fleet).status == 0)
        let hosts = try await Self.list(fleet)
        #expect(hosts.keys.sorted() == ["down", "old1", "web1", "web2"])
        let web1 = try #require(hosts["web1"]), down = try #require(hosts["down"]), old1 = try #require(hosts["old1"])
        #expect(web1["status"] as? String == "ok" && web1["last_scan"] is String && web1["last_contact_kind"] as? String == "scan"
                && web1["retired"] as? Bool == false && web1["retired_at"] is NSNull && web1["in_inventory"] is NSNull)
        #expect(down["status"] as? String == "unreachable" && down["last_scan"] is NSNull && down["last_success"] is NSNull && down["last_contact"] is String)
        #expect(old1["retired"] as? Bool == true && old1["retired_by"] as? String == "auditor" && old1["retired_reason"] as? String == "sold"
                && old1["retired_rule"] as? String == "manual" && old1["retired_at"] is String)
        // With -i: in the inventory or not.
        let scoped = try await Self.list(fleet, ["-i", fleet.inventory])
        #expect(scoped["web1"]?["in_inventory"] as? Bool == true && scoped["old1"]?["in_inventory"] as? Bool == false)
        #expect(try await Self.list(fleet, ["--retired"]).keys.sorted() == ["old1"])

        let table = await Self.run(["hosts", "list", "-i", fleet.inventory], fleet)
        #expect(table.status == 0 && table.stdout.hasPrefix("HOST") && table.stdout.contains("INVENTORY") && table.stdout.contains("RETIRED"))
        let row = try #require(table.stdout.split(separator: "\n").first { $0.hasPrefix("old1 ") })
        #expect(row.contains("sold") && row.contains("auditor") && row.contains(" no "), "\(row)")
        #expect(table.stdout.hasSuffix("4 hosts, 1 retired (out of reports' scope)\n"), "\(table.stdout)")
    }

    @Test func unretireNamesRetiredHostsAndIsAudited() async throws {
        let fleet = try Self.fleet()
        #expect(await Self.run(["hosts", "retire", "old1"], fleet).status == 0)
        let typo = await Self.run(["hosts", "unretire", "olb1"], fleet)
        #expect(typo.status == 1 && typo.stderr.contains("did you mean 'old1'?"), "\(typo.stderr)")
        let back = await Self.run(["hosts", "unretire", "old1", "web1", "--reason", "back in service"], fleet)
        #expect(back.status == 0 && back.stdout.hasPrefix("unretired old1 (retired since ") && back.stdout.hasSuffix("web1: not retired\n"), "\(back.stdout)")
        #expect(try await Self.list(fleet)["old1"]?["retired"] as? Bool == false)
        let event = try #require(try await Self.events(fleet).first)
        #expect(event["action"] as? String == "unretire" && event["host"] as? String == "old1" && event["user"] as? String == "auditor"
                && (event["detail"] as? String)?.hasSuffix(": back in service") == true, "\(event)")
    }

    @Test func theAbsentRuleFromTheFlagOrTheConfiguration() async throws {
        let fleet = try Self.fleet()
        // Without the fleet's inventories every host would be absent: refused.
        let blind = await Self.run(["hosts", "retire", "--absent-for", "30d"], fleet)
        #expect(blind.status == 64 && blind.stderr.contains("needs the fleet's inventories"), "\(blind.stderr)")
        let empty = fleet.history.folder.appendingPathComponent("empty.yml").path
        try "all: {}\n".write(toFile: empty, atomically: true, encoding: .utf8)
        // An inventory that lists no host (a broken export) would retire the fleet: refused, nothing recorded.
        let none = await Self.run(["hosts", "retire", "--absent-for", "30d", "-i", empty], fleet)
        #expect(none.status == 65 && none.stderr.contains("defines no hosts"), "\(none.stderr)")

        // old1 (40 days) is absent; down, web1 and web2 are in the inventory.
        let planned = await Self.run(["hosts", "retire", "--absent-for", "30d", "-i", fleet.inventory, "--dry-run"], fleet)
        #expect(planned.status == 0 && planned.stdout.hasPrefix("would retire old1: in none of the inventories (\(fleet.inventory)); no successful contact since ")
                && planned.stdout.hasSuffix("1 host would be retired (dry run: nothing recorded)\n"), "\(planned.stdout)")
        let json = await Self.run(["hosts", "retire", "--absent-for", "30d", "-i", fleet.inventory, "--dry-run", "--output", "json"], fleet)
        JSONSchema.validate(json.stdout, schema: "hosts-list")
        #expect(json.stdout.contains("\"old1\"") && !json.stdout.contains("\"web1\""))
        #expect(try await Self.list(fleet)["old1"]?["retired"] as? Bool == false, "a dry run records nothing")
        let longer = await Self.run(["hosts", "retire", "--absent-for", "6w", "-i", fleet.inventory, "--dry-run"], fleet)
        #expect(longer.stdout.hasPrefix("no host to retire"), "\(longer.stdout)")

        // --absent takes the configured duration: none configured is a usage error; a bad one stops at load (78).
        let unset = await Self.run(["hosts", "retire", "--absent", "-i", fleet.inventory], fleet)
        #expect(unset.status == 64 && unset.stderr.contains("retire_absent_for"), "\(unset.stderr)")
        let config = fleet.history.folder.appendingPathComponent("xdg/patchctl/config.yml")
        try FileManager.default.createDirectory(at: config.deletingLastPathComponent(), withIntermediateDirectories: true)
        try "retire_absent_for: 30m\n".write(to: config, atomically: true, encoding: .utf8)
        let wrong = await Self.run(["hosts", "retire", "--absent"], fleet)
        #expect(wrong.status == 78 && wrong.stderr.contains("'retire_absent_for' must be a duration of at least 1d"), "\(wrong.stderr)")
        // As a timer runs it: duration and inventory from the configuration.
        try "retire_absent_for: 30d\ninventory: \(fleet.inventory)\n".write(to: config, atomically: true, encoding: .utf8)
        let shown = await CLI.run(["config", "show", "--format", "json"], environment: fleet.environment)
        #expect(shown.stdout.contains("\"retire_absent_for\"") && shown.stdout.contains("\"30d\""), "\(shown.stdout)")
        let timer = await Self.run(["hosts", "retire", "--absent"], fleet)
        #expect(timer.status == 0 && timer.stdout.hasPrefix("retired old1: in none of the inventories") && timer.stdout.hasSuffix("1 host retired\n"),
                "\(timer.stdout)\(timer.stderr)")
        let old1 = try #require(try await Self.list(fleet)["old1"])
        #expect(old1["retired"] as? Bool == true && old1["retired_rule"] as? String == "absent" && old1["in_inventory"] as? Bool == false)
        let event = try #require(try await Self.events(fleet).first)
        #expect(event["action"] as? String == "retire" && (event["detail"] as? String)?.hasPrefix("absent rule: in none of the inventories") == true)
        // The next run finds nothing more.
        #expect(await Self.run(["hosts", "retire", "--absent"], fleet).stdout.hasPrefix("no host to retire"))
    }

    @Test func reportsAndMetricsLeaveARetiredHostOutFromItsRetirementOn() async throws {
        let fleet = try Self.fleet()
        let asOfBefore = JSONOutput.timestamp(Date().addingTimeInterval(-3600))
        func compliance(_ extra: [String] = []) async throws -> [String: Any] {
            let report = await Self.run(["report", "compliance", "--format", "json", "--since", "60d"] + extra, fleet)
            #expect(report.status == 0, "\(report.stderr)")
            return try CLI.json(report.stdout)
        }
        func names(_ document: [String: Any]) -> [String] { (document["hosts"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
        #expect(names(try await compliance()).contains("old1"))
        let metricsBefore = await Self.run(["metrics"], fleet)
        #expect(metricsBefore.stdout.contains("host=\"old1\""))

        #expect(await Self.run(["hosts", "retire", "old1", "--reason", "decommissioned"], fleet).status == 0)
        let after = try await compliance()
        #expect(!names(after).contains("old1") && names(after).contains("web1"))
        let retired = try #require(after["retired"] as? [[String: Any]])
        #expect(retired.count == 1 && retired[0]["name"] as? String == "old1" && retired[0]["reason"] as? String == "decommissioned"
                && retired[0]["during_period"] as? Bool == true && retired[0]["rule"] as? String == "manual")
        let notes = (after["evidence"] as? [String: Any])?["notes"] as? [String] ?? []
        #expect(notes.contains { $0.hasPrefix("1 host retired, not in scope (1 during the period, 0 before it): old1 (") }, "\(notes)")
        let hosts = await Self.run(["report", "hosts", "--output", "json"], fleet)
        #expect(hosts.status == 0 && !hosts.stdout.contains("old1") && hosts.stdout.contains("web1"), "\(hosts.stderr)")
        let table = await Self.run(["report", "compliance"], fleet)
        #expect(table.stdout.contains("; 1 retired, not in scope\n") && table.stdout.contains("note: 1 host retired, not in scope"), "\(table.stdout)")
        #expect(!(await Self.run(["metrics"], fleet)).stdout.contains("host=\"old1\""))

        // As of before the retirement, old1 is in scope as it was.
        let before = try await compliance(["--as-of", asOfBefore])
        #expect(names(before).contains("old1") && (before["retired"] as? [Any])?.isEmpty == true)
    }
}
