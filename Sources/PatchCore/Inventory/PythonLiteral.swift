/// What Ansible's INI reader makes of a value: `ast.literal_eval(text)`, and the text itself when
/// that fails. So `port=2222` is the integer 2222, `on=True` a boolean, `v=[1, 'a']` a list,
/// `x=yes` or `x=010` the string as written. The subset read here is Python's literal syntax:
/// strings (with prefixes r, u, b, adjacent ones joined), integers (0x, 0o, 0b, `_`), floats,
/// True/False/None, one leading sign on a number, lists, tuples, sets and dicts. Complex
/// numbers and `\N{…}` escapes are left as text.
enum PythonLiteral: Equatable {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([PythonLiteral])
    /// Keys in written order; Ansible's JSON turns non-string keys into strings.
    case dict([(String, PythonLiteral)])

    static func == (lhs: PythonLiteral, rhs: PythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): true
        case let (.bool(a), .bool(b)): a == b
        case let (.int(a), .int(b)): a == b
        case let (.double(a), .double(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.list(a), .list(b)): a == b
        case let (.dict(a), .dict(b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        default: false
        }
    }

    /// The value `text` stands for in an INI inventory: a literal, else the text unchanged.
    static func value(of text: String) -> PythonLiteral {
        var reader = Reader(text)
        // literal_eval strips leading spaces and tabs before parsing.
        reader.skipSpaces()
        guard let value = reader.literal(depth: 0) else { return .string(text) }
        reader.skipSpaces()
        if reader.peek == "#" { return value }  // a Python comment ends the expression
        return reader.atEnd ? value : .string(text)
    }

    private struct Reader {
        let scalars: [Unicode.Scalar]
        var index = 0

        init(_ text: String) { scalars = Array(text.unicodeScalars) }

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        mutating func skipSpaces() {
            while let scalar = peek, scalar == " " || scalar == "\t" || scalar == "\u{0C}" { index += 1 }
        }

        mutating func take(_ scalar: Unicode.Scalar) -> Bool {
            skipSpaces()
            guard peek == scalar else { return false }
            index += 1
            return true
        }

        /// Nesting is bounded like the YAML reader's depth limit.
        mutating func literal(depth: Int) -> PythonLiteral? {
            guard depth < 64 else { return nil }
            skipSpaces()
            guard let scalar = peek else { return nil }
            switch scalar {
            case "[":
                index += 1
                return items(until: "]", depth: depth).map(PythonLiteral.list)
            case "(":
                index += 1
                let start = index
                // `(x)` is x; `(x,)` and `()` are tuples (lists to Ansible).
                if take(")") { return .list([]) }
                index = start
                guard let first = literal(depth: depth + 1) else { return nil }
                if take(")") { return first }
                guard take(",") else { return nil }
                guard let rest = items(until: ")", depth: depth) else { return nil }
                return .list([first] + rest)
            case "{":
                index += 1
                return braces(depth: depth)
            case "-", "+":
                index += 1
                skipSpaces()
                guard let number = number() else { return nil }
                guard scalar == "-" else { return number }
                switch number {
                case let .int(value): return value == Int.min ? nil : .int(-value)
                case let .double(value): return .double(-value)
                default: return nil
                }
            case "'", "\"":
                return strings(prefix: "")
            default:
                if ("0"..."9").contains(scalar) || scalar == "." { return number() }
                let word = identifier()
                switch word {
                case "True": return .bool(true)
                case "False": return .bool(false)
                case "None": return PythonLiteral.none
                case "set":
                    // `set()`, the empty set, is a literal to literal_eval.
                    return take("(") && take(")") ? .list([]) : nil
                default:
                    let lowered = word.lowercased()
                    if ["r", "u", "b", "br", "rb"].contains(lowered), peek == "'" || peek == "\"" {
                        return strings(prefix: lowered)
                    }
                    return nil
                }
            }
        }

        mutating func identifier() -> String {
            var word = String.UnicodeScalarView()
            while let scalar = peek, scalar == "_" || scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                word.append(scalar)
                index += 1
            }
            return String(word)
        }

        /// Comma-separated literals up to `close`; a trailing comma is allowed.
        mutating func items(until close: Unicode.Scalar, depth: Int) -> [PythonLiteral]? {
            var values: [PythonLiteral] = []
            while true {
                if take(close) { return values }
                guard let value = literal(depth: depth + 1) else { return nil }
                values.append(value)
                if take(close) { return values }
                guard take(",") else { return nil }
            }
        }

        /// `{}` a dict, `{k: v, …}` a dict, `{a, b}` a set (a list to Ansible).
        mutating func braces(depth: Int) -> PythonLiteral? {
            if take("}") { return .dict([]) }
            guard let first = literal(depth: depth + 1) else { return nil }
            if take(":") {
                var pairs: [(String, PythonLiteral)] = []
                var key = first
                while true {
                    guard let value = literal(depth: depth + 1) else { return nil }
                    // Lists and dicts are unhashable: literal_eval fails on them as keys.
                    guard let name = key.keyText else { return nil }
                    if let existing = pairs.firstIndex(where: { $0.0 == name }) {
                        pairs[existing].1 = value
                    } else {
                        pairs.append((name, value))
                    }
                    if take("}") { return .dict(pairs) }
                    guard take(",") else { return nil }
                    if take("}") { return .dict(pairs) }
                    guard let next = literal(depth: depth + 1), take(":") else { return nil }
                    key = next
                }
            }
            if take("}") { return .list([first]) }
            guard take(",") else { return nil }
            guard let rest = items(until: "}", depth: depth) else { return nil }
            guard ([first] + rest).allSatisfy({ $0.keyText != nil }) else { return nil }
            return .list([first] + rest)
        }

        /// Python's number syntax; a leading zero on a decimal integer (`010`) is a syntax error.
        mutating func number() -> PythonLiteral? {
            var text = String.UnicodeScalarView()
            while let scalar = peek, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "."
                || ((scalar == "+" || scalar == "-") && (text.last == "e" || text.last == "E") && !String(text).lowercased().hasPrefix("0x")) {
                text.append(scalar)
                index += 1
            }
            let written = String(text)
            guard Self.validUnderscores(written) else { return nil }
            let plain = written.replacingOccurrences(of: "_", with: "")
            let lower = plain.lowercased()
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(prefix) {
                let digits = lower.dropFirst(2)
                guard !digits.isEmpty, let value = Int(digits, radix: radix) else { return nil }
                return .int(value)
            }
            if lower.allSatisfy({ $0.isASCII && $0.isNumber }) {
                if lower.count > 1, lower.hasPrefix("0"), lower.contains(where: { $0 != "0" }) { return nil }
                return Int(lower).map(PythonLiteral.int)
            }
            // Floats: digits with a point and/or an exponent; `j` (complex) is left as text.
            guard !lower.hasSuffix("j"), lower.contains(where: { $0.isNumber }),
                  lower.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "." || $0 == "e" || $0 == "+" || $0 == "-" }),
                  lower.filter({ $0 == "." }).count <= 1, let value = Double(lower) else { return nil }
            if let e = lower.firstIndex(of: "e"), lower[..<e].contains(where: { $0.isNumber }) == false { return nil }
            return .double(value)
        }

        /// Python allows single underscores between digits only.
        static func validUnderscores(_ text: String) -> Bool {
            let scalars = Array(text)
            for (position, character) in scalars.enumerated() where character == "_" {
                guard position > 0, position + 1 < scalars.count, scalars[position - 1] != "_",
                      scalars[position + 1] != "_", scalars[position - 1] != ".", scalars[position + 1] != "." else { return false }
            }
            return true
        }

        /// One or more adjacent string literals, joined; bytes and text cannot mix.
        mutating func strings(prefix first: String) -> PythonLiteral? {
            var result = ""
            var prefix = first
            var bytes: Bool?
            while true {
                let isBytes = prefix.contains("b")
                if let known = bytes, known != isBytes { return nil }
                bytes = isBytes
                guard let part = string(raw: prefix.contains("r")) else { return nil }
                result += part
                let save = index
                skipSpaces()
                if peek == "'" || peek == "\"" {
                    prefix = ""
                    continue
                }
                let word = identifier()
                if ["r", "u", "b", "br", "rb"].contains(word.lowercased()), peek == "'" || peek == "\"" {
                    prefix = word.lowercased()
                    continue
                }
                index = save
                return .string(result)
            }
        }

        /// One quoted string ('…', "…", '''…''' or """…""") starting at the quote.
        mutating func string(raw: Bool) -> String? {
            guard let quote = peek else { return nil }
            let triple = index + 2 < scalars.count && scalars[index + 1] == quote && scalars[index + 2] == quote
            index += triple ? 3 : 1
            var out = String.UnicodeScalarView()
            while true {
                guard let scalar = peek else { return nil }
                if scalar == quote {
                    if !triple { index += 1; return String(out) }
                    if index + 2 < scalars.count, scalars[index + 1] == quote, scalars[index + 2] == quote {
                        index += 3
                        return String(out)
                    }
                }
                if !triple, scalar == "\n" { return nil }
                index += 1
                guard scalar == "\\" else { out.append(scalar); continue }
                guard let next = peek else { return nil }
                index += 1
                if raw {
                    out.append(scalar)
                    out.append(next)
                    continue
                }
                switch next {
                case "\n": break
                case "\\", "'", "\"": out.append(next)
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "v": out.append("\u{0B}")
                case "0"..."7":
                    var digits = String(next)
                    while digits.count < 3, let more = peek, ("0"..."7").contains(more) { digits.unicodeScalars.append(more); index += 1 }
                    guard let code = UInt32(digits, radix: 8), let value = Unicode.Scalar(code) else { return nil }
                    out.append(value)
                case "x", "u", "U":
                    let count = next == "x" ? 2 : next == "u" ? 4 : 8
                    guard index + count <= scalars.count else { return nil }
                    let hex = String(String.UnicodeScalarView(scalars[index..<(index + count)]))
                    guard hex.allSatisfy(\.isHexDigit), let code = UInt32(hex, radix: 16), let value = Unicode.Scalar(code) else { return nil }
                    index += count
                    out.append(value)
                case "N":
                    return nil  // named characters: left as text (see the type's comment)
                default:
                    // Unknown escapes stay as written, backslash included (Python only warns).
                    out.append(scalar)
                    out.append(next)
                }
            }
        }
    }

    /// The text a dict key or set member becomes, nil for unhashable values.
    var keyText: String? {
        switch self {
        case .none: "None"
        case let .bool(value): value ? "True" : "False"
        case let .int(value): String(value)
        case let .double(value): String(value)
        case let .string(value): value
        case .list, .dict: nil
        }
    }
}
