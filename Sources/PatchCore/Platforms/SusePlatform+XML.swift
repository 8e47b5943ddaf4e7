/// A small XML reader for zypper's `--xmlout`: elements, attributes, text, the five named
/// entities and numeric references, comments, CDATA and the `<?xml?>` declaration. No DTDs and no
/// namespaces (zypper uses neither). Written here rather than using FoundationXML so the binary
/// does not depend on libxml2 at run time, and so stray non-XML text (a shell error merged into the
/// stream) is tolerated outside the root element instead of failing the whole parse.
extension SusePlatform {
    struct XMLNode: Equatable {
        var name: String
        var attributes: [String: String] = [:]
        var children: [XMLNode] = []
        /// Character data directly inside this element, entities decoded.
        var text = ""

        subscript(_ attribute: String) -> String? { attributes[attribute] }

        /// Every descendant (depth first, document order) with this name.
        func all(_ name: String) -> [XMLNode] {
            var found: [XMLNode] = []
            for child in children {
                if child.name == name { found.append(child) }
                found += child.all(name)
            }
            return found
        }

        func first(_ name: String) -> XMLNode? {
            children.first { $0.name == name }
        }
    }

    /// Parses a document into a synthetic `#document` node whose children are the top-level
    /// elements; text outside any element ends up in its `text`.
    static func parseXML(_ document: String) throws -> XMLNode {
        var reader = ZypperXMLReader(bytes: Array(document.utf8))
        return try reader.parse()
    }
}

private struct ZypperXMLReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() throws -> SusePlatform.XMLNode {
        var stack = [SusePlatform.XMLNode(name: "#document")]
        while index < bytes.count {
            if bytes[index] != UInt8(ascii: "<") {
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "<") { index += 1 }
                stack[stack.count - 1].text += decodeEntities(bytes[start..<index])
                continue
            }
            if starts(with: "<?") {
                try skip(past: "?>")
            } else if starts(with: "<!--") {
                try skip(past: "-->")
            } else if starts(with: "<![CDATA[") {
                index += 9
                let start = index
                try skip(past: "]]>")
                stack[stack.count - 1].text += String(decoding: bytes[start..<(index - 3)], as: UTF8.self)
            } else if starts(with: "<!") {
                try skip(past: ">")
            } else if starts(with: "</") {
                index += 2
                let name = readName()
                skipSpaces()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw failure("malformed end tag </\(name)") }
                index += 1
                guard stack.count > 1, stack[stack.count - 1].name == name else {
                    throw failure("end tag </\(name)> does not close <\(stack.last?.name ?? "")>")
                }
                let done = stack.removeLast()
                stack[stack.count - 1].children.append(done)
            } else {
                index += 1
                let name = readName()
                guard !name.isEmpty else { throw failure("malformed start tag") }
                var node = SusePlatform.XMLNode(name: name)
                var selfClosing = false
                while true {
                    skipSpaces()
                    guard index < bytes.count else { throw failure("unterminated start tag <\(name)") }
                    if bytes[index] == UInt8(ascii: ">") { index += 1; break }
                    if starts(with: "/>") { index += 2; selfClosing = true; break }
                    let attribute = readName()
                    skipSpaces()
                    guard !attribute.isEmpty, index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                        throw failure("malformed attribute in <\(name)")
                    }
                    index += 1
                    skipSpaces()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                        throw failure("unquoted attribute \(attribute) in <\(name)")
                    }
                    let quote = bytes[index]
                    index += 1
                    let start = index
                    while index < bytes.count, bytes[index] != quote { index += 1 }
                    guard index < bytes.count else { throw failure("unterminated attribute \(attribute) in <\(name)") }
                    node.attributes[attribute] = decodeEntities(bytes[start..<index])
                    index += 1
                }
                if selfClosing {
                    stack[stack.count - 1].children.append(node)
                } else {
                    stack.append(node)
                }
            }
        }
        guard stack.count == 1 else {
            throw failure("document ends inside <\(stack.last?.name ?? "")> (truncated output?)")
        }
        return stack[0]
    }

    private func failure(_ message: String) -> ParseFailure {
        ParseFailure("zypper XML: \(message) at byte \(index)")
    }

    private func starts(with prefix: String) -> Bool {
        let needle = Array(prefix.utf8)
        guard index + needle.count <= bytes.count else { return false }
        return bytes[index..<(index + needle.count)].elementsEqual(needle)
    }

    private mutating func skip(past terminator: String) throws {
        let needle = Array(terminator.utf8)
        while index + needle.count <= bytes.count {
            if bytes[index..<(index + needle.count)].elementsEqual(needle) {
                index += needle.count
                return
            }
            index += 1
        }
        throw failure("unterminated construct (expected \(terminator))")
    }

    private mutating func skipSpaces() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func readName() -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isNameByte = byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            guard isNameByte else { break }
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// `&lt;` `&gt;` `&amp;` `&quot;` `&apos;`, `&#NN;` and `&#xHH;`; anything else is kept as written.
    private func decodeEntities(_ slice: ArraySlice<UInt8>) -> String {
        let raw = String(decoding: slice, as: UTF8.self)
        guard raw.contains("&") else { return raw }
        var result = ""
        var rest = Substring(raw)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            guard let semicolon = rest[amp...].prefix(12).firstIndex(of: ";") else {
                result += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "lt": result += "<"
            case "gt": result += ">"
            case "amp": result += "&"
            case "quot": result += "\""
            case "apos": result += "'"
            default:
                var scalar: Unicode.Scalar?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init)
                }
                if let scalar { result.unicodeScalars.append(scalar) } else { result += rest[amp...semicolon] }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }
}
