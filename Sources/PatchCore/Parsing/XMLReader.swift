/// The one XML reader for what endpoints send: WS-Management replies (WinRM) and zypper's
/// `--xmlout` (SUSE). Elements, attributes, text with the predefined and numeric entities, CDATA,
/// comments and processing instructions. No DTDs, no external anything, and no recursion: an
/// endpoint controls this input, so nesting depth, element count and size are bounded by
/// `Limits` and a document past them is refused with a clear message, never a crash.
/// Foundation's XMLParser would pull in libxml2 at run time.
struct XMLReader {
    struct Element: Equatable {
        var namespace: String
        /// Local name (namespaced documents), or the name as written (fragments).
        var name: String
        /// By local name (prefixes dropped): WS-Man attributes are unqualified or unambiguous.
        var attributes: [String: String]
        var children: [Element]
        /// The element's own text (not its children's), entities decoded.
        var text: String

        init(namespace: String = "", name: String, attributes: [String: String] = [:], children: [Element] = [], text: String = "") {
            self.namespace = namespace
            self.name = name
            self.attributes = attributes
            self.children = children
            self.text = text
        }

        subscript(_ attribute: String) -> String? { attributes[attribute] }

        /// The first descendant (depth-first, self excluded) with this local name and, if given, namespace.
        func first(_ name: String, namespace: String? = nil) -> Element? {
            for child in children {
                if child.name == name, namespace == nil || child.namespace == namespace { return child }
                if let found = child.first(name, namespace: namespace) { return found }
            }
            return nil
        }

        /// The first direct child with this name.
        func child(_ name: String) -> Element? {
            children.first { $0.name == name }
        }

        /// Every descendant with this local name, in document order.
        func all(_ name: String, namespace: String? = nil) -> [Element] {
            var found: [Element] = []
            for child in children {
                if child.name == name, namespace == nil || child.namespace == namespace { found.append(child) }
                found += child.all(name, namespace: namespace)
            }
            return found
        }
    }

    /// Bounds on what one document may cost. The defaults fit the largest real answers (a zypper
    /// listing of every installed patch on an old SLES is a few MiB and a few thousand elements).
    struct Limits: Sendable, Equatable {
        var maxBytes: Int
        var maxDepth: Int
        var maxElements: Int

        static let `default` = Limits(maxBytes: 64 << 20, maxDepth: 128, maxElements: 500_000)
    }

    struct Failure: Error, Equatable, CustomStringConvertible {
        var offset: Int
        var message: String

        var description: String { "\(message) at byte \(offset)" }
    }

    /// How strictly the input is read.
    enum Mode {
        /// One root element, namespaces resolved, DTDs refused, nothing after the root (WS-Man).
        case document
        /// Any number of top-level elements and stray text (a shell message merged into zypper's
        /// stream) under a synthetic `#document` element; names kept as written, DTDs skipped.
        case fragments
    }

    private let bytes: [UInt8]
    private let mode: Mode
    private let limits: Limits
    private var position = 0

    /// Parses one namespaced document; throws with the byte offset of the first problem.
    static func parse(_ data: [UInt8], limits: Limits = .default) throws(Failure) -> Element {
        var reader = XMLReader(bytes: data, mode: .document, limits: limits)
        return try reader.read()
    }

    /// Parses zypper-style output into a `#document` element whose children are the top-level
    /// elements; text outside any element ends up in its `text`.
    static func parseFragments(_ data: [UInt8], limits: Limits = .default) throws(Failure) -> Element {
        var reader = XMLReader(bytes: data, mode: .fragments, limits: limits)
        return try reader.read()
    }

    private init(bytes: [UInt8], mode: Mode, limits: Limits) {
        self.bytes = bytes
        self.mode = mode
        self.limits = limits
    }

    /// An element being read: the element so far, its namespace scope, its name as written and its text bytes.
    private struct Open {
        var element: Element
        var scope: [String: String]
        var qname: String
        var text: [UInt8] = []
    }

