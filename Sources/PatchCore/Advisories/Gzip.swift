import CZlib
import Foundation

/// gzip and zlib streams (the system's zlib), decompressed with a bound on the output: a feed that
/// inflates beyond it is refused as a bomb before it is held in memory.
public enum Gzip {
    /// Decompresses a gzip (possibly several concatenated members, as `cat a.gz b.gz` makes) or
    /// zlib stream. Throws `FeedReadError` `.tooLarge` past `limit` bytes of output, `.truncated`
    /// when the stream stops early, `.corrupt` for damaged data or trailing garbage.
    /// `source` (the file or URL) names the data in errors.
    public static func decompress(_ data: Data, limit: Int, source: String = "gzip stream") throws -> Data {
        var output = Data()
        try decompress(data, limit: limit, source: source) { output.append(contentsOf: $0) }
        return output
    }

    /// The streaming form: each decompressed chunk goes to `sink` (a tar reader, say) as it comes,
    /// so only one chunk is held at a time. Returns the total decompressed size.
    @discardableResult
    static func decompress(_ data: Data, limit: Int, source: String,
                           sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        // 15 + 32: a 32 KiB window, with zlib detecting the gzip or zlib header itself.
        try Inflater.run(data, windowBits: 15 + 32, multiMember: true, limit: limit, source: source, sink: sink)
    }

    /// Raw deflate (no header or trailer), as in zip entries.
    static func inflateRaw(_ data: Data, limit: Int, source: String,
                           sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        try Inflater.run(data, windowBits: -15, multiMember: false, limit: limit, source: source, sink: sink)
    }

    /// zlib's CRC-32 (the one gzip and zip use).
    static func crc32(_ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw -> UInt32 in
            guard var base = raw.bindMemory(to: Bytef.self).baseAddress else { return 0 }
            var crc: uLong = CZlib.crc32(0, nil, 0)
            var left = raw.count
            while left > 0 {
                let n = min(left, 1 << 30)
                crc = CZlib.crc32(crc, base, uInt(n))
                base += n
                left -= n
            }
            return UInt32(truncatingIfNeeded: crc)
        }
    }
}

/// One inflate loop for the three framings (gzip/zlib with autodetection, raw deflate).
enum Inflater {
    static let chunkSize = 64 << 10

    static func run(_ data: Data, windowBits: Int32, multiMember: Bool, limit: Int, source: String,
                    sink: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
        func failure(_ reason: FeedReadError.Reason, _ message: String) -> FeedReadError {
            FeedReadError(source: source, reason: reason, message: message)
        }
        guard !data.isEmpty else { throw failure(.truncated, "empty compressed stream") }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in
            guard let base = raw.bindMemory(to: Bytef.self).baseAddress else { throw failure(.truncated, "empty compressed stream") }
            var stream = z_stream()
            guard czlib_inflateInit2(&stream, windowBits) == Z_OK else { throw failure(.io, "zlib could not start") }
            defer { inflateEnd(&stream) }
            let output = UnsafeMutablePointer<Bytef>.allocate(capacity: chunkSize)
            defer { output.deallocate() }
            // zlib counts input in 32 bits: hand it over in slices.
            var handedOver = 0
            var produced = 0
            while true {
                if stream.avail_in == 0, handedOver < raw.count {
                    let n = min(raw.count - handedOver, 1 << 30)
                    stream.next_in = UnsafeMutablePointer(mutating: base + handedOver)
                    stream.avail_in = uInt(n)
                    handedOver += n
                }
                stream.next_out = output
                stream.avail_out = uInt(chunkSize)
                let status = inflate(&stream, Z_NO_FLUSH)
                let count = chunkSize - Int(stream.avail_out)
                if count > 0 {
                    produced += count
                    if produced > limit {
                        throw failure(.tooLarge, "decompresses to more than \(limit) bytes (a compression bomb or a limit set too low)")
                    }
                    try sink(UnsafeRawBufferPointer(start: output, count: count))
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    let position = handedOver - Int(stream.avail_in)
                    guard multiMember, position < raw.count else { return produced }
                    let rest = raw[position...]
                    // Zero padding after the last member (tape blocks) is harmless; anything else must be another member.
                    if rest.allSatisfy({ $0 == 0 }) { return produced }
                    guard rest.count >= 2, rest[position] == 0x1F, rest[position + 1] == 0x8B else {
                        throw failure(.corrupt, "\(rest.count) bytes of trailing data after the compressed stream")
                    }
                    guard inflateReset(&stream) == Z_OK else { throw failure(.io, "zlib could not restart") }
                case Z_BUF_ERROR where stream.avail_in == 0 && handedOver == raw.count:
                    throw failure(.truncated, "compressed stream ends early (after \(raw.count) bytes, \(produced) decompressed)")
                case Z_MEM_ERROR:
                    throw failure(.io, "zlib ran out of memory")
                default:
                    let detail = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw failure(.corrupt, "invalid compressed data (\(detail))")
                }
            }
        }
    }
}
