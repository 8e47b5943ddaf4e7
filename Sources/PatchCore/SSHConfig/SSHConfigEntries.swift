import Foundation

/// The host an ssh_config is asked about, as `ssh [-l user] [-p port] [-o HostName=…] host` would be.
public struct SSHConfigQuery: Sendable, Hashable {
    /// The inventory name: what `Host` patterns and `Match originalhost` see.
    public var host: String
    /// Set by the inventory (its address): ssh_config's HostName is then not used, and
    /// `Match host` sees this.
    public var hostName: String?
    /// Set by the inventory or a flag, like `ssh -l`.
    public var user: String?
    /// Set by the inventory, like `ssh -p`.
    public var port: Int?

    public init(host: String, hostName: String? = nil, user: String? = nil, port: Int? = nil) {
        self.host = host
        self.hostName = hostName
        self.user = user
        self.port = port
    }
}

/// What ssh_config says for one host: per keyword (lowercase), the value in force and where it
/// was written. Most keywords keep their first value (OpenSSH's first match wins);
/// IdentityFile, CertificateFile and the forwarding lists keep every occurrence, in order.
public struct SSHConfigEntries: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var arguments: [String]
        /// nil: from the command line (the inventory's values) or from `ssh -G`, which does not say.
        public var origin: SSHConfigOrigin?
    }

    public var values: [String: [Entry]] = [:]

    public init() {}

    /// Keywords whose every occurrence counts.
    static let accumulating: Set<String> = [
        "identityfile", "certificatefile", "localforward", "remoteforward", "dynamicforward", "sendenv",
    ]

    public func first(_ keyword: String) -> Entry? { values[keyword]?.first }
    public func all(_ keyword: String) -> [Entry] { values[keyword] ?? [] }

    /// Records `arguments` unless the keyword already has its value; identity and certificate
    /// files are not recorded twice (as OpenSSH's add_identity_file).
    mutating func record(_ keyword: String, _ arguments: [String], origin: SSHConfigOrigin?) {
        if Self.accumulating.contains(keyword) {
            if keyword == "identityfile" || keyword == "certificatefile",
               values[keyword]?.contains(where: { $0.arguments == arguments }) == true { return }
            values[keyword, default: []].append(Entry(arguments: arguments, origin: origin))
        } else if values[keyword] == nil {
            values[keyword] = [Entry(arguments: arguments, origin: origin)]
        }
    }
}

/// A reason without a place; the caller adds the file and line.
struct SSHConfigMessage: Error, Sendable, CustomStringConvertible, ExpressibleByStringInterpolation {
    var description: String
    init(stringLiteral value: String) { description = value }
    init(stringInterpolation: DefaultStringInterpolation) { description = String(stringInterpolation: stringInterpolation) }
}

/// OpenSSH's `%` tokens. Unknown tokens are errors, as in OpenSSH.
enum SSHConfigTokens {
    static func expand(_ text: String, _ tokens: [Character: String]) -> Result<String, SSHConfigMessage> {
        guard text.contains("%") else { return .success(text) }
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else { result.append(character); continue }
            guard let token = iterator.next() else { return .failure("'%' at the end of '\(text)'") }
            if token == "%" { result.append("%"); continue }
            guard let value = tokens[token] else { return .failure("unknown or unsupported token %\(token) in '\(text)'") }
            result += value
        }
        return .success(result)
    }

    /// `~` and `~/…` with the user's home (OpenSSH's tilde_expand_filename; `~user` is refused).
    static func expandTilde(_ path: String, home: String) -> Result<String, SSHConfigMessage> {
        if path == "~" { return .success(home) }
        if path.hasPrefix("~/") { return .success(home + path.dropFirst()) }
        if path.hasPrefix("~") { return .failure("'~user' paths are not supported: '\(path)'") }
        return .success(path)
    }
}

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
