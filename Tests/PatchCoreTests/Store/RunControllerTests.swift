import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Runs name the controller that recorded them (migration v14), and history and reports select one.
@Suite("Run controllers")
struct RunControllerTests {
    static func scan(_ name: String, at: Date, updates: [PendingUpdate]) -> HostScan {
        HostScan(name: name, address: "192.0.2.1", port: 22, status: .ok, error: nil,
                 os: OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm", kernel: "6.1", architecture: "x86_64"),
                 rebootRequired: false, rebootPackages: [], installedCount: 90, updates: updates, startedAt: at, finishedAt: at.addingTimeInterval(1))
    }

    static let update = PendingUpdate(name: "openssl", installedVersion: "3.0.11-1~deb12u1", availableVersion: "3.0.15-1~deb12u1",
                                      source: "Debian-Security:12/oldstable-security", security: true, architecture: "amd64")

    @Test func twoControllersShareOneHistoryAndReportsSelectOne() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-controllers-\(UUID().uuidString)/history.db").path
        let dmz = try HistoryStore(path: path, controller: RunController(host: "ctl-a.example", name: "dmz"))
        let office = try HistoryStore(path: path, controller: RunController(host: "ctl-b.example"))
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        for (store, host, offset) in [(dmz, "web1", 0.0), (office, "db1", 60.0)] {
            let id = try store.beginRun(kind: .scan, startedAt: at.addingTimeInterval(offset), inventory: nil, hostPattern: nil, options: nil, version: "test")
            try store.record(runId: id, hosts: [Self.scan(host, at: at.addingTimeInterval(offset), updates: [Self.update])])
            try store.finishRun(runId: id, finishedAt: at.addingTimeInterval(offset + 2))
        }

        let reader = try HistoryStore(readOnly: path)
        #expect(try reader.runs().map(\.controller) == ["ctl-b.example", "dmz"])
        #expect(try reader.runs(controller: "dmz").count == 1)
        #expect(try reader.runs(controller: "ctl-b.example").first?.hosts == 1)
        #expect(try reader.runs(controller: "ctl-a.example").isEmpty, "a named controller is selected by its name")

        // Both controllers' hosts in one report, or one controller's alone (with and without a detail period).
        for detailFrom in [nil, at.addingTimeInterval(-86_400)] {
            #expect(try reader.reportHistory(upTo: at.addingTimeInterval(3600), detailFrom: detailFrom).hostNames.sorted() == ["db1", "web1"])
            let dmzOnly = try reader.reportHistory(upTo: at.addingTimeInterval(3600), detailFrom: detailFrom, controller: "dmz")
            #expect(dmzOnly.hostNames == ["web1"])
            #expect(dmzOnly.observations["web1"]?.first?.pending?.map(\.package) == ["openssl"])
        }

        // The table names the controller only when the listed runs come from more than one.
        #expect(TableReport.history(try reader.runs()).contains("CONTROLLER"))
        #expect(!TableReport.history(try reader.runs(controller: "dmz")).contains("CONTROLLER"))
    }

    @Test func runsBeforeTheMigrationHaveNoController() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-controllers-\(UUID().uuidString).db").path
        try HistoryStore.createDatabase(atPath: path, upTo: "v13: discovered hosts")
        let pool = try DatabasePool(path: path)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO runs (id, kind, started_at, state, patchctl_version) VALUES ('20260101T000000Z-old', 'scan', '2026-01-01 00:00:00.000', 'finished', 'old')")
        }
        try pool.close()
        let store = try HistoryStore(path: path, controller: RunController(host: "ctl", name: "new"))
        _ = try store.beginRun(kind: .exec, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        #expect(try store.runs().map(\.controller) == ["new", nil])
    }

    @Test func namesAreShortWords() throws {
        #expect(RunController.isValidName("dmz-1.site_a"))
        for bad in ["", "a b", "x\u{1b}[2J", String(repeating: "a", count: 65), "dmz/1"] { #expect(!RunController.isValidName(bad)) }
        #expect(throws: PatchError.self) { try RunController.local(name: nil, environment: ["PATCHCTL_CONTROLLER": "bad name"]) }
        #expect(try RunController.local(name: nil, environment: ["PATCHCTL_CONTROLLER": "dmz"]).label == "dmz")
        #expect(try RunController.local(name: "cli", environment: ["PATCHCTL_CONTROLLER": "dmz"]).label == "cli")
        #expect(try RunController.local(name: nil, environment: [:]).name == nil)
    }
}
