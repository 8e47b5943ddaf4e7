import Yams

/// Ansible's INI inventory format (its `ini` inventory plugin), read into the node tree a YAML
/// inventory makes, so `InventoryParser` validates and resolves both alike:
///
///     host0                          # before any section: group 'ungrouped'
///     [web]
///     web[01:03] ansible_port=2222   # ranges, inline variables (Python literals)
///     [web:vars]
///     ntp=10.0.0.1                   # group variables (Python literals too, unquoted)
///     [prod:children]
///     web
///
/// Lines starting with `#` or `;` are comments; on a host line `#` starts one anywhere outside
/// quotes (shlex). Each section becomes one top-level entry, in file order.
struct INIInventoryReader {
    let file: String

    struct Failure: Error {
        var line: Int
        var column: Int
        var message: String
    }

    private enum State { case hosts, vars, children }

    /// A group referenced before its own section; Ansible requires the section in the same file.
    private struct Pending {
        var line: Int
        var column: Int
        var isChild: Bool
        var parent: String
    }

    func read(_ text: String) throws(Failure) -> Node {
        var sections: [(Node, Node)] = []
        var group = "ungrouped"
        var groupMark: Mark? = YAMLNodes.mark(line: 1, column: 1)
        var state = State.hosts
        var entries: [(Node, Node)] = []
        var inSection = false
        var declared: Set<String> = ["all", "ungrouped"]
        var pending: [String: Pending] = [:]

        // Every section is emitted, even empty: `[web]` alone declares the group.
        func flush() {
            guard inSection || !entries.isEmpty else { return }
            guard !entries.isEmpty else {
                sections.append((YAMLNodes.string(group, at: groupMark), YAMLNodes.null(at: groupMark)))
                return
            }
            let section: String
            switch state {
            case .hosts: section = "hosts"
            case .vars: section = "vars"
            case .children: section = "children"
            }
            let body = YAMLNodes.map([(YAMLNodes.string(section, at: groupMark), YAMLNodes.map(entries, at: groupMark))], at: groupMark)
            sections.append((YAMLNodes.string(group, at: groupMark), body))
            entries = []
        }

        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (offset, raw) in lines.enumerated() {
            let number = offset + 1
            let line = String(raw.hasSuffix("\r") ? raw.dropLast() : raw)
            let lead = line.unicodeScalars.prefix { $0 == " " || $0 == "\t" }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            guard let first = content.first, first != "#", first != ";" else { continue }

            if first == "[", let header = Self.header(content) {
                flush()
                inSection = true
                group = header.group
                groupMark = YAMLNodes.mark(line: number, column: lead + 2)
                switch header.kind {
                case nil, "hosts": state = .hosts
                case "vars": state = .vars
                case "children": state = .children
                case let other?:
                    throw Failure(line: number, column: lead + 1, message:
                        "section [\(header.group):\(other)] has unknown type '\(other)': use [\(header.group)], [\(header.group):vars] or [\(header.group):children]")
                }
                // [group] or [group:children] declares a group; [group:vars] alone does not.
                if state != .vars {
                    declared.insert(group)
                    pending[group] = nil
                } else if !declared.contains(group), pending[group] == nil {
                    pending[group] = Pending(line: number, column: lead + 1, isChild: false, parent: group)
                }
                continue
            }
            if first == "[", content.hasSuffix("]") {
                throw Failure(line: number, column: lead + 1, message:
                    "invalid section header '\(content)': a group name has no spaces, ':' or ']' (e.g. [web] or [web:vars])")
            }

            switch state {
            case .hosts:
                entries.append(try hostEntry(line, number: number))
            case .vars:
                entries.append(try variable(line, number: number, lead: lead))
            case .children:
                let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
                let child = String(words[0])
                let trailing = words.dropFirst().first
                guard !child.contains(":"), !child.contains("]"), trailing == nil || trailing!.hasPrefix("#") else {
                    throw Failure(line: number, column: lead + 1, message: "expected a group name in [\(group):children], got '\(content)'")
                }
                let mark = YAMLNodes.mark(line: number, column: lead + 1)
                entries.append((YAMLNodes.string(child, at: mark), YAMLNodes.null(at: mark)))
                if !declared.contains(child), pending[child] == nil {
                    pending[child] = Pending(line: number, column: lead + 1, isChild: true, parent: group)
                }
            }
        }
        flush()

        if let (name, missing) = pending.min(by: { ($0.value.line, $0.key) < ($1.value.line, $1.key) }) {
            throw Failure(line: missing.line, column: missing.column, message: missing.isChild
                ? "[\(missing.parent):children] names group '\(name)', which this file never declares: add a [\(name)] section (it may be empty)"
                : "[\(name):vars] is for a group this file never declares: add a [\(name)] section, or list '\(name)' under a [...:children] section")
        }
        return YAMLNodes.map(sections, at: YAMLNodes.mark(line: 1, column: 1))
    }

