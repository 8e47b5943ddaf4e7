import Foundation
import LabSupport
import Testing
@testable import PatchCore

@Suite("Package library")
struct PackageRepositoryTests {
    static func library() throws -> (PackageRepository, URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("library-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try HistoryStore(path: folder.appendingPathComponent("db/history.db").path)
        return (PackageRepository(store: store), folder)
    }

    @Test func debMetadataComesFromTheFileAndTheSameFileIsOneEntry() async throws {
        let (repository, folder) = try Self.library()
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

        // The metadata cannot be contradicted.
        await #expect(throws: PatchError.self) { try await repository.add(.init(path: other, version: "9.9"), by: "alice", at: Date()) }
    }

    @Test func rpmHeaderIsReadWithoutRpm() async throws {
        let (repository, folder) = try Self.library()
        let file = try await TestPackages.rpm("acme-agent", version: "2.4.1", release: "3.el9", in: folder)
        let (record, _) = try await repository.add(.init(path: file), by: "alice", at: Date())
        #expect(record.name == "acme-agent" && record.version == "2.4.1-3.el9" && record.platform == .rhel && record.architecture == "noarch")
    }

    @Test func unknownFilesAndMissingMetadataAreRefused() async throws {
        let (repository, folder) = try Self.library()
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

    @Test func pruneRemovesOutdatedDuplicateRejectedAndOrphansButNeverReferenced() async throws {
        let (repository, folder) = try Self.library()
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
    }
}
