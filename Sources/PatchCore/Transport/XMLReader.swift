/// Just enough XML to read WS-Management replies: elements with namespaces resolved, attributes,
/// text with the predefined and numeric entities, CDATA. No DTDs (refused, so no entity
/// expansion tricks), no external anything. Foundation's XMLParser would pull in libxml2.
struct XMLReader {
    struct Element: Equatable {
        var namespace: String
        var name: String
        /// By local name (prefixes dropped): WS-Man attributes are unqualified or unambiguous.
        var attributes: [String: String]
        var children: [Element]
        /// The element's own text (not its children's), entities decoded.
        var text: String

        /// The first descendant (depth-first, self excluded) with this local name and, if given, namespace.
        func first(_ name: String, namespace: String? = nil) -> Element? {
            for child in children {
                if child.name == name, namespace == nil || child.namespace == namespace { return child }
                if let found = child.first(name, namespace: namespace) { return found }
            }
            return nil
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

    struct Failure: Error, Equatable {
        var offset: Int
        var message: String
    }

    private let bytes: [UInt8]
    private var position = 0

    /// Parses one document; throws with the byte offset of the first problem.
    static func parse(_ data: [UInt8]) throws(Failure) -> Element {
        var reader = XMLReader(bytes: data)
        return try reader.document()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func document() throws(Failure) -> Element {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
        try skipMisc()
        guard peek("<") else { throw fail("no root element") }
        let root = try element(scope: ["xml": "http://www.w3.org/XML/1998/namespace"])
        try skipMisc()
        guard position == bytes.count else { throw fail("content after the root element") }
        return root
    }

    /// Whitespace, comments, processing instructions (the XML declaration) between elements.
    private mutating func skipMisc() throws(Failure) {
        while true {
            skipSpace()
            if peek("<?") {
                try skip(past: "?>")
            } else if peek("<!--") {
                try skip(past: "-->")
            } else if peek("<!") {
                throw fail("DTDs are not accepted")
            } else {
                return
            }
        }
    }

    private mutating func element(scope parentScope: [String: String]) throws(Failure) -> Element {
        position += 1  // "<"
        let qname = name()
        guard !qname.isEmpty else { throw fail("element name expected") }
        var raw: [(String, String)] = []
        var scope = parentScope
        while true {
            skipSpace()
            if peek("/>") || peek(">") { break }
            let attribute = name()
            guard !attribute.isEmpty else { throw fail("attribute name expected in <\(qname)>") }
            skipSpace()
            guard take("=") else { throw fail("'=' expected after \(attribute)") }
            skipSpace()
            let value = try quoted()
            if attribute == "xmlns" {
                scope[""] = value
            } else if attribute.hasPrefix("xmlns:") {
                scope[String(attribute.dropFirst(6))] = value
            } else {
                raw.append((attribute, value))
            }
        }
        var attributes: [String: String] = [:]
        for (attribute, value) in raw { attributes[Self.local(attribute)] = value }
        let (prefix, local) = Self.split(qname)
        guard let namespace = scope[prefix] ?? (prefix.isEmpty ? "" : nil) else { throw fail("undeclared prefix '\(prefix)'") }
        var result = Element(namespace: namespace, name: local, attributes: attributes, children: [], text: "")
        if take("/>") { return result }
        position += 1  // ">"
        var text: [UInt8] = []
        while true {
            guard position < bytes.count else { throw fail("<\(qname)> is not closed") }
            if peek("</") {
                position += 2
                let closing = name()
                guard closing == qname else { throw fail("</\(closing)> closes <\(qname)>") }
                skipSpace()
                guard take(">") else { throw fail("'>' expected") }
                result.text = String(decoding: text, as: UTF8.self)
                return result
            } else if peek("<![CDATA[") {
                position += 9
                let start = position
                try skip(past: "]]>")
                text += bytes[start..<(position - 3)]
            } else if peek("<!--") {
                try skip(past: "-->")
            } else if peek("<?") {
                try skip(past: "?>")
            } else if peek("<") {
                result.children.append(try element(scope: scope))
            } else if peek("&") {
                text += try entity()
            } else {
                text.append(bytes[position])
                position += 1
            }
        }
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

    private mutating func entity() throws(Failure) -> [UInt8] {
        let start = position
        guard let end = bytes[start...].prefix(12).firstIndex(of: UInt8(ascii: ";")) else { throw fail("unterminated entity") }
        let body = String(decoding: bytes[(start + 1)..<end], as: UTF8.self)
        position = end + 1
        switch body {
        case "lt": return [UInt8(ascii: "<")]
        case "gt": return [UInt8(ascii: ">")]
        case "amp": return [UInt8(ascii: "&")]
        case "quot": return [UInt8(ascii: "\"")]
        case "apos": return [UInt8(ascii: "'")]
        default:
            let number = body.hasPrefix("#x") ? UInt32(body.dropFirst(2), radix: 16)
                : body.hasPrefix("#") ? UInt32(body.dropFirst(), radix: 10) : nil
            guard let number, let scalar = Unicode.Scalar(number) else {
                position = start
                throw fail("unknown entity &\(body);")
            }
            return Array(String(Character(scalar)).utf8)
        }
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

    private mutating func skipSpace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
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

    private static func local(_ qname: String) -> String {
        split(qname).1
    }
}