    /// `[name]` or `[name:kind]`, optionally followed by a comment (Ansible's section regex).
    static func header(_ content: String) -> (group: String, kind: String?)? {
        guard let close = content.firstIndex(of: "]") else { return nil }
        let after = content[content.index(after: close)...].trimmingCharacters(in: .whitespaces)
        guard after.isEmpty || after.hasPrefix("#") else { return nil }
        let inside = content[content.index(after: content.startIndex)..<close]
        let parts = inside.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty, !name.contains(where: { $0.isWhitespace }) else { return nil }
        guard parts.count == 2 else { return (name, nil) }
        let kind = String(parts[1])
        guard !kind.isEmpty, kind.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else { return nil }
        return (name, kind)
    }

    /// `pattern[:port] key=value …`: shlex words, the first a host name or range.
    private func hostEntry(_ line: String, number: Int) throws(Failure) -> (Node, Node) {
        let words: [ShellWords.Word]
        do {
            words = try ShellWords.split(line, comments: true)
        } catch {
            throw Failure(line: number, column: 1, message: "cannot read host line: \(error.message)")
        }
        // A line of characters shlex counts as blanks (a stray carriage return) names no host.
        guard let host = words.first else {
            throw Failure(line: number, column: 1, message: "expected a host name, found only blank characters")
        }
        let hostMark = YAMLNodes.mark(line: number, column: host.offset + 1)
        if host.text.hasSuffix(":"), InventoryHostSpec.splitPort(host.text).1 == nil {
            throw Failure(line: number, column: host.offset + 1, message:
                "host '\(host.text)' ends in ':', which is reserved for a port (write host:port)")
        }
        if host.text == "---" {
            throw Failure(line: number, column: host.offset + 1, message: "'---' is not a host name: is this a YAML file? (name it .yml)")
        }
        var variables: [(Node, Node)] = []
        for word in words.dropFirst() {
            guard let equals = word.text.firstIndex(of: "=") else {
                throw Failure(line: number, column: word.offset + 1, message:
                    "expected key=value after the host name, got '\(word.text)' (quote values with spaces: key=\"a b\")")
            }
            let mark = YAMLNodes.mark(line: number, column: word.offset + 1)
            let key = String(word.text[..<equals])
            let value = String(word.text[word.text.index(after: equals)...])
            variables.append((YAMLNodes.string(key, at: mark), YAMLNodes.node(PythonLiteral.value(of: value), at: mark)))
        }
        let vars = variables.isEmpty ? YAMLNodes.null(at: hostMark) : YAMLNodes.map(variables, at: hostMark)
        return (YAMLNodes.string(host.text, at: hostMark), vars)
    }

    /// `key=value` in a [group:vars] section: split at the first '=', both sides trimmed.
    private func variable(_ line: String, number: Int, lead: Int) throws(Failure) -> (Node, Node) {
        let scalars = Array(line.unicodeScalars)
        guard let equals = scalars.firstIndex(of: "=") else {
            throw Failure(line: number, column: lead + 1, message: "expected key=value in a [...:vars] section, got '\(line.trimmingCharacters(in: .whitespaces))'")
        }
        let key = String(String.UnicodeScalarView(scalars[..<equals])).trimmingCharacters(in: .whitespaces)
        let rest = scalars[(equals + 1)...]
        let value = String(String.UnicodeScalarView(rest)).trimmingCharacters(in: .whitespaces)
        let valueColumn = equals + 2 + rest.prefix { $0 == " " || $0 == "\t" }.count
        return (YAMLNodes.string(key, at: YAMLNodes.mark(line: number, column: lead + 1)),
                YAMLNodes.node(PythonLiteral.value(of: value), at: YAMLNodes.mark(line: number, column: valueColumn)))
    }
}
