import Foundation

/// A zip archive read from its central directory (APPNOTE 6.3, ZIP64 included): stored and
/// deflate entries, each checked against its declared size and CRC-32. Entry names are only
/// labels here: nothing is ever written to disk, so `../` and absolute names need no defence.
public struct ZipArchive: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        /// 0 stored, 8 deflate; others are refused on extraction.
        public var method: UInt16
        public var flags: UInt16
        public var crc32: UInt32
        public var compressedSize: Int
        public var uncompressedSize: Int
        var localHeaderOffset: Int
        public var isDirectory: Bool { name.hasSuffix("/") }
    }

    public let source: String
    public let entries: [Entry]
    let limits: ArchiveLimits
    let data: Data

    /// Reads the archive at `path` (mapped, not copied) after checking its size.
    public init(path: String, limits: ArchiveLimits) throws {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        guard let size else { throw FeedReadError(source: path, reason: .io, message: "cannot read the file") }
        guard size <= limits.maxArchiveBytes else {
            throw FeedReadError(source: path, reason: .tooLarge, message: "\(size) bytes, more than the limit of \(limits.maxArchiveBytes)")
        }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw FeedReadError(source: path, reason: .io, message: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, source: path, limits: limits)
    }

    public init(data: Data, source: String, limits: ArchiveLimits) throws {
        // Data slices keep their parent's indices: work on offsets from 0.
        let data = data.startIndex == 0 ? data : Data(data)
        guard data.count <= limits.maxArchiveBytes else {
            throw FeedReadError(source: source, reason: .tooLarge, message: "\(data.count) bytes, more than the limit of \(limits.maxArchiveBytes)")
        }
        self.source = source
        self.limits = limits
        self.data = data
        self.entries = try Self.centralDirectory(data, source: source, limits: limits)
    }

    /// An entry's contents, inflated and verified. Throws `.tooLarge` when the entry declares more
    /// than `maxEntryBytes`, `.corrupt` on a CRC or size mismatch or bad deflate data.
    public func contents(of entry: Entry) throws -> Data {
        let where_ = source + ":" + entry.name
        func failure(_ reason: FeedReadError.Reason, _ message: String) -> FeedReadError {
            FeedReadError(source: where_, reason: reason, message: message)
        }
        guard entry.uncompressedSize <= limits.maxEntryBytes else {
            throw failure(.tooLarge, "declares \(entry.uncompressedSize) bytes, more than the limit of \(limits.maxEntryBytes)")
        }
        guard entry.flags & 1 == 0 else { throw failure(.unsupported, "encrypted entry") }
        // The local header repeats name and extra field with lengths of its own.
        let local = entry.localHeaderOffset
        guard local <= data.count - 30, data.u32(at: local) == 0x0403_4B50 else { throw failure(.corrupt, "no local header at offset \(local)") }
        let start = local + 30 + Int(data.u16(at: local + 26)) + Int(data.u16(at: local + 28))
        guard start <= data.count, entry.compressedSize <= data.count - start else { throw failure(.truncated, "entry data runs past the end of the archive") }
        let compressed = data[start ..< start + entry.compressedSize]
        var output = Data()
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else { throw failure(.corrupt, "stored entry with differing sizes") }
            output = Data(compressed)
        case 8:
            output.reserveCapacity(entry.uncompressedSize)
            // Bounded by the declared size: an entry inflating past what it declares is damaged (or a
            // bomb lying about its size) and is stopped there.
            do {
                _ = try Gzip.inflateRaw(Data(compressed), limit: entry.uncompressedSize, source: where_) { output.append(contentsOf: $0) }
            } catch let error as FeedReadError where error.reason == .tooLarge {
                throw failure(.corrupt, "inflates beyond the \(entry.uncompressedSize) bytes it declares")
            }
        default:
            throw failure(.unsupported, "compression method \(entry.method) (only stored and deflate are read)")
        }
        guard output.count == entry.uncompressedSize else {
            throw failure(.corrupt, "inflates to \(output.count) bytes, the directory says \(entry.uncompressedSize)")
        }
        guard Gzip.crc32(output) == entry.crc32 else { throw failure(.corrupt, "CRC-32 mismatch") }
        return output
    }

    /// Calls `body` with each file entry (not directories) that `wanted` accepts, in directory
    /// order, keeping the sum of their sizes within `maxTotalBytes`.
    public func forEachFile(where wanted: (Entry) -> Bool = { _ in true }, _ body: (Entry, Data) throws -> Void) throws {
        var total = 0
        for entry in entries where !entry.isDirectory && wanted(entry) {
            guard entry.uncompressedSize <= limits.maxTotalBytes - total else {
                throw FeedReadError(source: source, reason: .tooLarge, message: "entries decompress to more than \(limits.maxTotalBytes) bytes together")
            }
            total += entry.uncompressedSize
            try body(entry, try contents(of: entry))
        }
    }

    // MARK: Central directory

    static func centralDirectory(_ data: Data, source: String, limits: ArchiveLimits) throws -> [Entry] {
        func failure(_ reason: FeedReadError.Reason, _ message: String) -> FeedReadError {
            FeedReadError(source: source, reason: reason, message: message)
        }
        // The end record is the last 22 bytes plus a comment of up to 64 KiB: search backwards.
        guard data.count >= 22 else { throw failure(.truncated, "too short for a zip archive (\(data.count) bytes)") }
        var end = -1
        var candidate = data.count - 22
        while candidate >= max(0, data.count - 22 - 0xFFFF) {
            if data.u32(at: candidate) == 0x0605_4B50 { end = candidate; break }
            candidate -= 1
        }
        guard end >= 0 else { throw failure(.truncated, "no end of central directory record (truncated, or not a zip archive)") }
        guard data.u16(at: end + 4) == 0, data.u16(at: end + 6) == 0 || data.u16(at: end + 6) == 0xFFFF else {
            throw failure(.unsupported, "multi-disk archive")
        }
        var count = Int(data.u16(at: end + 10))
        var directorySize = Int(data.u32(at: end + 12))
        var directoryOffset = Int(data.u32(at: end + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the end record points at the 64-bit end record.
            let locator = end - 20
            guard locator >= 0, data.u32(at: locator) == 0x0706_4B50 else { throw failure(.corrupt, "ZIP64 sizes without a ZIP64 locator") }
            let record = data.u64(at: locator + 8)
            guard record < UInt64(locator), Int(record) + 56 <= data.count, data.u32(at: Int(record)) == 0x0606_4B50 else {
                throw failure(.corrupt, "ZIP64 end record missing")
            }
            let at = Int(record)
            guard data.u64(at: at + 32) <= UInt64(Int.max), data.u64(at: at + 40) <= UInt64(Int.max), data.u64(at: at + 48) <= UInt64(Int.max) else {
                throw failure(.corrupt, "ZIP64 end record out of range")
            }
            count = Int(data.u64(at: at + 32))
            directorySize = Int(data.u64(at: at + 40))
            directoryOffset = Int(data.u64(at: at + 48))
        }
        guard count <= limits.maxEntries else {
            throw failure(.tooLarge, "\(count) entries, more than the limit of \(limits.maxEntries)")
        }
        guard directoryOffset <= data.count, directorySize <= data.count - directoryOffset else {
            throw failure(.truncated, "central directory runs past the end of the archive")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var at = directoryOffset
        let directoryEnd = directoryOffset + directorySize
        for index in 0 ..< count {
            guard at + 46 <= directoryEnd, data.u32(at: at) == 0x0201_4B50 else {
                throw failure(.corrupt, "central directory entry \(index + 1) of \(count) is damaged")
            }
            let nameLength = Int(data.u16(at: at + 28)), extraLength = Int(data.u16(at: at + 30)), commentLength = Int(data.u16(at: at + 32))
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= directoryEnd else { throw failure(.corrupt, "central directory entry \(index + 1) runs past the directory") }
            let name = String(decoding: data[at + 46 ..< at + 46 + nameLength], as: UTF8.self)
            var compressed = Int(data.u32(at: at + 20)), uncompressed = Int(data.u32(at: at + 24)), offset = Int(data.u32(at: at + 42))
            // ZIP64 extra field (0x0001): the 64-bit values, in this order, of those that are 0xFFFFFFFF.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = data.u16(at: extra), size = Int(data.u16(at: extra + 2))
                guard extra + 4 + size <= extraEnd else { break }
                if id == 0x0001 {
                    var field = extra + 4
                    func next64() throws -> Int {
                        guard field + 8 <= extra + 4 + size, data.u64(at: field) <= UInt64(Int.max) else {
                            throw failure(.corrupt, "ZIP64 extra field of \(name) is damaged")
                        }
                        defer { field += 8 }
                        return Int(data.u64(at: field))
                    }
                    if uncompressed == 0xFFFF_FFFF { uncompressed = try next64() }
                    if compressed == 0xFFFF_FFFF { compressed = try next64() }
                    if offset == 0xFFFF_FFFF { offset = try next64() }
                }
                extra += 4 + size
            }
            entries.append(Entry(name: name, method: data.u16(at: at + 10), flags: data.u16(at: at + 8), crc32: data.u32(at: at + 16),
                                 compressedSize: compressed, uncompressedSize: uncompressed, localHeaderOffset: offset))
            at = next
        }
        return entries
    }
}

fileprivate extension Data {
    /// Little-endian fields at a 0-based offset (callers check bounds; Data indices start at 0 here).
    func u16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func u32(at offset: Int) -> UInt32 {
        UInt32(u16(at: offset)) | UInt32(u16(at: offset + 2)) << 16
    }

    func u64(at offset: Int) -> UInt64 {
        UInt64(u32(at: offset)) | UInt64(u32(at: offset + 4)) << 32
    }
}
