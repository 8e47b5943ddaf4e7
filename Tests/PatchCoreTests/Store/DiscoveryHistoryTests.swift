import Foundation
import GRDB
import PatchSSH
import Testing
@testable import PatchCore

/// What history says about sweeps: new hosts, hosts gone from a network swept again, changed host
/// keys; and that it asks by index, however many sweeps it holds.
@Suite("History of discover runs")
struct DiscoveryHistoryTests {
    static func store() throws -> HistoryStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-discover-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return try HistoryStore(path: folder.appendingPathComponent("history.db").path)
    }

    static func host(_ address: String, network: String, key: String = "AAAA1") -> DiscoveredHost {
        DiscoveredHost(address: address, network: network, ssh: [SSHServiceRecord(
            port: 22, banner: "SSH-2.0-OpenSSH_9.2p1", keys: [ScannedHostKey(type: "ssh-ed25519", fingerprint: "SHA256:" + key, key: key)], error: nil)])
    }

    /// Records one sweep of `targets` that found `hosts`, `minutes` after a fixed start.
    @discardableResult
    static func sweep(_ store: HistoryStore, _ targets: [String], found hosts: [DiscoveredHost], minutes: Double) throws -> DiscoveryChanges {
        let swept = try DiscoveryTargets.parse(targets, fileReader: { _ in nil })
        let started = Date(timeIntervalSince1970: 1_800_000_000 + minutes * 60)
        let runId = try store.beginRun(kind: .discover, startedAt: started, inventory: nil, hostPattern: nil, options: nil, version: "test")
        let run = DiscoveryRun(runId: runId, startedAt: started, finishedAt: started.addingTimeInterval(5), targets: swept.labels, ports: [22],
                               addressesSwept: swept.count, hosts: hosts)
        let recorded = try store.recordDiscovery(runId: runId, run, swept: swept)
        return try #require(recorded.changes)
    }

    @Test("new, gone and changed keys, judged only where a network was swept again", arguments: StoreKind.all)
    func changes(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let first = try Self.sweep(store, ["10.0.0.0/24"], found: [Self.host("10.0.0.5", network: "10.0.0.0/24"), Self.host("10.0.0.6", network: "10.0.0.0/24")], minutes: 0)
        #expect(first.new == ["10.0.0.5", "10.0.0.6"] && first.gone.isEmpty && first.changedKeys.isEmpty && first.previousRun == nil)

        // Another network: nothing of the first is gone.
        let other = try Self.sweep(store, ["10.9.0.0/24"], found: [Self.host("10.9.0.1", network: "10.9.0.0/24")], minutes: 10)
        #expect(other.new == ["10.9.0.1"] && other.gone.isEmpty)

        // The first network again: .6 is gone, .5 has a new key, .7 is new.
        let again = try Self.sweep(store, ["10.0.0.0/24"], found: [Self.host("10.0.0.5", network: "10.0.0.0/24", key: "BBBB2"),
                                                                 Self.host("10.0.0.7", network: "10.0.0.0/24")], minutes: 20)
        #expect(again.new == ["10.0.0.7"])
        #expect(again.gone == ["10.0.0.6"])
        #expect(again.changedKeys.map { "\($0.address) \($0.previousFingerprint) \($0.fingerprint)" } == ["10.0.0.5 SHA256:AAAA1 SHA256:BBBB2"])

        // Said once: the next sweep compares with the one that already missed .6, and with .5's new key.
        let third = try Self.sweep(store, ["10.0.0.0/24"], found: [Self.host("10.0.0.5", network: "10.0.0.0/24", key: "BBBB2"),
                                                                 Self.host("10.0.0.7", network: "10.0.0.0/24")], minutes: 30)
        #expect(third.new.isEmpty && third.gone.isEmpty && third.changedKeys.isEmpty)

        // A host back after a gap is not new (it was seen before) and its old key still counts.
        let back = try Self.sweep(store, ["10.0.0.6"], found: [Self.host("10.0.0.6", network: "10.0.0.6")], minutes: 40)
        #expect(back.new.isEmpty && back.changedKeys.isEmpty)

        let listed = try store.runs(limit: 10)
        #expect(listed.first?.kind == .discover && listed.first?.hosts == 1)
        let shown = try store.discoveryRun(id: try #require(listed.first?.runId))
        #expect(shown.hosts.map(\.address) == ["10.0.0.6"] && shown.targets == ["10.0.0.6"])
        #expect(try store.latestDiscoveredHosts().map(\.address) == ["10.0.0.6"])
    }

    @Test("recording a sweep and reading one never scans the discovered hosts or keys")
    func queryPlans() throws {
        let store = try Self.store()
        for night in 0..<6 {
            try Self.sweep(store, ["10.0.0.0/28"], found: (1...8).map { Self.host("10.0.0.\($0)", network: "10.0.0.0/28", key: "K\(night % 2)") },
                           minutes: Double(night) * 60)
        }
        let statements = QueryPlanTests.Captured()
        try store.pool.writeWithoutTransaction { db in db.trace { statements.add(String(describing: $0)) } }
        try Self.sweep(store, ["10.0.0.0/28"], found: (1...8).map { Self.host("10.0.0.\($0)", network: "10.0.0.0/28") }, minutes: 600)
        let reader = try HistoryStore(readOnly: store.path)
        try reader.pool.read { db in db.trace { statements.add(String(describing: $0)) } }
        _ = try reader.discoveryRun(id: try #require(try reader.runs(limit: 1).first?.runId))
        _ = try reader.latestDiscoveredHosts()
        #expect(statements.statements.contains { $0.contains("discovered_keys") })
        let scans = try store.pool.read { db in
            try QueryPlanTests.fullScans(statements.statements, in: db, historySized: ["discovered_hosts", "discovered_keys"])
        }
        #expect(scans.isEmpty, "\(scans.joined(separator: "\n"))")
    }
}
