import Foundation
import Testing

/// `defer`, `approve` and `exception add` check what they are told about against the inventory
/// and history (with "did you mean"), and `defer list` shows what is in force.
@Suite("patchctl defer/approve/exception: names checked")
struct DecisionCommandTests {
    typealias CLI = InProcessCLI

    static func policy(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("nightly.yml").path
        try "name: nightly\ntargets: all\nselect: security\napproval: manual\nreboot: never\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func deferChecksTheHostAndListsDeferrals() async throws {
        let history = try ScannedHistory.make()
        let common = ["--until", "2d", "--reason", "quarter close", "--db", history.db]
        let typo = await CLI.run(["defer", "wbe1"] + common)
        #expect(typo.status == 1 && typo.stderr.contains("unknown host 'wbe1'") && typo.stderr.contains("did you mean 'web1'?"), "\(typo.stderr)")
        // In history: fine. In the inventory only (never scanned): fine with -i, not without.
        #expect(await CLI.run(["defer", "web1"] + common).status == 0)
        let spare = await CLI.run(["defer", "spare"] + common)
        #expect(spare.status == 1 && spare.stderr.contains("history has never seen it"), "\(spare.stderr)")
        #expect(await CLI.run(["defer", "spare", "-i", history.inventory] + common).status == 0)
        #expect(await CLI.run(["defer", "new-host", "--force"] + common).status == 0)
        // Nothing was recorded for the typo.
        let listed = await CLI.run(["defer", "list", "--db", history.db, "--output", "json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let records = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(records.compactMap { $0["host"] as? String }.sorted() == ["new-host", "spare", "web1"])
        #expect(records.allSatisfy { $0["policy"] is NSNull && $0["reason"] as? String == "quarter close" })
        let table = await CLI.run(["defer", "list", "--db", history.db])
        #expect(table.stdout.contains("HOST") && table.stdout.contains("(every policy)") && table.stdout.contains("quarter close"), "\(table.stdout)")
        // Cancelled ones are gone from the list.
        #expect(await CLI.run(["defer", "web1", "--cancel", "--db", history.db]).status == 0)
        let after = await CLI.run(["defer", "list", "--db", history.db, "--output", "json"])
        #expect(!after.stdout.contains("\"web1\""))
    }

    @Test func approveChecksPackageAndVersion() async throws {
        let history = try ScannedHistory.make()
        let policy = try Self.policy(in: history.folder)
        let common = ["--policy", policy, "--db", history.db]
        let name = await CLI.run(["approve", "libc7@2.36-9+deb12u10"] + common)
        #expect(name.status == 1 && name.stderr.contains("no scan found a package named 'libc7'") && name.stderr.contains("did you mean 'libc6'?"), "\(name.stderr)")
        let version = await CLI.run(["approve", "apt@9.9"] + common)
        #expect(version.status == 1 && version.stderr.contains("no scan found apt@9.9 pending (seen: 2.6.1+deb12u1)"), "\(version.stderr)")
        // One bad name among several records none of them.
        let mixed = await CLI.run(["approve", "apt@2.6.1+deb12u1", "libc7@1"] + common)
        #expect(mixed.status == 1)
        let events = await CLI.run(["history", "events", "--db", history.db, "--output", "json"])
        #expect(!events.stdout.contains("\"approve\""), "\(events.stdout)")
        let good = await CLI.run(["approve", "apt@2.6.1+deb12u1"] + common)
        #expect(good.status == 0 && good.stdout == "approved apt@2.6.1+deb12u1 for nightly\n", "\(good.stderr)")
        let forced = await CLI.run(["approve", "apt@2.7", "--force"] + common)
        #expect(forced.status == 0, "\(forced.stderr)")
    }

    @Test func exceptionsTakePackageGlobsAndTheyCoverMatchingFindings() async throws {
        let history = try ScannedHistory.make()
        let added = await CLI.run(["exception", "add", "web*", "lib*", "--until", "30d", "--reason", "vendor fix pending", "--owner", "ops", "--db", history.db])
        #expect(added.status == 0, "\(added.stderr)")
        let report = await CLI.run(["report", "compliance", "-i", history.inventory, "--db", history.db, "--format", "json"])
        #expect(report.status == 0 || report.status == 2, "\(report.stderr)")
        // libc6 is excused on web1 and web2; apt is not.
        let document = try CLI.json(report.stdout)
        let exception = try #require((document["exceptions"] as? [[String: Any]])?.first)
        #expect(exception["target"] as? String == "lib*" && exception["matches"] as? Int == 2, "\(exception)")
        let web1 = try #require((document["hosts"] as? [[String: Any]])?.first { $0["name"] as? String == "web1" })
        let excused = (web1["updates"] as? [[String: Any]] ?? []).map { ($0["package"] as? String ?? "", $0["exception_id"] as? Int) }
        #expect(excused.map(\.0) == ["apt", "libc6"] && excused.map(\.1) == [nil, 1], "\(excused)")
        let bad = await CLI.run(["exception", "add", "web1", "lib c*", "--until", "30d", "--reason", "r", "--db", history.db])
        #expect(bad.status == 64 && bad.stderr.contains("or a glob such as 'libssl*'"), "\(bad.stderr)")
    }
}
