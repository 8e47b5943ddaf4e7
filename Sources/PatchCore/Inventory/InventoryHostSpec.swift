/// A key of a `hosts:` map, read the way Ansible's YAML inventory reads it: an optional `:port`
/// suffix (`db1:2222`, `[fe80::1]:2222`) and `[begin:end]` / `[begin:end:step]` ranges
/// (`web[01:03].example.com`, `db-[a:c]`) that stand for several hosts.
struct InventoryHostSpec: Equatable {
    var names: [String]
    var port: Int?

    struct Problem: Error, Equatable {
        let message: String
    }

    /// Ranges larger than this are almost certainly typos (`[1:100000]`) and would flood memory.
    static let maximumExpansion = 10_000

    static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func parse(_ key: String) throws(Problem) -> InventoryHostSpec {
        let (pattern, port) = splitPort(key)
        if let port, !(1...65_535).contains(port) {
            throw Problem(message: "port \(port) in host '\(key)' must be from 1 to 65535")
        }
        let names = pattern.contains("[") ? try expand(pattern) : [pattern]
        for name in names where name.isEmpty {
            throw Problem(message: "host name must not be empty")
        }
        return InventoryHostSpec(names: names, port: port)
    }

    /// Splits `host:port` and `[ipv6]:port` like Ansible's `parse_address`; anything else
    /// (a bare IPv6 address, a range with colons) is kept whole with no port.
    static func splitPort(_ key: String) -> (String, Int?) {
        if key.hasPrefix("["), let close = key.lastIndex(of: "]") {
            let inside = key[key.index(after: key.startIndex)..<close]
            let after = key[key.index(after: close)...]
            if inside.filter({ $0 == ":" }).count >= 2, after.hasPrefix(":"),
               let port = digits(after.dropFirst()) {
                return (String(inside), port)
            }
        }
        var depth = 0
        var colons: [String.Index] = []
        for index in key.indices {
            switch key[index] {
            case "[": depth += 1
            case "]": depth = max(0, depth - 1)
            case ":" where depth == 0: colons.append(index)
            default: break
            }
        }
        // Exactly one colon outside brackets followed by digits: `host:port`.
        if colons.count == 1, let colon = colons.first, colon != key.startIndex,
           let port = digits(key[key.index(after: colon)...]) {
            return (String(key[..<colon]), port)
        }
        return (key, nil)
    }

    private static func digits(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else { return nil }
        return Int(text)
    }

    /// Ansible's `expand_hostname_range`: the first `[...]` is expanded, then the results are
    /// expanded again until no bracket is left, so several ranges multiply out in order.
    static func expand(_ pattern: String) throws(Problem) -> [String] {
        guard let open = pattern.firstIndex(of: "[") else { return [pattern] }
        guard let close = pattern[open...].firstIndex(of: "]") else {
            throw Problem(message: "host range in '\(pattern)' has no closing ']'")
        }
        let head = String(pattern[..<open])
        let tail = String(pattern[pattern.index(after: close)...])
        let bounds = pattern[pattern.index(after: open)..<close].split(separator: ":", omittingEmptySubsequences: false)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw Problem(message: "host range in '\(pattern)' must be [begin:end] or [begin:end:step]")
        }
        let begin = bounds[0].isEmpty ? "0" : String(bounds[0])
        let end = String(bounds[1])
        guard !end.isEmpty else {
            throw Problem(message: "host range in '\(pattern)' must give an end value")
        }
        var step = 1
        if bounds.count == 3 {
            guard let value = Int(bounds[2]), value > 0 else {
                throw Problem(message: "host range step in '\(pattern)' must be a positive integer")
            }
            step = value
        }

        let values: [String]
        if begin.count == 1, end.count == 1,
           let first = letters.firstIndex(of: Character(begin)), let last = letters.firstIndex(of: Character(end)) {
            guard first <= last else {
                throw Problem(message: "host range in '\(pattern)' must have begin <= end")
            }
            values = stride(from: first, through: last, by: step).map { String(letters[$0]) }
        } else if let first = Int(begin), let last = Int(end), first >= 0 {
            guard first <= last else {
                throw Problem(message: "host range in '\(pattern)' must have begin <= end")
            }
            guard (last - first) / step < maximumExpansion else {
                throw Problem(message: "host range in '\(pattern)' expands to more than \(maximumExpansion) hosts")
            }
            // A leading zero asks for zero-padding; Ansible then requires equal widths.
            let width = begin.hasPrefix("0") && begin.count > 1 ? begin.count : 0
            if width > 0, end.count != width {
                throw Problem(message: "host range in '\(pattern)' must have begin and end of the same width when zero-padded")
            }
            values = stride(from: first, through: last, by: step).map { number in
                let text = String(number)
                return String(repeating: "0", count: max(0, width - text.count)) + text
            }
        } else {
            throw Problem(message: "host range in '\(pattern)' must be numbers ([01:10]) or single letters ([a:f])")
        }

        var names: [String] = []
        for value in values {
            let name = head + value + tail
            if name.contains("[") {
                names.append(contentsOf: try expand(name))
            } else {
                names.append(name)
            }
            guard names.count <= maximumExpansion else {
                throw Problem(message: "host range in '\(pattern)' expands to more than \(maximumExpansion) hosts")
            }
        }
        return names
    }
}
