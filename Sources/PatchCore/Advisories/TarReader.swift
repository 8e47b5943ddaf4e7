import Foundation

/// The tar stream parser behind `TarArchive`: fed decompressed bytes in any chunking, it hands
/// each wanted regular file to `body` when its last byte arrives.
struct TarReader: Sendable {
    let source: String
    let limits: ArchiveLimits
    let wanted: @Sendable (String) -> Bool
    let body: @Sendable (String, Data) throws -> Void

    /// What the bytes after a header are.
    enum Content: Sendable {
        case file(String)
        case paxHeader
        case longName
        case skipped
    }

    enum State: Sendable {
        case header
        case content(Content, remaining: Int, padding: Int)
        case padding(Int)
        case ended
    }

    /// Bounds on the metadata entries kept in memory (pax records, GNU long names).
    static let maxMetadataBytes = 1 << 20

    var state = State.header
    var header: [UInt8] = []
    var kept = Data()
    var entries = 0
    /// A name set by the preceding GNU `L` entry or pax `path` record, for the next header only.
    var nextName: String?
    /// Bytes consumed so far, for messages.
    var offset = 0

    init(source: String, limits: ArchiveLimits, wanted: @escaping @Sendable (String) -> Bool,
         body: @escaping @Sendable (String, Data) throws -> Void) {
        self.source = source
        self.limits = limits
        self.wanted = wanted
        self.body = body
        header.reserveCapacity(512)
    }

    func failure(_ reason: FeedReadError.Reason, _ message: String) -> FeedReadError {
        FeedReadError(source: source, reason: reason, message: message)
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer) throws {
        var index = 0
        while index < bytes.count {
            switch state {
            case .ended:
                // Whatever follows the end-of-archive block (more zero blocks, tape padding) is not read.
                return
            case .header:
                let take = min(512 - header.count, bytes.count - index)
                header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index ..< index + take]))
                index += take
                if header.count == 512 {
                    try parseHeader()
                    header.removeAll(keepingCapacity: true)
                    offset += 512
                }
            case let .content(content, remaining, padding):
                let take = min(remaining, bytes.count - index)
                if case .skipped = content {} else {
                    kept.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index ..< index + take]))
                }
                index += take
                offset += take
                if take == remaining {
                    try complete(content)
                    state = padding > 0 ? .padding(padding) : .header
                } else {
                    state = .content(content, remaining: remaining - take, padding: padding)
                }
            case let .padding(left):
                let take = min(left, bytes.count - index)
                index += take
                offset += take
                state = take == left ? .header : .padding(left - take)
            }
        }
    }

    /// Called at the end of the stream: anything but a seen end-of-archive block is truncation.
    mutating func finish() throws {
        switch state {
        case .ended: return
        case .header where header.isEmpty:
            throw failure(.truncated, "ends after \(offset) bytes without the end-of-archive block")
        case .header:
            throw failure(.truncated, "ends inside a header at byte \(offset)")
        case let .content(content, remaining, _):
            let name = if case let .file(name) = content { " \(name)" } else { "" }
            throw failure(.truncated, "ends inside entry\(name), \(remaining) bytes short")
        case .padding:
            throw failure(.truncated, "ends inside an entry's padding at byte \(offset)")
        }
    }

    mutating func parseHeader() throws {
        if header.allSatisfy({ $0 == 0 }) {
            state = .ended
            return
        }
        // The checksum is the byte sum of the header with its own field read as spaces.
        let stored = try octal(148, 8, what: "checksum")
        let sum = header.enumerated().reduce(0) { $0 + ((148 ..< 156).contains($1.offset) ? 32 : Int($1.element)) }
        guard stored == sum else { throw failure(.corrupt, "header checksum mismatch at byte \(offset) (not a tar archive, or damaged)") }
        let size = try entrySize()
        entries += 1
        guard entries <= limits.maxEntries else { throw failure(.tooLarge, "more than \(limits.maxEntries) entries") }
        var name = string(0, 100)
        if header[257 ..< 262].elementsEqual("ustar".utf8) {
            let prefix = string(345, 155)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        let type = header[156]
        let content: Content
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "L"):
            guard size <= Self.maxMetadataBytes else { throw failure(.tooLarge, "a \(size)-byte metadata entry at byte \(offset)") }
            content = type == UInt8(ascii: "x") ? .paxHeader : .longName
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
            if let long = nextName { name = long }
            nextName = nil
            if wanted(name) {
                guard size <= limits.maxEntryBytes else {
                    throw failure(.tooLarge, "entry \(name) is \(size) bytes, more than the limit of \(limits.maxEntryBytes)")
                }
                content = .file(name)
            } else {
                content = .skipped
            }
        default:
            // Directories, links, devices, global pax headers: nothing to read, but their data is skipped.
            nextName = nil
            content = .skipped
        }
        kept.removeAll(keepingCapacity: true)
        let padding = (512 - size % 512) % 512
        if size == 0 {
            try complete(content)
            state = .header
        } else {
            state = .content(content, remaining: size, padding: padding)
        }
    }

    mutating func complete(_ content: Content) throws {
        switch content {
        case let .file(name):
            try body(name, kept)
        case .longName:
            nextName = String(decoding: kept.prefix { $0 != 0 }, as: UTF8.self)
        case .paxHeader:
            if let path = try paxPath(kept) { nextName = path }
        case .skipped:
            break
        }
        kept.removeAll(keepingCapacity: true)
    }

    /// pax extended header records: "<length> <key>=<value>\n"; only `path` matters here.
    func paxPath(_ data: Data) throws -> String? {
        let bytes = [UInt8](data)
        var at = 0
        var path: String?
        while at < bytes.count {
            guard let space = bytes[at...].firstIndex(of: UInt8(ascii: " ")),
                  let length = Int(String(decoding: bytes[at ..< space], as: UTF8.self)), length >= space - at + 2, length <= bytes.count - at,
                  bytes[at + length - 1] == UInt8(ascii: "\n") else {
                throw failure(.corrupt, "malformed pax header record at byte \(offset)")
            }
            let record = bytes[(space + 1) ..< (at + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")), String(decoding: record[record.startIndex ..< equals], as: UTF8.self) == "path" {
                path = String(decoding: record[(equals + 1)...], as: UTF8.self)
            }
            at += length
        }
        return path
    }

    func string(_ start: Int, _ length: Int) -> String {
        String(decoding: header[start ..< start + length].prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field: optional leading spaces, digits, then NUL or space.
    func octal(_ start: Int, _ length: Int, what: String) throws -> Int {
        var value = 0
        var digits = 0
        for byte in header[start ..< start + length] {
            if byte == 0 || (byte == 32 && digits > 0) { break }
            if byte == 32 { continue }
            guard (48 ... 55).contains(byte), value < Int.max >> 4 else {
                throw failure(.corrupt, "invalid \(what) field in the header at byte \(offset)")
            }
            value = value * 8 + Int(byte - 48)
            digits += 1
        }
        return value
    }

    /// The size field: octal, or GNU's base-256 when its first byte has the high bit set.
    func entrySize() throws -> Int {
        guard header[124] & 0x80 != 0 else { return try octal(124, 12, what: "size") }
        guard header[124] == 0x80, header[125 ..< 128].allSatisfy({ $0 == 0 }) else {
            throw failure(.tooLarge, "an entry size beyond 2^63 at byte \(offset)")
        }
        return header[128 ..< 136].reduce(0) { $0 << 8 | Int($1) } & Int.max
    }
}
