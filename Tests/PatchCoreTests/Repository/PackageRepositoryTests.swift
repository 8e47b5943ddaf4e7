import Foundation
import LabSupport
import Testing
@testable import PatchCore

@Suite("Package library")
struct PackageRepositoryTests {
    /// A library on an empty history of `kind`, and a folder for package files; `TestStore` keeps
    /// the PostgreSQL server (if any) alive.
    static func library(_ kind: StoreKind = .sqlite) async throws -> (PackageRepository, URL, TestStore) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("library-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let test = try await TestStore.make(kind)
        return (PackageRepository(store: test.store), folder, test)
    }

    @Test(arguments: StoreKind.all) func debMetadataComesFromTheFileAndTheSameFileIsOneEntry(kind: StoreKind) async throws {
        let (repository, folder, test) = try await Self.library(kind)
        defer { _ = test }
        let file = try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder)
        let (record, added) = try await repository.add(.init(path: file, notes: "CHG-77"), by: "alice", at: Date())
        #expect(added)
        #expect(record.name == "acme-agent" && record.version == "2.4.1" && record.platform == .debian && record.format == .deb)
        #expect(record.architecture == "all" && record.state == .pending && record.addedBy == "alice" && record.notes == "CHG-77")
        let digest = try #require(record.sha256)
        // The library's digest (swift-crypto) is the one endpoints check with sha256sum.
        let sha256sum = try await TestProcess.check("/usr/bin/sha256sum", [file])
        #expect(digest == sha256sum.split(separator: " ").first.map(String.init))
        #expect(FileManager.default.contentsEqual(atPath: repository.filePath(sha256: digest), andPath: file))

        let (again, addedAgain) = try await repository.add(.init(path: file), by: "bob", at: Date())
        #expect(!addedAgain && again.id == record.id)
        #expect(try repository.list().count == 1)