    private mutating func read() throws(Failure) -> Element {
        guard bytes.count <= limits.maxBytes else {
            throw Failure(offset: limits.maxBytes, message: "document larger than \(Self.size(limits.maxBytes))")
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        let xmlScope = ["xml": "http://www.w3.org/XML/1998/namespace"]
        // stack[0] is the synthetic document; in .document mode it must end with exactly one child.
        var stack = [Open(element: Element(name: "#document"), scope: xmlScope, qname: "#document")]
        var elements = 0
        while position < bytes.count {
            if bytes[position] != UInt8(ascii: "<") {
                let start = position
                while position < bytes.count, bytes[position] != UInt8(ascii: "<"), bytes[position] != UInt8(ascii: "&") { position += 1 }
                if stack.count == 1, mode == .document {
                    guard bytes[start..<position].allSatisfy(Self.isSpace) else {
                        position = start
                        throw fail(stack[0].element.children.isEmpty ? "no root element" : "content after the root element")
                    }
                    continue
                }
                stack[stack.count - 1].text += bytes[start..<position]
                if position < bytes.count, bytes[position] == UInt8(ascii: "&") {
                    stack[stack.count - 1].text += try entity()
                }
                continue
            }
            if take("<?") {
                try skip(past: "?>")
            } else if take("<!--") {
                try skip(past: "-->")
            } else if peek("<![CDATA[") {
                guard stack.count > 1 || mode == .fragments else { throw fail("CDATA outside the root element") }
                position += 9
                let start = position
                try skip(past: "]]>")
                stack[stack.count - 1].text += bytes[start..<(position - 3)]
            } else if peek("<!") {
                guard mode == .fragments else { throw fail("DTDs are not accepted") }
                // A DOCTYPE line is skipped, never interpreted: no entity it declares is expanded.
                try skip(past: ">")
            } else if take("</") {
                let closing = name()
                skipSpace()
                guard take(">") else { throw fail("'>' expected after </\(closing)") }
                guard stack.count > 1, stack[stack.count - 1].qname == closing else {
                    throw fail("</\(closing)> closes <\(stack.count > 1 ? stack[stack.count - 1].qname : "nothing")>")
                }
                var done = stack.removeLast()
                done.element.text = String(decoding: done.text, as: UTF8.self)
                stack[stack.count - 1].element.children.append(done.element)
            } else {
                if mode == .document, stack.count == 1, !stack[0].element.children.isEmpty {
                    throw fail("content after the root element")
                }
                guard stack.count <= limits.maxDepth else { throw fail("elements nested deeper than \(limits.maxDepth) levels") }
                elements += 1
                guard elements <= limits.maxElements else { throw fail("more than \(limits.maxElements) elements") }
                position += 1  // "<"
                let (open, selfClosing) = try startTag(scope: stack[stack.count - 1].scope)
                if selfClosing {
                    stack[stack.count - 1].element.children.append(open.element)
                } else {
                    stack.append(open)
                }
            }
        }
        guard stack.count == 1 else {
            throw fail("document ends inside <\(stack[stack.count - 1].qname)> (truncated output?)")
        }
        var document = stack[0]
        document.element.text = String(decoding: document.text, as: UTF8.self)
        switch mode {
        case .fragments:
            return document.element
        case .document:
            guard let root = document.element.children.first else { throw fail("no root element") }
            return root
        }
    }

    /// The rest of a start tag after "<": name, attributes (namespace declarations applied in
    /// .document mode) and whether it closed itself.
    private mutating func startTag(scope parentScope: [String: String]) throws(Failure) -> (Open, Bool) {
        let qname = name()
        guard !qname.isEmpty else { throw fail("element name expected") }
        var raw: [(String, String)] = []
        var scope = parentScope
        while true {
            skipSpace()
            guard position < bytes.count else { throw fail("unterminated start tag <\(qname)") }
            if peek("/>") || peek(">") { break }
            let attribute = name()
            guard !attribute.isEmpty else { throw fail("attribute name expected in <\(qname)>") }
            skipSpace()
            guard take("=") else { throw fail("'=' expected after \(attribute)") }
            skipSpace()
            let value = try quoted()
            if mode == .document, attribute == "xmlns" {
                scope[""] = value
            } else if mode == .document, attribute.hasPrefix("xmlns:") {
                scope[String(attribute.dropFirst(6))] = value
            } else {
                raw.append((attribute, value))
            }
        }
        var element: Element
        switch mode {
        case .document:
            var attributes: [String: String] = [:]
            for (attribute, value) in raw { attributes[Self.split(attribute).1] = value }
            let (prefix, local) = Self.split(qname)
            guard let namespace = scope[prefix] ?? (prefix.isEmpty ? "" : nil) else { throw fail("undeclared prefix '\(prefix)'") }
            element = Element(namespace: namespace, name: local, attributes: attributes)
        case .fragments:
            element = Element(name: qname, attributes: Dictionary(raw, uniquingKeysWith: { _, last in last }))
        }
        let selfClosing = take("/>")
        if !selfClosing { position += 1 }  // ">"
        return (Open(element: element, scope: scope, qname: qname), selfClosing)
    }

    private mutating func quoted() throws(Failure) -> String {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") || bytes[position] == UInt8(ascii: "'") else {
            throw fail("quoted attribute value expected")
        }
        let quote = bytes[position]
        position += 1
        var value: [UInt8] = []
        while position < bytes.count, bytes[position] != quote {
            if bytes[position] == UInt8(ascii: "&") {
                value += try entity()
            } else {
                value.append(bytes[position])
                position += 1
            }
        }
        guard position < bytes.count else { throw fail("unterminated attribute value") }
        position += 1
        return String(decoding: value, as: UTF8.self)
    }

