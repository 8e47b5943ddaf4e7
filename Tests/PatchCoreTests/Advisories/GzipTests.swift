import Foundation
import Testing
@testable import PatchCore

/// gzip and zlib streams made by the system's gzip and python3's zlib, read back with bounds.
@Suite struct GzipTests {
    @Test func readsSeveralGzipMembersAsGzipWritesThem() async throws {
        let dir = try ScratchDirectory()
        try await dir.run("seq 1 20000 > a.txt; printf 'second member\\n' > b.txt; gzip -c a.txt > ab.gz; gzip -c b.txt >> ab.gz")
        let output = try Gzip.decompress(try dir.data("ab.gz"), limit: 1 << 20)
        #expect(output == (try dir.data("a.txt")) + (try dir.data("b.txt")))
    }

    @Test func readsAZlibStream() async throws {
        let dir = try ScratchDirectory()
        try await dir.run("/usr/bin/python3 -c 'import zlib,sys; sys.stdout.buffer.write(zlib.compress(b\"osv \" * 5000, 9))' > z.bin")
        #expect(try Gzip.decompress(try dir.data("z.bin"), limit: 1 << 20) == Data(String(repeating: "osv ", count: 5000).utf8))
    }

    @Test func refusesABombAtItsLimit() async throws {
        let dir = try ScratchDirectory()
        // 64 MiB of zeros gzip to about 64 KiB.
        try await dir.run("head -c 67108864 /dev/zero | gzip -9 -c > bomb.gz")
        let bomb = try dir.data("bomb.gz")
        #expect(bomb.count < 1 << 20)
        #expect(feedFailure { _ = try Gzip.decompress(bomb, limit: 4 << 20) } == .tooLarge)
        // The same stream within a sufficient limit is fine: the bound, not the data, refused it.
        #expect(try Gzip.decompress(bomb, limit: 64 << 20).count == 64 << 20)
    }

    @Test func truncatedStreamIsReportedAsTruncated() async throws {
        let dir = try ScratchDirectory()
        try await dir.run("seq 1 50000 | gzip -c > s.gz")
        let whole = try dir.data("s.gz")
        #expect(feedFailure { _ = try Gzip.decompress(whole.prefix(whole.count / 2), limit: 1 << 20) } == .truncated)
        #expect(feedFailure { _ = try Gzip.decompress(whole.prefix(whole.count - 4), limit: 1 << 20) } == .truncated)
        #expect(feedFailure { _ = try Gzip.decompress(Data(), limit: 1 << 20) } == .truncated)
    }

    @Test func damagedStreamIsReportedAsCorrupt() async throws {
        let dir = try ScratchDirectory()
        try await dir.run("seq 1 50000 | gzip -c > s.gz")
        var damaged = try dir.data("s.gz")
        for offset in stride(from: damaged.count / 2, to: damaged.count / 2 + 16, by: 1) { damaged[offset] ^= 0x5A }
        #expect(feedFailure { _ = try Gzip.decompress(damaged, limit: 1 << 20) } == .corrupt)
        // Trailing bytes that are not another member.
        let trailing = try dir.data("s.gz") + Data("garbage".utf8)
        #expect(feedFailure { _ = try Gzip.decompress(trailing, limit: 1 << 20) } == .corrupt)
        // Not compressed at all.
        #expect(feedFailure { _ = try Gzip.decompress(Data("{\"id\": 1}".utf8), limit: 1 << 20) } == .corrupt)
    }
}