        // Same name@version, different bytes: refused, and nothing half-recorded.
        let other = try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder, payload: "rebuilt")
        await #expect {
            try await repository.add(.init(path: other), by: "alice", at: Date())
        } throws: { error in
            "\(error)".contains("already in the library with another checksum")
        }
        #expect(try repository.list().count == 1)
        let stored = try FileManager.default.subpathsOfDirectory(atPath: repository.root + "/sha256").filter { $0.count > 3 }
        #expect(stored.count == 1, "no file without a row: \(stored)")
        let held = try repository.store.rows("SELECT COUNT(*) AS parts FROM package_files", []).first?["parts"] as Int64?
        #expect(held == (kind == .postgres ? 1 : 0), "the refused file's bytes are not in the history either")

        // The metadata cannot be contradicted.
        await #expect(throws: PatchError.self) { try await repository.add(.init(path: other, version: "9.9"), by: "alice", at: Date()) }
    }

    @Test func rpmHeaderIsReadWithoutRpm() async throws {
        let (repository, folder, _) = try await Self.library()
        let file = try await TestPackages.rpm("acme-agent", version: "2.4.1", release: "3.el9", in: folder)
        let (record, _) = try await repository.add(.init(path: file), by: "alice", at: Date())
        #expect(record.name == "acme-agent" && record.version == "2.4.1-3.el9" && record.platform == .rhel && record.architecture == "noarch")
    }

    @Test func unknownFilesAndMissingMetadataAreRefused() async throws {
        let (repository, folder, _) = try await Self.library()
        let text = folder.appendingPathComponent("notes.txt")
        try "hello".write(to: text, atomically: true, encoding: .utf8)
        await #expect { try await repository.add(.init(path: text.path), by: "a", at: Date()) } throws: { "\($0)".contains("not a package file") }
        let msi = folder.appendingPathComponent("AcmeAgent.msi")
        try Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 0, count: 600)).write(to: msi)
        await #expect { try await repository.add(.init(path: msi.path), by: "a", at: Date()) } throws: { "\($0)".contains("give --name and --version") }
        let (record, _) = try await repository.add(.init(path: msi.path, name: "acme-agent", version: "2.4.1", platform: .windows), by: "a", at: Date())
        #expect(record.format == .msi && record.platform == .windows)
        await #expect { try await repository.add(.init(path: msi.path, name: "x", version: "1", platform: .debian), by: "a", at: Date()) } throws: {
            "\($0)".contains("does not install on debian")
        }
        let (os, _) = try await repository.add(.init(path: nil, name: "firefox-esr", version: "128.5.0esr-1~deb12u1", format: .apt), by: "a", at: Date())
        #expect(os.sha256 == nil && os.platform == .debian)
    }

    @Test(arguments: StoreKind.all) func pruneRemovesOutdatedDuplicateRejectedAndOrphansButNeverReferenced(kind: StoreKind) async throws {
        let (repository, folder, test) = try await Self.library(kind)
        defer { _ = test }
        var ids: [String: PackageRecord] = [:]
        for version in ["1.0", "1.1", "1.10", "1.9"] {
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("tool", version: version, in: folder)), by: "a", at: Date())
            _ = try repository.decide(name: "tool", version: version, state: .approved, by: "cab", note: nil, at: Date())
            ids[version] = record
        }
        let rejectedFile = try await TestPackages.deb("bad", version: "1.0", in: folder)
        _ = try await repository.add(.init(path: rejectedFile), by: "a", at: Date())
        _ = try repository.decide(name: "bad", version: "1.0", state: .rejected, by: "cab", note: "crashes", at: Date())
        let pinned = try await TestPackages.deb("pinned", version: "0.1", in: folder)
        _ = try await repository.add(.init(path: pinned), by: "a", at: Date())
        _ = try repository.decide(name: "pinned", version: "0.1", state: .rejected, by: "cab", note: nil, at: Date())
        // The same installer under a second name (a duplicate), and a stray file (an interrupted add).
        let msi = folder.appendingPathComponent("Agent.msi")
        try Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 7, count: 600)).write(to: msi)
        for name in ["agent", "agent-dup"] {
            _ = try await repository.add(.init(path: msi.path, name: name, version: "1.0", platform: .windows), by: "a", at: Date())
            _ = try repository.decide(name: name, version: "1.0", state: .approved, by: "cab", note: nil, at: Date())
        }
        let orphan = repository.root + "/sha256/00/" + String(repeating: "0", count: 64)
        try FileManager.default.createDirectory(atPath: repository.root + "/sha256/00", withIntermediateDirectories: true)
        try Data("stray".utf8).write(to: URL(fileURLWithPath: orphan))

        let planned = try repository.prune(keep: 2, pendingDays: 90, referenced: ["pinned"], now: Date(), dryRun: true)
        let names = Set(planned.compactMap(\.package))
        #expect(names == ["tool@1.0", "tool@1.1", "bad@1.0", "agent-dup@1.0"], "\(planned)")
        #expect(planned.contains { $0.file == orphan })
        #expect(try repository.list().count == 8, "dry run removes nothing")

        _ = try repository.prune(keep: 2, pendingDays: 90, referenced: ["pinned"], now: Date(), dryRun: false)
        let left = try repository.list()
        #expect(Set(left.map(\.reference)) == ["tool@1.9", "tool@1.10", "pinned@0.1", "agent@1.0"])
        // Rows and files agree: every remaining row has its file, and no other file is left.
        let files = Set(try FileManager.default.subpathsOfDirectory(atPath: repository.root + "/sha256").filter { $0.count > 3 }.map { String($0.suffix(64)) })
        #expect(files == Set(left.compactMap(\.sha256)))
        // And so do the bytes a PostgreSQL history holds (none in an SQLite history: its files are beside it).
        let held = Set(try repository.store.rows("SELECT DISTINCT sha256 FROM package_files").map { $0["sha256"] as String })
        #expect(held == (kind == .postgres ? Set(left.compactMap(\.sha256)) : []))
    }

    /// One PostgreSQL history, two controllers: what one adds, the other fetches from the history,
    /// checked against the library's digest; bytes that do not match are refused, and nothing is put in place.
    @Test(.enabled(if: PostgresServer.enabled)) func aSecondControllerFetchesAndChecksTheFileFromThePostgreSQLHistory() async throws {
        let (first, folder, test) = try await Self.library(.postgres)
        // A file of several parts (random, so gzip keeps it large), not a multiple of the part size.
        let payload = try TestPackages.randomText(bytes: 5 * PackageRepository.partSize / 2)
        let file = try await TestPackages.deb("big-agent", version: "3.0", in: folder, payload: payload)
        _ = try await first.add(.init(path: file), by: "alice", at: Date())
        let record = try #require(try first.decide(name: "big-agent", version: "3.0", state: .approved, by: "cab", note: nil, at: Date()).first)
        let digest = try #require(record.sha256)
        let size = try #require(record.size)
        let parts = try first.store.rows("SELECT part, length(data) AS size FROM package_files WHERE sha256 = ? ORDER BY part", [digest.databaseValue])
        #expect(parts.count >= 2 && parts.count == (Int(size) + PackageRepository.partSize - 1) / PackageRepository.partSize, "\(parts.count) parts for \(size) bytes")
        #expect(parts.map { $0["part"] as Int64 } == Array(0..<Int64(parts.count)))
        #expect(try first.localFile(record) == first.filePath(sha256: digest), "the adding controller keeps its copy")

        func controller(_ name: String) async throws -> PackageRepository {
            var environment = test.environment
            let state = folder.appendingPathComponent(name).path
            environment["STATE_DIRECTORY"] = state
            environment["XDG_STATE_HOME"] = state
            return PackageRepository(store: try await HistoryStore.open(recording: test.location, environment: environment))
        }
        let second = try await controller("second")
        #expect(second.root != first.root)
        let found = try #require(try second.find(name: "big-agent", version: "3.0").first)
        #expect(found == record)
        #expect(!FileManager.default.fileExists(atPath: second.filePath(sha256: digest)))
        let fetched = try second.localFile(found)
        #expect(FileManager.default.contentsEqual(atPath: fetched, andPath: file))

        // A changed byte in the history: refused by digest, and no file left where installs look.
        try first.store.recording { db in
            try db.execute("UPDATE package_files SET data = ? WHERE sha256 = ? AND part = 1", arguments: [Data(repeating: 0x41, count: PackageRepository.partSize), digest])
        }
        let third = try await controller("third")
        #expect { try third.localFile(found) } throws: { "\($0)".contains("reads as sha256") && "\($0)".contains("nothing pushed") }
        #expect(!FileManager.default.fileExists(atPath: third.filePath(sha256: digest)))
        #expect(try FileManager.default.contentsOfDirectory(atPath: third.root + "/staging").isEmpty)
    }
}
