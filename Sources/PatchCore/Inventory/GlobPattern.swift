/// A shell-style wildcard as Python's `fnmatch` (which Ansible uses for host patterns) reads it:
/// `*` any run of characters, `?` one character, `[abc]`, `[a-z]` and `[!abc]` one character of
/// a set; an unclosed `[` is a literal. Matching is case-sensitive and covers the whole name.
struct GlobPattern: Sendable, Equatable {
    enum Element: Sendable, Equatable {
        case literal(Character)
        case anyCharacter
        case anyRun
        case set(ranges: [ClosedRange<Character>], negated: Bool)
    }

    let elements: [Element]

    static func hasWildcards(_ text: String) -> Bool {
        text.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    init(_ pattern: String) {
        let characters = Array(pattern)
        var elements: [Element] = []
        var index = 0
        while index < characters.count {
            let character = characters[index]
            switch character {
            case "*":
                if elements.last != .anyRun { elements.append(.anyRun) }
                index += 1
            case "?":
                elements.append(.anyCharacter)
                index += 1
            case "[":
                if let (set, next) = Self.parseSet(characters, from: index) {
                    elements.append(set)
                    index = next
                } else {
                    elements.append(.literal("["))
                    index += 1
                }
            default:
                elements.append(.literal(character))
                index += 1
            }
        }
        self.elements = elements
    }

    /// Parses `[...]` starting at `start`; nil when there is no closing bracket (then `[` is literal).
    private static func parseSet(_ characters: [Character], from start: Int) -> (Element, Int)? {
        var index = start + 1
        var negated = false
        if index < characters.count, characters[index] == "!" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<Character>] = []
        var first = true
        // As in fnmatch, a `]` right after `[` or `[!` belongs to the set.
        while index < characters.count, characters[index] != "]" || first {
            let low = characters[index]
            if index + 2 < characters.count, characters[index + 1] == "-", characters[index + 2] != "]" {
                let high = characters[index + 2]
                if low <= high { ranges.append(low...high) }
                index += 3
            } else {
                ranges.append(low...low)
                index += 1
            }
            first = false
        }
        guard index < characters.count else { return nil }
        return (.set(ranges: ranges, negated: negated), index + 1)
    }

    func matches(_ name: String) -> Bool {
        let text = Array(name)
        var t = 0, p = 0
        // Position of the last `*` and the text index it currently absorbs up to, for backtracking.
        var star: (pattern: Int, text: Int)?
        while t < text.count {
            if p < elements.count, elements[p] != .anyRun, Self.matches(elements[p], text[t]) {
                t += 1
                p += 1
            } else if p < elements.count, elements[p] == .anyRun {
                star = (p, t)
                p += 1
            } else if let last = star {
                star = (last.pattern, last.text + 1)
                p = last.pattern + 1
                t = last.text + 1
            } else {
                return false
            }
        }
        while p < elements.count, elements[p] == .anyRun { p += 1 }
        return p == elements.count
    }

    private static func matches(_ element: Element, _ character: Character) -> Bool {
        switch element {
        case let .literal(expected): return expected == character
        case .anyCharacter: return true
        case .anyRun: return true
        case let .set(ranges, negated): return ranges.contains { $0.contains(character) } != negated
        }
    }
}