    /// Decodes the entity at `position`. Fragments keep an unknown or unterminated one as
    /// written (zypper prints plain text), documents refuse it.
    private mutating func entity() throws(Failure) -> [UInt8] {
        let start = position
        let end = bytes[start...].prefix(12).firstIndex(of: UInt8(ascii: ";"))
        let body = end.map { String(decoding: bytes[(start + 1)..<$0], as: UTF8.self) } ?? ""
        var decoded: [UInt8]?
        switch body {
        case "lt": decoded = [UInt8(ascii: "<")]
        case "gt": decoded = [UInt8(ascii: ">")]
        case "amp": decoded = [UInt8(ascii: "&")]
        case "quot": decoded = [UInt8(ascii: "\"")]
        case "apos": decoded = [UInt8(ascii: "'")]
        default:
            let number = body.hasPrefix("#x") || body.hasPrefix("#X") ? UInt32(body.dropFirst(2), radix: 16)
                : body.hasPrefix("#") ? UInt32(body.dropFirst(), radix: 10) : nil
            if let number, let scalar = Unicode.Scalar(number) { decoded = Array(String(Character(scalar)).utf8) }
        }
        if let decoded, let end {
            position = end + 1
            return decoded
        }
        guard mode == .fragments else {
            throw fail(end == nil ? "unterminated entity" : "unknown entity &\(body);")
        }
        position += 1
        return [UInt8(ascii: "&")]
    }

    private mutating func name() -> String {
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            let isName = byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            guard isName else { break }
            position += 1
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private mutating func skipSpace() {
        while position < bytes.count, Self.isSpace(bytes[position]) { position += 1 }
    }

    private func peek(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return literal.withUTF8Buffer { bytes[position..<(position + count)].elementsEqual($0) }
    }

    private mutating func take(_ literal: StaticString) -> Bool {
        guard peek(literal) else { return false }
        position += literal.utf8CodeUnitCount
        return true
    }

    private mutating func skip(past literal: StaticString) throws(Failure) {
        while position < bytes.count {
            if take(literal) { return }
            position += 1
        }
        throw fail("'\(literal)' expected before the end")
    }

    private func fail(_ message: String) -> Failure {
        Failure(offset: position, message: message)
    }

    private static func split(_ qname: String) -> (String, String) {
        guard let colon = qname.firstIndex(of: ":") else { return ("", qname) }
        return (String(qname[..<colon]), String(qname[qname.index(after: colon)...]))
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}
