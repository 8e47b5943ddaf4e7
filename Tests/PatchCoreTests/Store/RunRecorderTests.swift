import Foundation
import GRDB
import Testing
@testable import PatchCore

/// `RunRecorder` prepares each full batch on a queue of its own while the batch before is written:
/// every batch must be written with its own preparations, in the order the hosts finished.
@Suite("Run recorder")
struct RunRecorderTests {
    /// Host `index` of a night: its own packages and versions, so a preparation written with another host fails to match.
    static func host(_ index: Int, night: Int) -> HostScan {
        let at = Date(timeIntervalSince1970: 1_700_000_000 + Double(night) * 86_400 + Double(index))
        let updates = (0..<(3 + index % 5)).map { n in
            PendingUpdate(name: "pkg-\(index)-\(n)", installedVersion: "1.\(night)", availableVersion: "1.\(night + n % 2 + 1)",
                          source: "Debian:12/stable", security: n % 2 == 0, architecture: "amd64")
        }
        return StoreTestHosts.debian("host-\(index)", address: "10.0.0.\(index % 250)", updates: updates, at: at)
    }

    /// A finding as these tests compare them.
    static func line(_ update: PendingUpdate) -> String {
        "\(update.name) \(update.installedVersion) -> \(update.availableVersion) \(update.security)"
    }

    /// Every host's findings as `history show` lists them, by host.
    static func findings(_ store: HistoryStore, run: String) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for host in try store.run(id: run).hosts { result[host.name] = host.updates.map(line) }
        return result
    }

    @Test func batchesPreparedAheadAreWrittenWithTheirOwnPreparationsInOrder() throws {
        let folder = try StoreTestHosts.folder("recorder")
        let recorded = try HistoryStore(path: folder.appendingPathComponent("recorder.db").path)
        let direct = try HistoryStore(path: folder.appendingPathComponent("direct.db").path)
        for night in 0..<3 {
            let hosts = (0..<203).map { Self.host($0, night: night) }
            let start = Date(timeIntervalSince1970: 1_700_000_000 + Double(night) * 86_400)
            let viaRecorder = try recorded.beginRun(kind: .scan, startedAt: start, inventory: nil, hostPattern: nil, options: nil, version: "test")
            // 12 full batches of 16, each prepared while the one before is written, and 11 hosts the flush writes.
            let recorder = RunRecorder<HostScan>(store: recorded, runId: viaRecorder, batchSize: 16, flushInterval: 3600)
            for host in hosts { recorder.add(host) }
            try recorder.finish(at: start.addingTimeInterval(600))
            let inOne = try direct.beginRun(kind: .scan, startedAt: start, inventory: nil, hostPattern: nil, options: nil, version: "test")
            try direct.record(runId: inOne, hosts: hosts)
            try direct.finishRun(runId: inOne, finishedAt: start.addingTimeInterval(600))

            let written = try Self.findings(recorded, run: viaRecorder)
            #expect(written.count == 203)
            #expect(written == (try Self.findings(direct, run: inOne)), "night \(night)")
            #expect(written["host-17"] == hosts[17].updates.map(Self.line))
        }
    }

    /// A finished recorder lets its store go at once: the last connection's close then checkpoints the
    /// write-ahead log and removes it, so the history is one file when the process ends (the flush timer a
    /// partial batch arms used to hold the recorder, and with it the store, for its whole interval).
    @Test func aFinishedRunLeavesNoWriteAheadLog() throws {
        let folder = try StoreTestHosts.folder("recorder-wal")
        let path = folder.appendingPathComponent("history.db").path
        do {
            let store = try HistoryStore(path: path)
            let run = try store.beginRun(kind: .scan, startedAt: Date(timeIntervalSince1970: 1_700_000_000), inventory: nil, hostPattern: nil,
                                         options: nil, version: "test")
            let recorder = RunRecorder<HostScan>(store: store, runId: run, batchSize: 16, flushInterval: 3600)
            // 20 hosts: one full batch, and 4 that arm the flush timer.
            for index in 0..<20 { recorder.add(Self.host(index, night: 0)) }
            try recorder.finish(at: Date(timeIntervalSince1970: 1_700_000_100))
            #expect(FileManager.default.fileExists(atPath: path + "-wal"), "the open store writes through its log")
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the log outlived the store")
        let reopened = try HistoryStore(readOnly: path)
        #expect(try reopened.runs(limit: 1).first?.hosts == 20)
    }

    /// Preparation runs ahead of the writer by at most `preparedAhead` batches: with the database's write
    /// lock held by another connection, the writer waits on it (the store's 10 s busy timeout) and the
    /// preparing queue stops at the gate instead of preparing every batch added; once the lock goes,
    /// every host is written.
    @Test func preparationWaitsForTheWriterAFewBatchesAhead() throws {
        let folder = try StoreTestHosts.folder("recorder-ahead")
        let path = folder.appendingPathComponent("history.db").path
        let store = try HistoryStore(path: path)
        let run = try store.beginRun(kind: .scan, startedAt: Date(timeIntervalSince1970: 1_700_000_000), inventory: nil, hostPattern: nil,
                                     options: nil, version: "test")
        var holding = Configuration()
        holding.allowsUnsafeTransactions = true
        let blocker = try DatabaseQueue(path: path, configuration: holding)
        try blocker.writeWithoutTransaction { try $0.execute(sql: "BEGIN IMMEDIATE") }
        let limit = RunRecorder<HostScan>.preparedAhead
        let recorder = RunRecorder<HostScan>(store: store, runId: run, batchSize: 8, flushInterval: 3600)
        let count = 8 * (limit + 6)
        for index in 0..<count { recorder.add(Self.host(index, night: 0)) }
        // The event: a preparation waiting at the gate (it never comes when preparation is not bounded).
        // Waited for well within the busy timeout, after which the writer would give up on the lock.
        let deadline = Date().addingTimeInterval(8)
        while !recorder.ahead.state.waiting, Date() < deadline { usleep(1000) }
        let held = recorder.ahead.state
        try blocker.writeWithoutTransaction { try $0.execute(sql: "COMMIT") }
        try recorder.finish(at: Date(timeIntervalSince1970: 1_700_000_100))
        #expect(held.waiting, "no preparation waited for the writer")
        #expect(held.mostAhead == limit)
        #expect(recorder.ahead.state.mostAhead == limit)
        let written = try Self.findings(store, run: run)
        #expect(written.count == count)
        #expect(written["host-\(count - 1)"] == Self.host(count - 1, night: 0).updates.map(Self.line))
    }
}
