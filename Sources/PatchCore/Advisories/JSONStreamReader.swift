import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pull reader of one JSON document, a chunk at a time: the Debian tracker JSON is ~70 MB and
/// parsing it whole (JSONSerialization) holds the bytes and a tree of every object at once. The
/// caller walks the objects it knows (`beginObject`/`nextKey`) and skips the rest (`skipValue`),
/// which allocates nothing. Nesting is bounded by `maxDepth`; input by what the caller opened.
final class JSONStreamReader {
    private let descriptor: Int32?
    private var buffer: [UInt8]
    private var index = 0
    private var end: Int
    /// Bytes of the input before `buffer[0]`, for error offsets.
    private var base = 0
    private var atEOF: Bool
    private let maxDepth: Int
    /// Per open object: whether a member was read (the next needs a comma).
    private var members: [Bool] = []
    private var scratch: [UInt8] = []

    init(path: String, maxDepth: Int, chunkSize: Int = 1 << 20) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FeedFormatError("cannot open \(path): \(String(cString: strerror(errno)))") }
        descriptor = fd
        buffer = [UInt8](repeating: 0, count: chunkSize)
        end = 0
        atEOF = false
        self.maxDepth = maxDepth
    }

    init(bytes: [UInt8], maxDepth: Int) {
        descriptor = nil
        buffer = bytes
        end = bytes.count
        atEOF = true
        self.maxDepth = maxDepth
    }

    deinit {
        if let descriptor { close(descriptor) }
    }

    var offset: Int { base + index }

    private func fail(_ message: String) -> FeedFormatError {
        FeedFormatError(message, offset: offset)
    }

    /// Refills the buffer; false at the end of the input.
    private func refill() throws -> Bool {
        guard !atEOF, let descriptor else { return false }
        base += end
        index = 0
        end = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw fail("read failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { atEOF = true; return false }
            end = count
            return true
        }
    }

    @inline(__always)
    private func peekRaw() throws -> UInt8? {
        if index == end, try !refill() { return nil }
        return buffer[index]
    }

    @inline(__always)
    private func nextRaw() throws -> UInt8 {
        if index == end, try !refill() { throw fail("unexpected end of input (truncated?)") }
        let byte = buffer[index]
        index += 1
        return byte
    }

    /// The next byte that is not whitespace, not consumed; nil at the end of the input.
    private func peek() throws -> UInt8? {
        while let byte = try peekRaw() {
            switch byte {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return byte
            }
        }
        return nil
    }

    private func expect(_ byte: UInt8, _ what: String) throws {
        guard let found = try peek() else { throw fail("unexpected end of input (truncated?), expected \(what)") }
        guard found == byte else { throw fail("expected \(what), found '\(Self.show(found))'") }
        index += 1
    }

    private static func show(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? String(UnicodeScalar(byte)) : String(format: "\\x%02x", byte)
    }

    /// Whether the next value is an object (nothing consumed).
    func nextIsObject() throws -> Bool { try peek() == UInt8(ascii: "{") }

    func beginObject() throws {
        try expect(UInt8(ascii: "{"), "an object")
        guard members.count < maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
        members.append(false)
    }

    /// The next member's key (its colon consumed), or nil when the object ends (its `}` consumed).
    func nextKey() throws -> String? {
        guard let more = members.last else { throw fail("nextKey outside an object") }
        guard let byte = try peek() else { throw fail("unexpected end of input (truncated?) inside an object") }
        if byte == UInt8(ascii: "}") {
            index += 1
            members.removeLast()
            return nil
        }
        if more { try expect(UInt8(ascii: ","), "',' or '}'") }
        let key = try readString()
        try expect(UInt8(ascii: ":"), "':'")
        members[members.count - 1] = true
        return key
    }

    func readString() throws -> String {
        try expect(UInt8(ascii: "\""), "a string")
        scratch.removeAll(keepingCapacity: true)
        try scanString(into: true)
        return String(decoding: scratch, as: UTF8.self)
    }

    /// The value if it is a string, else nil (the value skipped).
    func readStringValue() throws -> String? {
        if try peek() == UInt8(ascii: "\"") { return try readString() }
        try skipValue()
        return nil
    }

    /// Reads a string's body after its opening quote, keeping it in `scratch` when `keep`.
    private func scanString(into keep: Bool) throws {
        while true {
            let byte = try nextRaw()
            switch byte {
            case UInt8(ascii: "\""):
                return
            case UInt8(ascii: "\\"):
                let escaped = try nextRaw()
                let decoded: UInt8
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded = escaped
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A surrogate pair; a lone half becomes U+FFFD.
                        if try nextRaw() == UInt8(ascii: "\\"), try nextRaw() == UInt8(ascii: "u") {
                            let low = try hex4()
                            scalar = (0xDC00..<0xE000).contains(low) ? 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
                        } else {
                            throw fail("invalid \\u escape (lone surrogate)")
                        }
                    } else if (0xDC00..<0xE000).contains(scalar) {
                        scalar = 0xFFFD
                    }
                    if keep { scratch.append(contentsOf: String(UnicodeScalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8) }
                    continue
                default:
                    throw fail("invalid escape '\\\(Self.show(escaped))'")
                }
                if keep { scratch.append(decoded) }
            case 0..<0x20:
                throw fail("control character in a string")
            default:
                if keep { scratch.append(byte) }
            }
        }
    }

    private func hex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = try nextRaw()
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Skips one value of any kind, checking its syntax and its depth (no recursion: a deep
    /// document cannot exhaust the stack).
    func skipValue() throws {
        // What each open container is, and whether it has a member yet.
        var stack: [(object: Bool, more: Bool)] = []
        repeat {
            guard let byte = try peek() else { throw fail("unexpected end of input (truncated?)") }
            if var top = stack.last {
                let close = UInt8(ascii: top.object ? "}" : "]")
                if byte == close {
                    index += 1
                    stack.removeLast()
                    continue
                }
                if top.more { try expect(UInt8(ascii: ","), "',' or '\(Self.show(close))'") }
                if top.object {
                    try expect(UInt8(ascii: "\""), "a key")
                    try scanString(into: false)
                    try expect(UInt8(ascii: ":"), "':'")
                }
                top.more = true
                stack[stack.count - 1] = top
            }
            guard let first = try peek() else { throw fail("unexpected end of input (truncated?)") }
            switch first {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                index += 1
                guard members.count + stack.count < maxDepth else { throw fail("nested deeper than \(maxDepth) levels") }
                stack.append((first == UInt8(ascii: "{"), false))
            case UInt8(ascii: "\""):
                index += 1
                try scanString(into: false)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try skipWord(allowed: "0123456789+-.eE")
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                let word = try skipWord(allowed: "truefalsn")
                guard ["true", "false", "null"].contains(word) else { throw fail("invalid literal '\(word)'") }
            default:
                throw fail("unexpected '\(Self.show(first))'")
            }
        } while !stack.isEmpty
    }

    @discardableResult
    private func skipWord(allowed: StaticString) throws -> String {
        var word: [UInt8] = []
        let set = allowed.withUTF8Buffer { Set($0) }
        while let byte = try peekRaw(), set.contains(byte) {
            word.append(byte)
            index += 1
            guard word.count <= 64 else { throw fail("literal too long") }
        }
        return String(decoding: word, as: UTF8.self)
    }

    /// After the document: nothing but whitespace may follow.
    func finish() throws {
        if let byte = try peek() { throw fail("unexpected '\(Self.show(byte))' after the document") }
    }
}
