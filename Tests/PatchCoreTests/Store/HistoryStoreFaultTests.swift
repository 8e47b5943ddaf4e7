import Foundation
import LabSupport
import GRDB
import Testing
@testable import PatchCore

/// The history under faults: concurrent first opens, schema upgrades, multi-arch findings, a
/// recorder killed before its batch filled, a disk that fills up mid-run, read-only opens.
@Suite("History store faults", .serialized)
struct HistoryStoreFaultTests {
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-faults-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func host(_ name: String, updates: [PendingUpdate] = []) -> HostScan {
        HostScan(name: name, address: "10.0.0.1", port: 22, status: .ok,
                 os: OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm", kernel: "6.1", architecture: "x86_64"),
                 rebootRequired: false, installedCount: 90, updates: updates,
                 startedAt: Date(timeIntervalSince1970: 1_700_000_000), finishedAt: Date(timeIntervalSince1970: 1_700_000_002))
    }

    static let multiArch = """
        Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian-Security:12/oldstable-security [amd64]) []
        Inst libc6:i386 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian-Security:12/oldstable-security [i386]) []
        Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian-Security:12/oldstable-security [i386])
        Inst libc6 [2.36-9+deb12u4] (2.36-9+deb12u7 Debian-Security:12/oldstable-security [amd64]) []
        Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/oldstable [all])
        """

    // MARK: #17 finding identity

    @Test func multiArchFindingsAreKeptApartInHistory() throws {
        let updates = try DebianPlatform.parseSimulation(Self.multiArch)
        // The repeated amd64 line is one finding; the three architectures of libc6 are three.
        #expect(updates.map { "\($0.name)/\($0.architecture ?? "")" } == ["libc6/amd64", "libc6:i386/i386", "libc6/i386", "tzdata/all"])
        let store = try HistoryStore(path: try Self.folder().appendingPathComponent("h.db").path)
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        let unnamed = PendingUpdate(name: "kb1", installedVersion: "1", availableVersion: "2", source: "x", security: false)
        try store.record(runId: id, hosts: [Self.host("web1", updates: updates + [unnamed])])
        let loaded = try #require(try store.run(id: id).hosts.first)
        #expect(loaded.updates.count == 5, "every (name, arch) finding is stored: \(loaded.updates.map(\.name))")
        #expect(Set(loaded.updates.map { "\($0.name)/\($0.architecture ?? "-")" }) == ["libc6/amd64", "libc6:i386/i386", "libc6/i386", "tzdata/all", "kb1/-"])
        #expect(try store.runs().first?.updates == 5)
    }

    @Test func migrationV8KeepsEveryV7Row() throws {
        let path = try Self.folder().appendingPathComponent("old.db").path
        do {
            let pool = try DatabasePool(path: path)
            try HistoryStore.migrator.migrate(pool, upTo: "v7: finding severity")
            try pool.write { db in
                try db.execute(sql: "INSERT INTO runs (id, kind, started_at, state) VALUES ('r1', 'scan', '2026-01-01 00:00:00', 'finished')")
                try db.execute(sql: """
                    INSERT INTO run_hosts (run_id, host, address, port, status, started_at, finished_at)
                    VALUES ('r1', 'web1', '10.0.0.1', 22, 'ok', '2026-01-01 00:00:00', '2026-01-01 00:00:01')
                    """)
                for (package, arch) in [("libc6", "amd64"), ("openssl", nil), ("tzdata", "all")] as [(String, String?)] {
                    try db.execute(sql: """
                        INSERT INTO findings (run_id, host, package, installed_version, available_version, source, security, architecture, severity)
                        VALUES ('r1', 'web1', ?, '1', '2', 'src', 1, ?, 'high')
                        """, arguments: [package, arch])
                }
            }
        }
        let store = try HistoryStore(path: path)
        let updates = try #require(try store.run(id: "r1").hosts.first).updates
        #expect(updates.map(\.name) == ["libc6", "openssl", "tzdata"])
        #expect(updates.map(\.architecture) == ["amd64", nil, "all"])
        #expect(updates.allSatisfy { $0.severity == "high" && $0.security })
        let applied = try store.pool.read { try HistoryStore.migrator.appliedMigrations($0) }
        #expect(applied.contains("v8: finding identity is package and architecture"))
        // v10 then made the rows intervals: `findings` is the view that expands them, the per-run table is gone.
        #expect(applied.contains("v10: findings as intervals"))
        let kinds = try store.pool.read { try String.fetchAll($0, sql: "SELECT type FROM sqlite_master WHERE name IN ('findings', 'legacy_findings')") }
        #expect(kinds == ["view"])
    }

