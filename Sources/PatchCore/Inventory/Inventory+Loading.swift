import Foundation
import Yams

extension Inventory {
    /// Reads one inventory source (see `load(paths:)`).
    public static func load(
        path: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PatchError) -> Inventory {
        try load(paths: [path], environment: environment)
    }

    /// Reads and merges inventory sources as Ansible's `-i` does, in order: a YAML, INI or JSON
    /// file, an executable dynamic inventory script, or a folder of them; then the `group_vars/`
    /// and `host_vars/` next to each. Every failure is a `PatchError.inventory` naming the file
    /// and, when one node is at fault, its 1-based line and column. `environment` supplies HOME
    /// for `~/` in key paths.
    public static func load(
        paths: [String],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PatchError) -> Inventory {
        guard let first = paths.first else {
            throw PatchError.inventory(file: "", line: nil, column: nil, message: "no inventory given")
        }
        var loader = InventorySources(parser: InventoryParser(file: first, context: ValueContext(baseDirectory: "/", environment: environment)))
        for path in paths { try loader.add(path) }
        return try loader.finish(top: first)
    }

    /// Parses inventory text: YAML, or JSON in the dynamic-inventory shape, or INI when it is
    /// neither. `file` is only used in error messages and, when `baseDirectory` is nil, for its
    /// folder, against which relative `private_key_file` paths resolve.
    public static func parse(
        yaml: String,
        file: String,
        baseDirectory: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(PatchError) -> Inventory {
        let folder = baseDirectory
            ?? URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent().path
        var loader = InventorySources(parser: InventoryParser(file: file, context: ValueContext(baseDirectory: folder, environment: environment)))
        try loader.addText(yaml, file: file, folder: folder)
        return try loader.finish(top: file)
    }

    // MARK: Yams errors

    /// Maps Yams' errors to one PatchError with the position libyaml reported.
    static func syntaxError(_ error: any Error, file: String, yaml: String) -> PatchError {
        if let limit = error as? YAMLReader.LimitExceeded {
            return .inventory(file: file, line: limit.line, column: limit.column, message: limit.message)
        }
        guard let yamlError = error as? YamlError else {
            return .inventory(file: file, line: nil, column: nil, message: "invalid YAML: \(error)")
        }
        switch yamlError {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            if problem == "but found another document" {
                return .inventory(file: file, line: mark.line, column: mark.column,
                                  message: "an inventory is a single YAML document; remove this second '---' document")
            }
            var message = "invalid YAML: \(problem)"
            if let context { message += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            if lineStartsWithTab(mark.line, in: yaml) { message += "; YAML indentation must use spaces, not tabs" }
            return .inventory(file: file, line: mark.line, column: mark.column, message: message)
        case let .reader(problem, offset, _, _):
            let location = offset.map { Self.position(ofCharacterOffset: $0, in: yaml) }
            return .inventory(file: file, line: location?.line, column: location?.column, message: "invalid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            // Yams rejects duplicate keys but points at the first occurrence; point at the
            // second one, which is the line to delete or rename.
            let key = duplicates.first ?? "?"
            let first = context.mark
            if let second = secondOccurrence(of: key, after: first, in: yaml) {
                return .inventory(file: file, line: second.line, column: second.column,
                                  message: "duplicate key '\(key)': already at line \(first.line), column \(first.column) of the same map")
            }
            return .inventory(file: file, line: first.line, column: first.column,
                              message: "duplicate key '\(key)' in this map: each key may appear only once")
        default:
            return .inventory(file: file, line: nil, column: nil, message: "invalid YAML: \(yamlError)")
        }
    }

    /// Finds where `key` is written again in the same block map: a later line holding the key
    /// at the same column, before the map ends (a non-blank line indented less). Flow maps
    /// (`{a: 1, a: 2}`) are not searched; the caller falls back to the first position.
    static func secondOccurrence(of key: String, after first: Mark, in yaml: String) -> (line: Int, column: Int)? {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = first.column - 1
        guard first.line < lines.count else { return nil }
        for index in first.line..<lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let leading = scalars.prefix { $0 == " " }.count
            let rest = String(String.UnicodeScalarView(scalars.dropFirst(leading)))
            if rest.trimmingCharacters(in: .whitespaces).isEmpty || rest.hasPrefix("#") { continue }
            if leading < indent { return nil }
            guard leading == indent else { continue }
            for written in [key, "\"\(key)\"", "'\(key)'"] where rest.hasPrefix(written) {
                let after = rest.dropFirst(written.count).drop { $0 == " " }
                if after.hasPrefix(":") { return (index + 1, indent + 1) }
            }
        }
        return nil
    }

    static func lineStartsWithTab(_ line: Int, in yaml: String) -> Bool {
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return false }
        return lines[line - 1].prefix { $0 == " " || $0 == "\t" }.contains("\t")
    }

    static func position(ofCharacterOffset offset: Int, in text: String) -> (line: Int, column: Int) {
        var line = 1, column = 1
        for character in text.prefix(offset) {
            if character == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    // MARK: INI inventories

    /// Ansible's other common format starts with a `[group]` header: read it as INI rather than
    /// report a confusing YAML error.
    static func looksLikeINI(_ yaml: String) -> Bool {
        for line in yaml.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            return trimmed.hasPrefix("[") && INIInventoryReader.header(trimmed) != nil
        }
        return false
    }
}
