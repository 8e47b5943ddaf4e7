import Foundation

/// A value whose pretty JSON `PrettyJSONWriter` writes member by member, and its arrays element by
/// element: a report of 10,000 hosts goes out host by host instead of as one encoded tree.
/// Only keyed encodings (a struct's members) are supported.
protocol StreamedJSON: Encodable {}

/// Writes pretty JSON piece by piece, byte for byte as `JSONOutput.encode(_:pretty: true)` prints the
/// whole value: the same encoder encodes every piece that is not streamed, re-indented to its depth.
struct PrettyJSONWriter {
    /// One for every writer: a large array's elements are each written by a writer of their own,
    /// on several threads (the encoder keeps no state between values).
    private static let encoder = JSONOutput.encoder(pretty: true)
    private let output: (String) throws -> Void

    init(_ output: @escaping (String) throws -> Void) {
        self.output = output
    }

    func write(_ value: any Encodable, depth: Int = 0) throws {
        // Scalars and the report's bulk (its findings) are written directly; the encoder's per-value cost
        // would be most of a large report's time.
        if (value as? any OptionalValue)?.isNone == true {
            try output("null")
        } else if let text = value as? String {
            try output(Self.quoted(text))
        } else if let flag = value as? Bool {
            try output(flag ? "true" : "false")
        } else if let number = value as? Int {
            try output(String(number))
        } else if let written = value as? any PrettyJSONText {
            try output(written.prettyJSON(depth: depth))
        } else if let array = value as? any EncodableArray {
            try writeArray(array, depth: depth)
        } else if let batched = value as? any BatchedJSONArray {
            try writeBatches(batched, depth: depth)
        } else if let streamed = value as? any StreamedJSON {
            // The cast looks through an Optional: a present member is written as itself.
            try writeObject(try MemberCollector.members(of: streamed), depth: depth)
        } else {
            try output(Self.indented(try Self.encoder.encode(value), depth: depth))
        }
    }

    private func writeArray(_ array: any EncodableArray, depth: Int) throws {
        let count = array.elementCount
        guard count > 0 else { return try output("[\n\n" + Self.indent(depth) + "]") }
        try output("[\n")
        if count > ParallelText.chunk {
            // A fleet's hosts or patches: made on every core, in order. Nothing changes the report while it is written.
            let elements = Unshared(array)
            try ParallelText.render(count: count, piece: { index in
                var text = Self.indent(depth + 1)
                try PrettyJSONWriter { text += $0 }.write(elements.value.encodable(at: index), depth: depth + 1)
                return text + (index == count - 1 ? "\n" : ",\n")
            }, output: output)
            return try output(Self.indent(depth) + "]")
        }
        var index = 0
        try array.forEachEncodable { element in
            try output(Self.indent(depth + 1))
            try write(element, depth: depth + 1)
            index += 1
            try output(index == count ? "\n" : ",\n")
        }
        try output(Self.indent(depth) + "]")
    }

    /// An array written a batch at a time as `BatchedJSONArray` reads them, each batch's elements made on every core.
    private func writeBatches(_ array: any BatchedJSONArray, depth: Int) throws {
        var written = 0
        try array.forEachBatch { batch in
            let first = written
            // A batch is a few hundred elements: split among the cores, not made by one.
            let chunk = max(16, batch.count / (2 * ProcessInfo.processInfo.activeProcessorCount) + 1)
            try ParallelText.render(count: batch.count, chunk: chunk, piece: { [batch] index in
                // The separator before each element: how many follow is not known until the last batch.
                var text = (first + index == 0 ? "[\n" : ",\n") + Self.indent(depth + 1)
                try PrettyJSONWriter { text += $0 }.write(batch[index], depth: depth + 1)
                return text
            }, output: output)
            written += batch.count
        }
        try output(written == 0 ? "[\n\n" + Self.indent(depth) + "]" : "\n" + Self.indent(depth) + "]")
    }

    private func writeObject(_ members: [(key: String, value: any Encodable)], depth: Int) throws {
        guard !members.isEmpty else { return try output("{\n\n" + Self.indent(depth) + "}") }
        try output("{\n")
        // As the encoder's sortedKeys orders them.
        let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (index, member) in sorted.enumerated() {
            try output(Self.indent(depth + 1) + Self.quoted(member.key) + " : ")
            try write(member.value, depth: depth + 1)
            try output(index == sorted.count - 1 ? "\n" : ",\n")
        }
        try output(Self.indent(depth) + "}")
    }

