import Foundation
import GRDB
import Testing
@testable import PatchCore

@Suite("History store")
struct HistoryStoreTests {
    func freshStore() throws -> HistoryStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-store-\(UUID().uuidString)/nested")
        return try HistoryStore(path: folder.appendingPathComponent("history.db").path)
    }

    func sampleHost(_ name: String, status: HostStatus = .ok, updates: [PendingUpdate] = []) -> HostScan {
        HostScan(name: name, address: "10.0.0.1", port: 22, status: status, error: status == .ok ? nil : "boom",
                 os: status == .ok ? OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm", kernel: "6.1", architecture: "x86_64") : nil,
                 rebootRequired: status == .ok ? true : nil, rebootPackages: status == .ok ? ["libc6", "linux-image-amd64"] : [],
                 installedCount: status == .ok ? 90 : nil, updates: updates,
                 startedAt: Date(timeIntervalSince1970: 1_700_000_000), finishedAt: Date(timeIntervalSince1970: 1_700_000_002))
    }

    @Test(arguments: StoreKind.all) func runRoundTripsEveryField(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let started = Date(timeIntervalSince1970: 1_700_000_000)
        let id = try store.beginRun(kind: .scan, startedAt: started, inventory: "inv.yml", hostPattern: "web", options: nil, version: "test")
        let updates = [
            PendingUpdate(name: "libc6", installedVersion: "2.36-9+deb12u4", availableVersion: "2.36-9+deb12u7", source: "Debian-Security:12/oldstable-security", security: true, architecture: "amd64", severity: "important"),
            PendingUpdate(name: "tzdata", installedVersion: "2024a", availableVersion: "2024b", source: "Debian:12.7/oldstable", security: false, architecture: "all"),
        ]
        let hosts = [sampleHost("a", updates: updates), sampleHost("b", status: .unreachable)]
        try store.record(runId: id, hosts: hosts)
        try store.finishRun(runId: id, finishedAt: started.addingTimeInterval(3))

        let loaded = try store.run(id: id)
        #expect(loaded.hosts == hosts)
        #expect(loaded.finishedAt == started.addingTimeInterval(3))
        #expect(loaded.summary.securityUpdates == 1 && loaded.summary.failed == 1)

        let listing = try #require(try store.runs().first)
        #expect(listing.runId == id && listing.state == .finished && listing.hosts == 2 && listing.failed == 1 && listing.updates == 2 && listing.securityUpdates == 1)
        #expect(listing.inventory == "inv.yml" && listing.hostPattern == "web")
    }

    @Test(arguments: StoreKind.all) func interruptedRunStaysVisibleAsRunning(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        #expect(try store.runs().first?.runId == id)
        #expect(try store.runs().first?.state == .running)
    }

    @Test(arguments: StoreKind.all) func prefixLookupAndErrors(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: nil, hostPattern: nil, options: nil, version: "test")
        #expect(try store.run(id: String(id.prefix(20))).runId == id)
        #expect(throws: PatchError.runNotFound("zzz")) { try store.run(id: "zzz") }
        // LIKE wildcards in the prefix are literal.
        #expect(throws: PatchError.runNotFound("%")) { try store.run(id: "%") }
    }

    @Test func fileIsPrivateAndMigrationsAreNamedAndRerunnable() throws {
        let store = try freshStore()
        let permissions = try FileManager.default.attributesOfItem(atPath: store.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let folderPermissions = try FileManager.default.attributesOfItem(atPath: URL(fileURLWithPath: store.path).deletingLastPathComponent().path)[.posixPermissions] as? Int
        #expect(folderPermissions == 0o700)
        let reopened = try HistoryStore(path: store.path)
        let applied = try reopened.pool.read { try HistoryStore.migrator.appliedIdentifiers($0) }
        // Every registered migration ran, once, and the first two kept their names (databases in the field have them).
        #expect(applied == Set(HistoryStore.migrator.migrations))
        #expect(HistoryStore.migrator.migrations.prefix(2) == ["v1: runs, run hosts and findings", "v2: command results"])
        let mode = try reopened.pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // A new file gives pages back incrementally (`history prune`, migrations that drop tables) from the start.
        #expect(try reopened.pool.read { try Int.fetchOne($0, sql: "PRAGMA auto_vacuum") } == 2)
    }

    @Test func defaultPathFollowsXDG() {
        #expect(HistoryStore.defaultPath(environment: ["HOME": "/home/ops"], isRoot: false) == "/home/ops/.local/state/patchctl/patchctl.db")
        #expect(HistoryStore.defaultPath(environment: ["HOME": "/home/ops", "XDG_STATE_HOME": "/state"], isRoot: false) == "/state/patchctl/patchctl.db")
        #expect(HistoryStore.defaultPath(environment: ["HOME": "/home/ops", "PATCHCTL_DB": "/tmp/x.db"], isRoot: false) == "/tmp/x.db")
        // Root: one history for the machine, systemd's StateDirectory= first; PATCHCTL_DB still wins.
        #expect(HistoryStore.defaultPath(environment: ["HOME": "/nonexistent-home"], isRoot: true) == "/var/lib/patchctl/patchctl.db")
        #expect(HistoryStore.defaultPath(environment: ["STATE_DIRECTORY": "/var/lib/patchctl:/var/lib/other"], isRoot: true) == "/var/lib/patchctl/patchctl.db")
        #expect(HistoryStore.defaultPath(environment: ["STATE_DIRECTORY": "/run/x"], isRoot: true) == "/run/x/patchctl.db")
        #expect(HistoryStore.defaultPath(environment: ["STATE_DIRECTORY": "/run/x", "PATCHCTL_DB": "/tmp/x.db"], isRoot: true) == "/tmp/x.db")
    }

    @Test func unwritableLocationIsAClearError() {
        #expect { try HistoryStore(path: "/proc/patchctl/history.db") } throws: { error in
            guard case let .store(path, _)? = error as? PatchError else { return false }
            return path == "/proc/patchctl/history.db"
        }
    }
}
