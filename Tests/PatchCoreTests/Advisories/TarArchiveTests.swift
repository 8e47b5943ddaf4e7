import Foundation
import Testing
@testable import PatchCore

/// Tar archives made by the system's tar, gzip and xz, read back through the streaming reader.
@Suite struct TarArchiveTests {
    static let roomy = ArchiveLimits(maxArchiveBytes: 64 << 20, maxEntries: 10_000, maxEntryBytes: 64 << 20, maxTotalBytes: 256 << 20)
    /// 120 characters: beyond ustar's 100-byte name field, so GNU tar writes an `L` entry and pax a `path` record.
    static let longName = "osv/usn/" + String(repeating: "long-directory-name/", count: 5) + "USN-0000-1.json"

    /// A tree with nested, long-named and non-JSON files, archived in several formats and compressions.
    static func makeTree(_ dir: ScratchDirectory) async throws -> [String: Data] {
        var files: [String: Data] = [
            "osv/cve/2024/UBUNTU-CVE-2024-0001.json": Data("{\"id\": \"UBUNTU-CVE-2024-0001\"}".utf8),
            "osv/usn/USN-1-1.json": Data(String(repeating: "x", count: 5000).utf8),
            "osv/empty.json": Data(),
            "osv/README": Data("not a record".utf8),
        ]
        files[longName] = Data("{\"id\": \"USN-0000-1\"}".utf8)
        for (name, data) in files { try dir.write("tree/" + name, data) }
        try await dir.run("""
            tar --format=gnu -cf gnu.tar -C tree osv
            tar --format=posix -cf pax.tar -C tree osv
            xz -k -1 gnu.tar && gzip -k gnu.tar && xz -k -1 pax.tar
            """)
        return files
    }

    static func read(_ path: String, limits: ArchiveLimits = roomy, wanted: @escaping @Sendable (String) -> Bool = { _ in true }) async throws -> [String: Data] {
        let box = Box()
        try await TarArchive.forEachFile(path: path, limits: limits, where: wanted) { name, data in box.add(name, data) }
        return box.files
    }

    final class Box: @unchecked Sendable {
        let lock = NSLock()
        var files: [String: Data] = [:]
        func add(_ name: String, _ data: Data) { lock.withLock { files[name] = data } }
    }

    @Test(arguments: ["gnu.tar", "pax.tar", "gnu.tar.xz", "gnu.tar.gz", "pax.tar.xz"])
    func readsEveryRegularFile(archive: String) async throws {
        let dir = try ScratchDirectory()
        let expected = try await Self.makeTree(dir)
        let files = try await Self.read(dir.file(archive))
        #expect(files == expected)
        #expect(files[Self.longName] != nil)
    }

    @Test func onlyWantedFilesAreHandedOver() async throws {
        let dir = try ScratchDirectory()
        _ = try await Self.makeTree(dir)
        let files = try await Self.read(dir.file("gnu.tar.xz"), wanted: { $0.hasSuffix(".json") })
        #expect(Set(files.keys) == ["osv/cve/2024/UBUNTU-CVE-2024-0001.json", "osv/usn/USN-1-1.json", "osv/empty.json", Self.longName])
    }

    @Test func anXZBombIsStoppedAtTheLimit() async throws {
        let dir = try ScratchDirectory()
        // 96 MiB of zeros in one entry: xz makes ~15 KiB of it.
        try await dir.run("mkdir b && head -c 100663296 /dev/zero > b/zeros.json && tar -cf - -C b zeros.json | xz -1 > bomb.tar.xz && rm -r b")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir.file("bomb.tar.xz"))).count < 1 << 20)
        var limits = Self.roomy
        limits.maxEntryBytes = 1 << 20
        // The entry's header already says it is too large.
        #expect(await feedFailure { _ = try await Self.read(dir.file("bomb.tar.xz"), limits: limits) } == .tooLarge)
        // Skipped entries still count towards the decompressed total: xz is stopped there.
        limits = Self.roomy
        limits.maxTotalBytes = 8 << 20
        #expect(await feedFailure { _ = try await Self.read(dir.file("bomb.tar.xz"), limits: limits, wanted: { _ in false }) } == .tooLarge)
    }

    @Test func aGzipBombIsStoppedAtTheLimit() async throws {
        let dir = try ScratchDirectory()
        try await dir.run("mkdir b && head -c 67108864 /dev/zero > b/zeros.json && tar -cf - -C b zeros.json | gzip -9 > bomb.tar.gz && rm -r b")
        var limits = Self.roomy
        limits.maxTotalBytes = 8 << 20
        #expect(await feedFailure { _ = try await Self.read(dir.file("bomb.tar.gz"), limits: limits, wanted: { _ in false }) } == .tooLarge)
    }

    @Test func tooManyEntriesAreRefused() async throws {
        let dir = try ScratchDirectory()
        _ = try await Self.makeTree(dir)
        var limits = Self.roomy
        limits.maxEntries = 3
        #expect(await feedFailure { _ = try await Self.read(dir.file("gnu.tar"), limits: limits) } == .tooLarge)
        limits = Self.roomy
        // The compressed file itself (a few hundred bytes) against a smaller bound.
        limits.maxArchiveBytes = try dir.data("gnu.tar.xz").count - 1
        #expect(await feedFailure { _ = try await Self.read(dir.file("gnu.tar.xz"), limits: limits) } == .tooLarge)
        limits.maxArchiveBytes += 1
        #expect(try await Self.read(dir.file("gnu.tar.xz"), limits: limits).count == 5)
    }

    @Test func truncatedArchivesAreReportedAsTruncated() async throws {
        let dir = try ScratchDirectory()
        _ = try await Self.makeTree(dir)
        // The plain tar is cut inside its third block (its contents run well past it).
        for (name, keep) in [("gnu.tar", 1200), ("gnu.tar.xz", -2), ("gnu.tar.gz", -2)] {
            let data = try dir.data(name)
            try dir.write("cut-" + name, data.prefix(keep > 0 ? keep : data.count / -keep))
            #expect(await feedFailure { _ = try await Self.read(dir.file("cut-" + name)) } == .truncated, "\(name)")
        }
        // Cut exactly between entries: the missing end-of-archive block gives it away.
        let tar = try dir.data("gnu.tar")
        try dir.write("cut-at-header.tar", tar.prefix(512))
        #expect(await feedFailure { _ = try await Self.read(dir.file("cut-at-header.tar")) } == .truncated)
    }

    @Test func damagedArchivesAreReportedAsCorrupt() async throws {
        let dir = try ScratchDirectory()
        _ = try await Self.makeTree(dir)
        // A flipped byte in the first header's name: its checksum no longer adds up.
        var tar = try dir.data("gnu.tar")
        tar[1] ^= 0x01
        try dir.write("bad-header.tar", tar)
        #expect(await feedFailure { _ = try await Self.read(dir.file("bad-header.tar")) } == .corrupt)
        // Damaged xz data: xz's own integrity check fails.
        var xz = try dir.data("gnu.tar.xz")
        for offset in xz.count / 2 ..< xz.count / 2 + 8 { xz[offset] ^= 0xFF }
        try dir.write("bad.tar.xz", xz)
        #expect(await feedFailure { _ = try await Self.read(dir.file("bad.tar.xz")) } == .corrupt)
        // Not an archive at all.
        try dir.write("text.tar", Data(String(repeating: "not a tar file\n", count: 100).utf8))
        #expect(await feedFailure { _ = try await Self.read(dir.file("text.tar")) } == .corrupt)
    }
}
