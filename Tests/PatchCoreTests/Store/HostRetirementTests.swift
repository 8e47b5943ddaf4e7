import Foundation
import Testing
@testable import PatchCore

/// Hosts that left the fleet: retirements recorded as intervals with their audit events, ended
/// by `unretire` or by a successful contact, the absent rule, and every report leaving a retired
/// host out from its retirement on (and only from then).
@Suite("Host retirements")
struct HostRetirementTests {
    typealias G = GeneratedHistory

    static func events(_ store: HistoryStore, host: String) throws -> [EventRecord] {
        try store.events(limit: 100, host: host).reversed()
    }

    @Test(arguments: StoreKind.all) func retireAndUnretireAreRecordedIntervalsWithEvents(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let store = history.store
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0)), G.host("old1", at: G.day(0))])
        let first = try store.retire(hosts: ["old1"], reason: "decommissioned, CHG-7", by: "alice", at: G.day(5))
        #expect(first.count == 1 && first[0].recorded && first[0].retirement.rule == .manual && first[0].retirement.retiredBy == "alice")
        // Retiring it again records nothing and says since when.
        let again = try store.retire(hosts: ["old1"], reason: "again", by: "bob", at: G.day(6))
        #expect(!again[0].recorded && again[0].retirement.retiredAt == G.day(5) && again[0].retirement.reason == "decommissioned, CHG-7")
        #expect(try store.retiredHosts().keys.sorted() == ["old1"])
        let listed = try store.knownHosts()
        #expect(listed.map(\.name) == ["old1", "web1"])
        #expect(listed[0].retired && listed[0].retirement?.retiredAt == G.day(5) && listed[0].lastScan == G.day(0) && !listed[1].retired)
        // A report as of before the retirement does not know it.
        #expect(try store.retirements(upTo: G.day(4)).isEmpty && store.retirements(upTo: G.day(5)).count == 1)

        let ended = try store.unretire(hosts: ["old1", "web1"], reason: "back in service", by: "carol", at: G.day(7))
        #expect(ended.map(\.host) == ["old1"] && ended[0].ending == .unretired && ended[0].endedBy == "carol")
        #expect(try store.retiredHosts().isEmpty)
        let timeline = RetirementTimeline(try store.retirements())
        #expect(!timeline.isRetired("old1", at: G.day(4)) && timeline.isRetired("old1", at: G.day(6)) && !timeline.isRetired("old1", at: G.day(7)))
        #expect(try store.knownHosts().first?.lastReturn == G.day(7))

        let events = try Self.events(store, host: "old1")
        #expect(events.map(\.action) == [.retire, .unretire], "\(events)")
        #expect(events[0].user == "alice" && events[0].detail == "decommissioned, CHG-7" && events[0].at == G.day(5))
        #expect(events[1].user == "carol" && events[1].detail?.hasSuffix(": back in service") == true)
    }

    @Test(arguments: StoreKind.all) func aSuccessfulScanOrDeploymentAfterTheRetirementEndsIt(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let store = history.store
        try history.scan(at: G.day(0), [G.host("old1", at: G.day(0))])
        _ = try store.retire(hosts: ["old1"], reason: nil, by: "alice", at: G.day(5))
        // Unreachable: nothing shows it is back.
        try history.scan(at: G.day(6), [G.host("old1", at: G.day(6), status: .unreachable)])
        #expect(try store.retiredHosts()["old1"] != nil)
        // With another host in the batch (written as one: the retirement looked up for both at once).
        let back = try history.scan(at: G.day(7), [G.host("web1", at: G.day(7)), G.host("old1", at: G.day(7))])
        #expect(try store.retiredHosts().isEmpty)
        #expect(try Self.events(store, host: "web1").isEmpty)
        let record = try #require(try store.retirements().first)
        #expect(record.ending == .reappeared && record.endRun == back && record.endedAt == G.day(7))
        let reappeared = try #require(try Self.events(store, host: "old1").last)
        #expect(reappeared.action == .reappeared && reappeared.runId == back && reappeared.user == "patchctl", "\(reappeared)")
        #expect(reappeared.detail?.contains("a successful scan reached it") == true)

        // A deployment that read the host's packages ends it too, as its run's user.
        _ = try store.retire(hosts: ["old1"], reason: nil, by: "alice", at: G.day(8))
        let deploy = try history.deploy(at: G.day(9), policy: "nightly", host: "old1", installed: [])
        #expect(try store.retiredHosts().isEmpty)
        let byDeploy = try #require(try Self.events(store, host: "old1").last { $0.action == .reappeared })
        #expect(byDeploy.runId == deploy && byDeploy.user == "tester")

        // A contact already under way when the host was retired says nothing new.
        _ = try store.retire(hosts: ["old1"], reason: nil, by: "alice", at: G.day(10))
        try history.scan(at: G.day(10).addingTimeInterval(1), [G.host("old1", at: G.day(10).addingTimeInterval(1))])
        #expect(try store.retiredHosts()["old1"] != nil)
    }

    @Test(arguments: StoreKind.all) func theAbsentRuleRetiresHostsInNoInventoryNotReachedForTheDuration(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let store = history.store
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0)), G.host("old1", at: G.day(0)), G.host("back1", at: G.day(0))])
        try history.scan(at: G.day(1), [G.host("never1", at: G.day(1), status: .unreachable)])
        _ = try store.retire(hosts: ["back1"], reason: nil, by: "alice", at: G.day(2))
        _ = try store.unretire(hosts: ["back1"], reason: "kept", by: "alice", at: G.day(20))
        try history.scan(at: G.day(30), [G.host("new2", at: G.day(30))])
        // A failed contact does not reset the clock: only a successful one does.
        try history.scan(at: G.day(35), [G.host("old1", at: G.day(35), status: .unreachable)])
        try history.scan(at: G.day(40), [G.host("web1", at: G.day(40))])
        let inventory: Set<String> = ["web1", "web9"]
        let why = { (host: KnownHost) in "absent since \(JSONOutput.timestamp(host.absentSince ?? .distantPast))" }

        // 30 days before day 41 is day 11: old1 (last success day 0) and never1 (never reached; last contact
        // day 1) are absent; new2 (day 30) and back1 (back on day 20) are not; web1 is in the inventory.
        let planned = try store.retireAbsent(inventory: inventory, absence: 30 * 86_400, reason: why, dryRun: true, by: "timer", at: G.day(41))
        #expect(planned.map(\.name) == ["never1", "old1"])
        #expect(planned[0].lastSuccess == nil && planned[0].absentSince == G.day(1) && planned[1].absentSince == G.day(0))
        #expect(try store.retiredHosts().isEmpty, "a dry run records nothing")
        // A longer absence spares them both (old1 has been absent 41 days, never1 40).
        #expect(try store.retireAbsent(inventory: inventory, absence: 45 * 86_400, reason: why, dryRun: true, by: "timer", at: G.day(41)).isEmpty)

        let retired = try store.retireAbsent(inventory: inventory, absence: 30 * 86_400, reason: why, dryRun: false, by: "timer", at: G.day(41))
        #expect(retired.map(\.name) == ["never1", "old1"])
        let records = try store.retiredHosts()
        #expect(records.keys.sorted() == ["never1", "old1"] && records.values.allSatisfy { $0.rule == .absent && $0.retiredBy == "timer" })
        #expect(records["old1"]?.reason == "absent since \(JSONOutput.timestamp(G.day(0)))")
        let event = try #require(try Self.events(store, host: "old1").last)
        #expect(event.action == .retire && event.user == "timer" && event.detail == "absent rule: absent since \(JSONOutput.timestamp(G.day(0)))")
        // Run again: nothing more to retire.
        #expect(try store.retireAbsent(inventory: inventory, absence: 30 * 86_400, reason: why, dryRun: false, by: "timer", at: G.day(42)).isEmpty)
    }

    @Test func absenceDurationsNeedAUnitAndADay() {
        #expect(HostRetirement.absence("30d") == 30 * 86_400 && HostRetirement.absence("12w") == 12 * 604_800 && HostRetirement.absence("1d") == 86_400)
        for bad in ["30", "30m", "23h", "", "d", "3651d", "-3d"] { #expect(HostRetirement.absence(bad) == nil, "\(bad)") }
    }

    @Test func complianceHostsTrendAndMetricsLeaveARetiredHostOutFromItsRetirementOn() throws {
        let (history, inventory, _) = try G.fleet()
        _ = try history.store.retire(hosts: ["gone1"], reason: "decommissioned", by: "ops", at: G.day(25))

        let after = try ComplianceReport.build(history.request(asOf: G.day(38), inventory: inventory))
        #expect(after.hosts.map(\.name) == ["db1", "new1", "web1", "web2"] && after.summary.hosts == 4)
        #expect(after.retired == [ComplianceReport.RetiredHost(name: "gone1", retiredAt: G.day(25), retiredBy: "ops", reason: "decommissioned",
                                                                rule: .manual, duringPeriod: true)])
        #expect(after.evidence.notes.contains { $0.hasPrefix("1 host retired, not in scope (1 during the period, 0 before it): gone1 (2026-01-26)") },
                "\(after.evidence.notes)")
        #expect(TableReport.summaryLine(after).hasSuffix("; 1 retired, not in scope"))
        #expect(!(try after.rendered(.hosts, as: .json)).contains("gone1"))
        // The trend: gone1 counts on the days before its retirement, not after.
        #expect(after.trend.first { $0.day == "2026-01-21" }?.hosts == 5 && after.trend.first { $0.day == "2026-01-27" }?.hosts == 4)
        // Without an inventory (every host in history) too.
        #expect(try ComplianceReport.build(history.request(asOf: G.day(38))).hosts.map(\.name) == ["db1", "web1", "web2"])

        // As of before the retirement, gone1 is in scope as it was.
        let before = try ComplianceReport.build(history.request(asOf: G.day(22), inventory: inventory))
        #expect(before.hosts.map(\.name).contains("gone1") && before.retired.isEmpty && before.summary.hosts == 5)
        #expect(!before.evidence.notes.contains { $0.contains("retired") })

        // A retirement before the period is said to be.
        let later = try ComplianceReport.build(history.request(asOf: G.day(38), inventory: inventory, since: "5d"))
        #expect(later.retired.map(\.duringPeriod) == [false])

        let metrics = try MetricsReport.build(MetricsRequest(database: history.store.path, inventory: inventory, at: G.day(38),
                                                             currentDirectory: history.folder.path))
        #expect(metrics.hosts.map(\.name) == ["db1", "new1", "web1", "web2"])
    }

    @Test func cveReportAndDiffLeaveARetiredHostOut() throws {
        let history = try CVEReportTests.fleet()
        #expect(try history.store.cveExposures().contains { $0.host == "web1" })
        _ = try history.store.retire(hosts: ["web1"], reason: nil, by: "ops", at: G.day(2, hour: 12))
        let report = try CVEReport.build(store: history.store, filter: .init(), at: G.day(3))
        #expect(report.cves.allSatisfy { entry in !entry.hosts.contains { $0.host == "web1" } } && report.cves.map(\.id) == [CVEReportTests.xz])

        let diffs = try G.fresh()
        try diffs.scan(at: G.day(0), [G.host("a", at: G.day(0)), G.host("b", at: G.day(0))])
        let early = try diffs.scan(at: G.day(1), [G.host("a", at: G.day(1)), G.host("b", at: G.day(1), status: .unreachable)])
        _ = try diffs.store.retire(hosts: ["b"], reason: nil, by: "ops", at: G.day(2))
        try diffs.scan(at: G.day(3), [G.host("a", at: G.day(3)), G.host("b", at: G.day(3), status: .unreachable)])
        #expect(try FindingsDiff.build(store: diffs.store, since: "last").hosts.map(\.name) == ["a"])
        // A diff of scans before the retirement still shows it.
        #expect(try FindingsDiff.build(store: diffs.store, since: "last", to: early).hosts.map(\.name) == ["a", "b"])
    }
}
