import Foundation
import Testing
@testable import PatchCore

/// Zip archives made by python3's zipfile (zip itself is not installed), read back and then damaged.
@Suite struct ZipArchiveTests {
    static let roomy = ArchiveLimits(maxArchiveBytes: 64 << 20, maxEntries: 100_000, maxEntryBytes: 64 << 20, maxTotalBytes: 256 << 20)

    /// A directory entry, a deflated and a stored file.
    static let maker = """
        import sys, zipfile
        with zipfile.ZipFile(sys.argv[1], "w") as z:
            z.writestr(zipfile.ZipInfo("all/"), "")
            z.writestr("all/DSA-1.json", '{"id": "DSA-1"}' * 200, compress_type=zipfile.ZIP_DEFLATED)
            z.writestr("all/notes.txt", "stored as is", compress_type=zipfile.ZIP_STORED)
        """

    static func make(_ dir: ScratchDirectory, _ script: String, _ name: String) async throws -> String {
        try dir.write("make.py", Data(script.utf8))
        try await dir.run("/usr/bin/python3 make.py \(name)")
        return dir.file(name)
    }

    @Test func readsStoredAndDeflatedEntries() async throws {
        let dir = try ScratchDirectory()
        let zip = try ZipArchive(path: try await Self.make(dir, Self.maker, "a.zip"), limits: Self.roomy)
        #expect(zip.entries.map(\.name) == ["all/", "all/DSA-1.json", "all/notes.txt"])
        #expect(zip.entries.map(\.method) == [0, 8, 0])
        var files: [String: String] = [:]
        try zip.forEachFile { entry, data in files[entry.name] = String(decoding: data, as: UTF8.self) }
        #expect(files == ["all/DSA-1.json": String(repeating: "{\"id\": \"DSA-1\"}", count: 200), "all/notes.txt": "stored as is"])
    }

    @Test func readsZip64WithMoreThan65535Entries() async throws {
        let dir = try ScratchDirectory()
        // Beyond 65535 entries the counts live only in the ZIP64 end record (as in osv.dev's large all.zip files).
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w") as z:
                for i in range(65600):
                    z.writestr("r/%d.json" % i, str(i))
            """
        let zip = try ZipArchive(path: try await Self.make(dir, script, "big.zip"), limits: Self.roomy)
        #expect(zip.entries.count == 65600)
        #expect(try zip.contents(of: zip.entries[65599]) == Data("65599".utf8))
    }

    @Test func refusesEntriesBeyondTheLimits() async throws {
        let dir = try ScratchDirectory()
        // 32 MiB of zeros deflate to ~32 KiB: a small archive that declares a large entry.
        let script = """
            import sys, zipfile
            with zipfile.ZipFile(sys.argv[1], "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
                z.writestr("bomb.json", b"0" * (32 << 20))
                z.writestr("a.json", b"1" * (600 << 10))
                z.writestr("b.json", b"2" * (600 << 10))
            """
        let path = try await Self.make(dir, script, "bomb.zip")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count < 1 << 20)
        var limits = Self.roomy
        limits.maxEntryBytes = 1 << 20
        let zip = try ZipArchive(path: path, limits: limits)
        #expect(feedFailure { _ = try zip.contents(of: zip.entries[0]) } == .tooLarge)
        #expect(try zip.contents(of: zip.entries[1]).count == 600 << 10)
        // Each entry fits, both together do not.
        limits.maxTotalBytes = 1 << 20
        let bounded = try ZipArchive(path: path, limits: limits)
        #expect(feedFailure { try bounded.forEachFile(where: { $0.name != "bomb.json" }) { _, _ in } } == .tooLarge)
        limits.maxEntries = 2
        #expect(feedFailure { _ = try ZipArchive(path: path, limits: limits) } == .tooLarge)
        limits = Self.roomy
        limits.maxArchiveBytes = 1024
        #expect(feedFailure { _ = try ZipArchive(path: path, limits: limits) } == .tooLarge)
    }

    @Test func anEntryThatInflatesBeyondWhatItDeclaresIsStopped() async throws {
        let dir = try ScratchDirectory()
        var data = try Data(contentsOf: URL(fileURLWithPath: try await Self.make(dir, Self.maker, "a.zip")))
        // Rewrite the central directory's uncompressed size of all/DSA-1.json (3000 bytes) to 100.
        let zip = try ZipArchive(data: data, source: "a.zip", limits: Self.roomy)
        let entry = try #require(zip.entries.first { $0.name == "all/DSA-1.json" })
        let central = try #require(Self.centralHeader(of: entry.name, in: data))
        data.replaceSubrange(central + 24 ..< central + 28, with: [100, 0, 0, 0])
        let lying = try ZipArchive(data: data, source: "a.zip", limits: Self.roomy)
        // Stopped once past the declared 100 bytes, not after inflating all of it.
        let error = #expect(throws: FeedReadError.self) { _ = try lying.contents(of: lying.entries[1]) }
        #expect(error?.reason == .corrupt)
        #expect(error?.message == "inflates beyond the 100 bytes it declares")
    }

    @Test func truncatedArchiveIsReportedAsTruncated() async throws {
        let dir = try ScratchDirectory()
        let data = try Data(contentsOf: URL(fileURLWithPath: try await Self.make(dir, Self.maker, "a.zip")))
        #expect(feedFailure { _ = try ZipArchive(data: data.prefix(data.count - 30), source: "cut.zip", limits: Self.roomy) } == .truncated)
        #expect(feedFailure { _ = try ZipArchive(data: data.prefix(10), source: "cut.zip", limits: Self.roomy) } == .truncated)
    }

    @Test func damagedEntryIsReportedAsCorrupt() async throws {
        let dir = try ScratchDirectory()
        var data = try Data(contentsOf: URL(fileURLWithPath: try await Self.make(dir, Self.maker, "a.zip")))
        let zip = try ZipArchive(data: data, source: "a.zip", limits: Self.roomy)
        // The stored entry's bytes: found by content, then one flipped (its CRC no longer matches).
        let stored = try #require(data.firstRange(of: Data("stored as is".utf8)))
        data[stored.lowerBound + 3] ^= 0x20
        let damaged = try ZipArchive(data: data, source: "a.zip", limits: Self.roomy)
        #expect(try zip.contents(of: zip.entries[2]) == Data("stored as is".utf8))
        #expect(feedFailure { _ = try damaged.contents(of: damaged.entries[2]) } == .corrupt)
        // A deflated entry whose first block header says "reserved block type" (BFINAL 1, BTYPE 11).
        let local = try #require(data.firstRange(of: Data("all/DSA-1.json".utf8))).upperBound
        data[local] = 0x07
        let broken = try ZipArchive(data: data, source: "a.zip", limits: Self.roomy)
        #expect(feedFailure { _ = try broken.contents(of: broken.entries[1]) } == .corrupt)
    }

    /// Offset of the central directory header naming `name`.
    static func centralHeader(of name: String, in data: Data) -> Int? {
        let signature = Data([0x50, 0x4B, 0x01, 0x02])
        var from = data.startIndex
        while let found = data.range(of: signature, in: from ..< data.endIndex) {
            let at = found.lowerBound
            let length = Int(data[at + 28]) | Int(data[at + 29]) << 8
            if at + 46 + length <= data.count, data[at + 46 ..< at + 46 + length] == Data(name.utf8) { return at }
            from = found.upperBound
        }
        return nil
    }
}
