import Foundation

/// A parsed host pattern in Ansible's syntax (`--limit`), e.g. `webservers:&prod:!web3`,
/// `db[0:2]`, `~web\d+`, `@retry.txt`. `Inventory.select(_:)` evaluates it.
///
/// Splitting follows Ansible's `split_host_pattern`: if the text contains a comma, terms are
/// separated by commas; otherwise by colons outside `[...]`, so `web[1:3]` stays one term. One
/// extension: a comma-separated piece that is not a regex is split on colons too (`a:b,c`), which
/// in Ansible would be a single term matching nothing. Bare IPv6 addresses are never split.
public struct HostPattern: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        /// A plain term: its hosts are added.
        case union
        /// `&term`: keeps only hosts also in the term.
        case intersection
        /// `!term`: removes the term's hosts.
        case exclusion
    }

    public enum Selector: Sendable, Equatable {
        /// A host name, a group name, `all`, or a glob (`web*`, `db-?`, `db[ab]`).
        case name(String)
        /// `~regex`: matched from the start of host and group names (Python's `re.match`).
        case regex(String)
    }

    /// Positions in the term's hosts, inventory order, counted from 0.
    public enum Slice: Sendable, Equatable {
        /// `[i]`; negative counts from the end (`[-1]` is the last host).
        case index(Int)
        /// `[i:j]` inclusive of `j`, as in Ansible; `[i:]` has no end.
        case range(Int, Int?)
    }

    public struct Term: Sendable, Equatable {
        public var operation: Operation
        public var selector: Selector
        public var slice: Slice?
        /// The term as written, for messages.
        public var text: String

        /// The selector as written, without prefix or slice.
        public var expression: String {
            switch selector {
            case let .name(name): name
            case let .regex(source): "~" + source
            }
        }
    }

    /// The whole pattern as given.
    public let text: String
    /// Terms in written order, `@file` terms replaced by the file's terms.
    public let terms: [Term]

    /// Parses `text`; `@path` terms read one pattern per line from `path` (relative to
    /// `currentDirectory`), skipping blank lines and `#` comments.
    public init(
        _ text: String, currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(PatchError) {
        self.text = text
        var terms: [Term] = []
        for piece in Self.split(text) {
            if piece.hasPrefix("@") {
                terms += try Self.terms(fromFile: String(piece.dropFirst()), pattern: text, currentDirectory: currentDirectory)
            } else {
                terms.append(try Self.term(piece, pattern: text))
            }
        }
        // An empty selection must never mean "everything" (Ansible treats an empty --limit
        // file as no limit at all, which would patch every host).
        guard !terms.isEmpty else {
            throw PatchError.pattern(pattern: text, message: "the pattern selects nothing: give a host, a group or 'all'")
        }
        self.terms = terms
    }

    // MARK: Splitting

    static func split(_ text: String) -> [String] {
        let pieces: [String]
        if text.contains(",") {
            pieces = text.split(separator: ",").flatMap { piece -> [String] in
                let trimmed = piece.trimmingCharacters(in: .whitespaces)
                // A regex may legitimately contain ':' (e.g. `(?:a|b)`), so it is left whole.
                return trimmed.hasPrefix("~") || trimmed.hasPrefix("!~") || trimmed.hasPrefix("&~")
                    ? [trimmed] : splitOnColons(trimmed)
            }
        } else {
            pieces = splitOnColons(text)
        }
        return pieces.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Splits on ':' outside brackets, keeping a bare IPv6 address (`fe80::1`) whole.
    private static func splitOnColons(_ text: String) -> [String] {
        if isIPv6Address(text) { return [text] }
        var pieces: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            switch character {
            case "[": depth += 1
            case "]": depth = max(0, depth - 1)
            case ":" where depth == 0:
                pieces.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        pieces.append(current)
        return pieces
    }

    private static func isIPv6Address(_ text: String) -> Bool {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if let first = body.first, first == "!" || first == "&" { body = body.dropFirst() }
        return body.filter { $0 == ":" }.count >= 2
            && body.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }

    // MARK: Terms

    static func term(_ piece: String, pattern: String) throws(PatchError) -> Term {
        var body = Substring(piece)
        var operation = Operation.union
        if body.hasPrefix("!") {
            operation = .exclusion
            body = body.dropFirst()
        } else if body.hasPrefix("&") {
            operation = .intersection
            body = body.dropFirst()
        }
        guard !body.isEmpty else {
            throw PatchError.pattern(pattern: pattern, message: "'\(piece)' must be followed by a host, group or pattern")
        }
        if body.hasPrefix("~") {
            let source = String(body.dropFirst())
            guard !source.isEmpty else {
                throw PatchError.pattern(pattern: pattern, message: "'~' must be followed by a regular expression")
            }
            return Term(operation: operation, selector: .regex(source), slice: nil, text: piece)
        }
        if body.hasPrefix("@") {
            throw PatchError.pattern(pattern: pattern, message: "'\(piece)': an @file must be a term of its own, not inside another file or after '!'/'&'")
        }
        let (name, slice) = try splitSlice(String(body), piece: piece, pattern: pattern)
        return Term(operation: operation, selector: .name(name), slice: slice, text: piece)
    }

    /// Ansible's PATTERN_WITH_SUBSCRIPT: `name[-?N]` or `name[N:]` / `name[N:M]` at the very end.
    /// Anything else in brackets (`db[ab]`) is a glob set.
    static func splitSlice(_ body: String, piece: String, pattern: String) throws(PatchError) -> (String, Slice?) {
        guard body.hasSuffix("]"), let open = body.lastIndex(of: "["), open != body.startIndex else {
            return (body, nil)
        }
        let name = String(body[..<open])
        let inside = body[body.index(after: open)..<body.index(before: body.endIndex)]
        let isDigits = { (text: Substring) in !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber } }

        if isDigits(inside) || (inside.hasPrefix("-") && isDigits(inside.dropFirst())), let index = Int(inside) {
            return (name, .index(index))
        }
        for separator in [":", "-"] as [Character] {
            guard let at = inside.firstIndex(of: separator) else { continue }
            let start = inside[..<at], end = inside[inside.index(after: at)...]
            guard isDigits(start), end.isEmpty || isDigits(end), let from = Int(start) else { continue }
            if separator == "-" {
                // Ansible removed [x-y] slices; a glob reader might expect a character range.
                throw PatchError.pattern(pattern: pattern, message:
                    "'\(piece)': write '\(name)[\(start):\(end)]' for positions \(start) to \(end), or '~\(name)[\(start)-\(end)]' for a regex")
            }
            return (name, .range(from, end.isEmpty ? nil : Int(end)))
        }
        return (body, nil)
    }

    static func terms(fromFile path: String, pattern: String, currentDirectory: String) throws(PatchError) -> [Term] {
        guard !path.isEmpty else {
            throw PatchError.pattern(pattern: pattern, message: "'@' must be followed by a file name")
        }
        let fullPath = path.hasPrefix("/") ? path : currentDirectory + "/" + path
        let contents: String
        do {
            contents = try String(contentsOfFile: fullPath, encoding: .utf8)
        } catch {
            throw PatchError.pattern(pattern: pattern, message: "cannot read limit file '\(path)': \(Self.reason(error, path: fullPath))")
        }
        var terms: [Term] = []
        for line in contents.split(whereSeparator: \.isNewline) {
            let entry = line.trimmingCharacters(in: .whitespaces)
            if entry.isEmpty || entry.hasPrefix("#") { continue }
            for piece in split(entry) {
                terms.append(try term(piece, pattern: pattern))
            }
        }
        guard !terms.isEmpty else {
            throw PatchError.pattern(pattern: pattern, message: "limit file '\(path)' lists no host or group")
        }
        return terms
    }

    private static func reason(_ error: any Error, path: String) -> String {
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
        if isDirectory.boolValue { return "it is a folder" }
        return "not readable UTF-8 text"
    }
}
