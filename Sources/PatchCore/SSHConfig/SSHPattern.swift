/// OpenSSH's pattern matching (match.c): `*` and `?` globs; lists are comma-separated and a
/// matching `!pattern` vetoes the whole list.
enum SSHPattern {
    static func matches(_ text: String, _ pattern: String) -> Bool {
        let t = Array(text.unicodeScalars), p = Array(pattern.unicodeScalars)
        var ti = 0, pi = 0, starP = -1, starT = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti], p[pi] != "*" {
                ti += 1; pi += 1
            } else if pi < p.count, p[pi] == "*" {
                starP = pi; starT = ti; pi += 1
            } else if starP >= 0 {
                pi = starP + 1; starT += 1; ti = starT
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// match_pattern_list: 1 on a positive match, -1 when a negated pattern matches, 0 otherwise.
    static func matchList(_ text: String, _ list: String, lowercase: Bool) -> Int {
        var got = 0
        for raw in list.split(separator: ",", omittingEmptySubsequences: false) {
            var pattern = String(raw)
            if lowercase { pattern = pattern.lowercased() }
            let negated = pattern.hasPrefix("!")
            if negated { pattern.removeFirst() }
            if matches(text, pattern) {
                if negated { return -1 }
                got = 1
            }
        }
        return got
    }

    static func matchHostname(_ host: String, _ list: String) -> Bool {
        matchList(host.lowercased(), list, lowercase: true) == 1
    }
}