    /// The encoder's indentation: two spaces a level (made once per level: a report asks for it millions of times).
    static func indent(_ depth: Int) -> String { depth < indents.count ? indents[depth] : String(repeating: "  ", count: depth) }

    private static let indents = (0..<32).map { String(repeating: "  ", count: $0) }

    /// A JSON string as the encoder writes it: quote, backslash and control characters escaped
    /// (`\n`, `\u001b`), slashes and everything else as they are.
    static func quoted(_ text: String) -> String {
        // Most values (names, versions, times) need no escape: no byte-by-byte copy for them.
        if !needsEscape(text) {
            return "\"" + text + "\""
        }
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(text.utf8.count + 2)
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x00..<0x20: bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A quote, backslash or control character: `quoted` must escape it.
    static func needsEscape(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    /// The encoder's text for a value at `depth`: every line after the first indented, blank ones left blank.
    /// JSON strings hold no raw newline, so every newline is the encoder's own layout.
    static func indented(_ json: Data, depth: Int) -> String {
        guard depth > 0 else { return String(decoding: json, as: UTF8.self) }
        let newline = UInt8(ascii: "\n"), space = UInt8(ascii: " ")
        var bytes: [UInt8] = []
        bytes.reserveCapacity(json.count + json.count / 4)
        json.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
            var afterNewline = false
            for byte in source {
                if afterNewline && byte != newline { bytes.append(contentsOf: repeatElement(space, count: 2 * depth)) }
                bytes.append(byte)
                afterNewline = byte == newline
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A value that writes its own pretty JSON, exactly as the encoder would lay it out at `depth`
/// (keys sorted): for the many small objects of a large report.
protocol PrettyJSONText: Encodable {
    func prettyJSON(depth: Int) -> String
}

/// Builds one object for `PrettyJSONText`, member by member, given in sorted key order. Bytes, not a
/// String: a large report appends a few million members, and a String's append (its checks and its
/// growth from a few bytes) was most of writing one.
struct PrettyJSONObject {
    private var bytes: [UInt8] = []
    private let depth: Int
    private var first = true

    init(depth: Int) {
        self.depth = depth
        // A finding's object is about 700 bytes: one allocation for most objects.
        bytes.reserveCapacity(1024)
        bytes.append(contentsOf: "{\n".utf8)
    }

    /// Member names are this program's own (`snake_case` literals): none needs an escape.
    private mutating func key(_ key: String) {
        assert(!PrettyJSONWriter.needsEscape(key), "a member name that needs an escape: \(key)")
        if first {
            bytes.append(contentsOf: Self.indent(depth + 1))
        } else {
            bytes.append(contentsOf: Self.separator(depth + 1))
        }
        first = false
        bytes.append(Self.quote)
        bytes.append(contentsOf: key.utf8)
        bytes.append(contentsOf: Self.colon)
    }

    private static let quote = UInt8(ascii: "\"")
    private static let colon = Array("\" : ".utf8)
    private static let null = Array("null".utf8)

    /// The indent of `depth` (`PrettyJSONWriter.indent`), as bytes.
    private static func indent(_ depth: Int) -> [UInt8] {
        depth < indents.count ? indents[depth] : Array(PrettyJSONWriter.indent(depth).utf8)
    }

    private static let indents = (0..<32).map { Array(PrettyJSONWriter.indent($0).utf8) }

    /// `,` and a newline, then the indent of `depth`: what comes before every member but the first.
    private static func separator(_ depth: Int) -> [UInt8] {
        depth < separators.count ? separators[depth] : Array(",\n".utf8) + indent(depth)
    }

    private static let separators = (0..<32).map { Array(",\n".utf8) + indent($0) }

    /// `PrettyJSONWriter.quoted(value)` appended in place: most need no escape, and no string is made for them.
    private mutating func quoted(_ value: String) {
        if PrettyJSONWriter.needsEscape(value) {
            bytes.append(contentsOf: PrettyJSONWriter.quoted(value).utf8)
        } else {
            bytes.append(Self.quote)
            bytes.append(contentsOf: value.utf8)
            bytes.append(Self.quote)
        }
    }

    mutating func add(_ name: String, _ value: String?) {
        key(name)
        if let value { quoted(value) } else { bytes.append(contentsOf: Self.null) }
    }

    mutating func add(_ name: String, _ value: (some BinaryInteger)?) {
        key(name)
        if let value { bytes.append(contentsOf: String(value).utf8) } else { bytes.append(contentsOf: Self.null) }
    }

    /// A finite number as the encoder prints it: its shortest form, without a trailing `.0`.
    mutating func add(_ name: String, _ value: Double) {
        key(name)
        let text = value.description
        bytes.append(contentsOf: (text.hasSuffix(".0") ? String(text.dropLast(2)) : text).utf8)
    }

    mutating func add(_ name: String, _ value: Bool) {
        key(name)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    mutating func add(_ name: String, _ value: Date?) {
        key(name)
        guard let value else { return bytes.append(contentsOf: Self.null) }
        bytes.append(Self.quote)
        Timestamp.append(value, to: &bytes)
        bytes.append(Self.quote)
    }

    mutating func add(_ name: String, _ values: [String]) {
        key(name)
        if values.isEmpty {
            bytes.append(contentsOf: "[\n\n".utf8)
        } else {
            bytes.append(contentsOf: "[\n".utf8)
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(contentsOf: ",\n".utf8) }
                bytes.append(contentsOf: Self.indent(depth + 2))
                quoted(value)
            }
            bytes.append(UInt8(ascii: "\n"))
        }
        bytes.append(contentsOf: Self.indent(depth + 1))
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func finished() -> String {
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: Self.indent(depth))
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Lets the writer tell a missing optional member (`null`) from a present one.
private protocol OptionalValue {
    var isNone: Bool { get }
}

extension Optional: OptionalValue {
    fileprivate var isNone: Bool { self == nil }
}

/// An array whose elements the writer takes one by one, each boxed only while it is written: a
/// copy of a large report's arrays as `[any Encodable]` would box every element at once.
private protocol EncodableArray {
    var elementCount: Int { get }
    func forEachEncodable(_ body: (any Encodable) throws -> Void) throws
    func encodable(at index: Int) -> any Encodable
}

extension Array: EncodableArray where Element: Encodable {
    fileprivate var elementCount: Int { count }

    fileprivate func forEachEncodable(_ body: (any Encodable) throws -> Void) throws {
        for element in self { try body(element) }
    }

    fileprivate func encodable(at index: Int) -> any Encodable { self[index] }
}

/// An array read while it is written (a run's hosts, from history), a batch at a time: never held whole.
/// Its `encode(to:)` is the whole array's, for encoders other than `PrettyJSONWriter`.
protocol BatchedJSONArray: Encodable {
    func forEachBatch(_ body: ([any Encodable & Sendable]) throws -> Void) throws
}

/// Collects the members a value's `encode(to:)` gives its keyed container, unencoded.
private final class MemberCollector: Encoder {
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]
    var members: [(key: String, value: any Encodable)] = []

    static func members(of value: any Encodable) throws -> [(key: String, value: any Encodable)] {
        let collector = MemberCollector()
        try value.encode(to: collector)
        return collector.members
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Container<Key>(collector: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        preconditionFailure("a StreamedJSON value encodes its members by key")
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        preconditionFailure("a StreamedJSON value encodes its members by key")
    }

    struct Container<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let collector: MemberCollector
        var codingPath: [any CodingKey] { [] }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encodeNil(forKey key: Key) throws { collector.members.append((key.stringValue, String?.none)) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: String, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Double, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Float, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Int, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Int8, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Int16, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: UInt, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: UInt8, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: UInt16, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: UInt32, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }
        mutating func encode(_ value: UInt64, forKey key: Key) throws { collector.members.append((key.stringValue, value)) }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            preconditionFailure("a StreamedJSON value encodes whole members")
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            preconditionFailure("a StreamedJSON value encodes whole members")
        }

        mutating func superEncoder() -> any Encoder { preconditionFailure("a StreamedJSON value encodes whole members") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { preconditionFailure("a StreamedJSON value encodes whole members") }
    }
}
