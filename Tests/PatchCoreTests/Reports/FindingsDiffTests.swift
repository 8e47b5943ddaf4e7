import Foundation
import Testing
@testable import PatchCore

@Suite("Findings diff between scans")
struct FindingsDiffTests {
    typealias G = GeneratedHistory

    @Test func newGoneAndChangedPerHost() throws {
        let history = try G.fresh()
        let openssl2 = G.update("openssl", "1", "2")
        let openssl3 = G.update("openssl", "1", "3")
        let tzdata = G.update("tzdata", "a", "b", security: false)
        let libc = G.update("libc6", "2.36-9", "2.36-9+deb12u9")
        // web4 is only in an older scan: it compares with that one.
        try history.scan(at: G.day(-1), [G.host("web4", at: G.day(-1), [tzdata])])
        let base = try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [openssl2, tzdata]), G.host("web2", at: G.day(0), [libc])])
        let target = try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), [libc, openssl3]), G.host("web2", at: G.day(1), status: .unreachable),
                                                     G.host("web3", at: G.day(1), [tzdata]), G.host("web4", at: G.day(1), [tzdata, libc])])
        let diff = try FindingsDiff.build(store: history.store, since: "last")
        #expect(diff.baseRun == base && diff.targetRun == target)
        #expect(diff.hosts.map(\.name) == ["web1", "web2", "web3", "web4"])
        let web1 = diff.hosts[0]
        #expect(web1.change == .changed && web1.added.map(\.package) == ["libc6"] && web1.removed.map(\.package) == ["tzdata"])
        #expect(web1.changed == [FindingsDiff.VersionChange(package: "openssl", architecture: "amd64", fromVersion: "2", toVersion: "3", installedVersion: "1", security: true,
                                                            source: "Debian-Security:12/oldstable-security")])
        #expect(diff.hosts[1].change == .failed && diff.hosts[1].status == .unreachable)
        #expect(diff.hosts[2].change == .new && diff.hosts[2].added.map(\.package) == ["tzdata"] && diff.hosts[2].baseRun == nil)
        #expect(diff.hosts[3].change == .changed && diff.hosts[3].added.map(\.package) == ["libc6"] && diff.hosts[3].baseAt == G.day(-1))
        #expect(diff.summary == FindingsDiff.Summary(hosts: 4, added: 3, addedSecurity: 2, removed: 1, changed: 1, newHosts: 1, failed: 1))

        // A run id prefix, and --to an older scan.
        #expect(try FindingsDiff.build(store: history.store, since: String(base.prefix(22))) == diff)
        let older = try FindingsDiff.build(store: history.store, since: "last", to: base)
        #expect(older.targetRun == base && older.hosts.map(\.change) == [.new, .new])

        let csv = try CSVParser.parse(CSVReport.diff(diff))
        #expect(csv.first == CSVReport.diffColumns)
        #expect(csv.dropFirst().map { "\($0[0]) \($0[1]) \($0[2])" } == [
            "web1 added libc6", "web1 changed openssl", "web1 removed tzdata", "web2 failed ", "web3 added tzdata", "web4 added libc6",
        ])
        let table = TableReport.diff(diff)
        #expect(table.contains("  ~ openssl 2 -> 3 [security]") && table.contains("  - tzdata b") && table.contains("  + libc6 2.36-9+deb12u9 [security]"))
    }

    @Test func nothingToCompareIsAClearError() throws {
        let history = try G.fresh()
        #expect(throws: PatchError.report(message: "no scan in history yet: run `patchctl scan` first")) {
            try FindingsDiff.build(store: history.store, since: "last")
        }
        let only = try history.scan(at: G.day(0), [G.host("web1", at: G.day(0))])
        #expect(throws: PatchError.report(message: "no finished scan before \(only) to compare with")) {
            try FindingsDiff.build(store: history.store, since: "last")
        }
        let deploy = try history.deploy(at: G.day(1), policy: "p", host: "web1", installed: [])
        #expect(throws: PatchError.report(message: "run \(deploy) is a deploy run, not a scan")) {
            try FindingsDiff.build(store: history.store, since: deploy)
        }
    }

    @Test func onlyFinishedScansAreComparedAndBothAreNamed() throws {
        let history = try G.fresh()
        let base = try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [G.update("openssl", "1", "2")])])
        let target = try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), [G.update("openssl", "1", "3")])])
        // A scan started later and still running (or killed): no host recorded yet.
        let running = try history.store.beginRun(kind: .scan, startedAt: G.day(2), inventory: nil, hostPattern: nil, options: nil, version: "test")
        let diff = try FindingsDiff.build(store: history.store, since: "last")
        #expect(diff.baseRun == base && diff.targetRun == target)
        #expect(diff.baseFinishedAt == G.day(0).addingTimeInterval(1) && diff.targetFinishedAt == G.day(1).addingTimeInterval(1))
        #expect(diff.hosts.map(\.name) == ["web1"] && diff.summary.changed == 1)
        let table = TableReport.diff(diff)
        #expect(table.hasPrefix("changes from scan \(base) (\(JSONOutput.timestamp(G.day(0).addingTimeInterval(-3))) to \(JSONOutput.timestamp(G.day(0).addingTimeInterval(1)))) to scan \(target)"))
        #expect(table.contains("both finished"))
        let json = try JSONOutput.encode(diff, pretty: false)
        #expect(json.contains("\"base_finished_at\"") && json.contains("\"target_finished_at\"") && json.contains(target))
        #expect(throws: PatchError.report(message: "scan \(running) is running, not finished: diff compares finished scans only")) {
            try FindingsDiff.build(store: history.store, since: "last", to: running)
        }
        #expect(throws: PatchError.report(message: "scan \(running) is running, not finished: diff compares finished scans only")) {
            try FindingsDiff.build(store: history.store, since: running)
        }
    }

    @Test func multiArchFindingsAreComparedApart() throws {
        let history = try G.fresh()
        var i386 = G.update("libc6", "2.36-9", "2.36-9+deb12u9")
        i386.architecture = "i386"
        let amd64 = G.update("libc6", "2.36-9", "2.36-9+deb12u9")
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [amd64])])
        try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), [amd64, i386])])
        let diff = try FindingsDiff.build(store: history.store, since: "last")
        #expect(diff.hosts.first?.added.map { "\($0.package)/\($0.architecture ?? "")" } == ["libc6/i386"])
        #expect(diff.summary.added == 1 && diff.summary.removed == 0)
    }
}