    // MARK: #14 concurrent first opens

    @Test func twentyConcurrentFirstOpensInOneProcess() throws {
        let path = try Self.folder().appendingPathComponent("new.db").path
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var list: [String] = []
        }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 20) { _ in
            do {
                let store = try HistoryStore(path: path)
                _ = try store.runs()
            } catch {
                failures.lock.withLock { failures.list.append("\(error)") }
            }
        }
        #expect(failures.list == [])
        let store = try HistoryStore(readOnly: path)
        #expect(try store.pool.read { try HistoryStore.migrator.hasCompletedMigrations($0) })
    }

    // MARK: #15 time-based flush

    @Test func recorderWritesAHostWithinAboutASecondWithoutFinishing() throws {
        let store = try HistoryStore(path: try Self.folder().appendingPathComponent("h.db").path)
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        // The default batch (64) is far from full: only the flush timer can write this host.
        let recorder = RunRecorder<HostScan>(store: store, runId: id)
        recorder.add(Self.host("web1"))
        let deadline = Date().addingTimeInterval(120)  // a bound for a loaded machine; the timer fires after about a second
        var stored = 0
        while stored == 0 && Date() < deadline {
            stored = try store.run(id: id).hosts.count
            if stored == 0 { usleep(20_000) }
        }
        #expect(stored == 1, "a host waited for a batch that never filled")
        withExtendedLifetime(recorder) {}
    }

    // MARK: #13 disk full

    @Test func diskFullJournalsTheRestAndTheNextOpenImportsIt() throws {
        let disk = try Tmpfs.mount(sizeKiB: 3072)
        defer { disk.unmount() }
        let path = disk.path + "/h.db"
        let store = try HistoryStore(path: path)
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        let recorder = RunRecorder<HostScan>(store: store, runId: id, batchSize: 1)
        disk.fill()
        let hosts = (1...3).map { Self.host("web\($0)", updates: [PendingUpdate(name: "libc6", installedVersion: "1", availableVersion: String(repeating: "2", count: 2000),
                                                                             source: "s", security: true, architecture: "amd64")]) }
        for host in hosts { recorder.add(host) }
        #expect(throws: HistoryWriteFailure.self) { try recorder.finish(at: Date()) }
        let journal = HistoryJournal.path(forDatabase: path)
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4, "three hosts and the run's end")
        #expect(try HistoryStore(readOnly: path).runs().first?.state == .running, "the database itself could not record the end")

        disk.free()
        let reopened = try HistoryStore(path: path)
        #expect(reopened.recoveredRuns == [id])
        #expect(!FileManager.default.fileExists(atPath: journal), "imported once, then removed")
        let listing = try #require(try reopened.runs().first { $0.runId == id })
        #expect(listing.state == .incomplete && listing.hosts == 3 && listing.finishedAt != nil)
        #expect(try reopened.run(id: id).hosts.map(\.name) == ["web1", "web2", "web3"])
        #expect(try HistoryStore(path: path).recoveredRuns == [], "nothing is imported twice")
    }

    /// A deferral raised while a host is worked on goes through the recorder like the host: with
    /// the disk full it lands in the journal and the next open imports it into the audit trail.
    @Test func auditEventsOfAFullDiskAreJournaledAndImported() throws {
        let disk = try Tmpfs.mount(sizeKiB: 3072)
        defer { disk.unmount() }
        let path = disk.path + "/h.db"
        let store = try HistoryStore(path: path)
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        let recorder = RunRecorder<HostScan>(store: store, runId: id, batchSize: 1)
        disk.fill()
        recorder.add(Self.host("web1", updates: [PendingUpdate(name: "libc6", installedVersion: "1", availableVersion: String(repeating: "2", count: 2000),
                                                              source: "s", security: true, architecture: "amd64")]))
        recorder.record(event: EventRecord(at: Date(), user: "ops", action: .deferred, policy: "p", host: "web1", detail: "alice on pts/0"))
        #expect(throws: HistoryWriteFailure.self) { try recorder.finish(at: Date()) }
        disk.free()
        let reopened = try HistoryStore(path: path)
        #expect(reopened.recoveredRuns == [id])
        #expect(try reopened.events(host: "web1").map { "\($0.action) \($0.detail ?? "")" } == ["deferred alice on pts/0"])
    }

    // MARK: #18 read-only

    @Test func readOnlyOpenWritesNothingAndRefusesWhatIsNotAHistory() throws {
        let folder = try Self.folder()
        let path = folder.appendingPathComponent("h.db").path
        do {
            let store = try HistoryStore(path: path)
            let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
            try store.record(runId: id, hosts: [Self.host("web1")])
            try store.finishRun(runId: id, finishedAt: Date())
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "the last writer checkpointed and removed its WAL")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let reader = try HistoryStore(readOnly: path)
        #expect(try reader.runs().count == 1)
        #expect(throws: PatchError.self) { try reader.finishRun(runId: "x", finishedAt: Date()) }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal") && !FileManager.default.fileExists(atPath: path + "-shm"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)

        let empty = folder.appendingPathComponent("empty.db").path
        FileManager.default.createFile(atPath: empty, contents: nil)
        #expect { try HistoryStore(readOnly: empty) } throws: { "\($0)".contains("empty (0 bytes)") }
        #expect(try HistoryStore.fileSize(empty) == 0)
        let text = folder.appendingPathComponent("notes.txt").path
        try "hello\n".write(toFile: text, atomically: true, encoding: .utf8)
        #expect { try HistoryStore(readOnly: text) } throws: { "\($0)".contains("not an SQLite database") }
        #expect { try HistoryStore(path: text) } throws: { "\($0)".contains("not an SQLite database") }
        #expect(try String(contentsOfFile: text, encoding: .utf8) == "hello\n")
        let foreign = folder.appendingPathComponent("other.db").path
        try DatabaseQueue(path: foreign).write { try $0.execute(sql: "CREATE TABLE songs (title TEXT)") }
        #expect { try HistoryStore(readOnly: foreign) } throws: { "\($0)".contains("not a patchctl history database") }
        #expect { try HistoryStore(path: foreign) } throws: { "\($0)".contains("not a patchctl history database") }
        let newer = folder.appendingPathComponent("newer.db").path
        try DatabaseQueue(path: newer).write { db in
            try db.execute(sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
            for id in HistoryStore.migrator.migrations + ["v99: from the future"] {
                try db.execute(sql: "INSERT INTO grdb_migrations VALUES (?)", arguments: [id])
            }
        }
        #expect { try HistoryStore(readOnly: newer) } throws: { "\($0)".contains("newer patchctl") }
        #expect { try HistoryStore(path: newer) } throws: { "\($0)".contains("newer patchctl") }
        #expect { try HistoryStore(readOnly: folder.appendingPathComponent("missing.db").path) } throws: { "\($0)".contains("no history database here") }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("missing.db").path))
    }

    @Test func olderSchemaIsUpgradedWhenWritableAndExplainedWhenNot() throws {
        let disk = try Tmpfs.mount(sizeKiB: 4096)
        defer { disk.unmount() }
        let path = disk.path + "/old.db"
        do {
            let pool = try DatabasePool(path: path)
            try HistoryStore.migrator.migrate(pool, upTo: "v7: finding severity")
        }
        try disk.remount(readOnly: true)
        #expect { try HistoryStore(readOnly: path) } throws: { error in
            "\(error)".contains("older patchctl") && "\(error)".contains("v7: finding severity")
        }
        try disk.remount(readOnly: false)
        let upgraded = try HistoryStore(readOnly: path)
        #expect(try upgraded.pool.read { try HistoryStore.migrator.hasCompletedMigrations($0) })
        // Read-only on a read-only file system: works, and creates nothing.
        try disk.remount(readOnly: true)
        #expect(try HistoryStore(readOnly: path).runs().isEmpty)
        try disk.remount(readOnly: false)
    }
}
