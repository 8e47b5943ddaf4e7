import Foundation

/// One bastion in a host's jump chain, as OpenSSH's `ProxyJump`/`-J` writes it:
/// `[user@]host[:port]` or `[user@][v6addr]:port`. Hops are listed from the controller outwards.
public struct JumpHop: Sendable, Hashable, Codable, CustomStringConvertible {
    public var user: String?
    public var address: String
    /// nil: the hop's own default (its ssh_config entry, else 22).
    public var port: Int?

    public init(user: String? = nil, address: String, port: Int? = nil) {
        self.user = user
        self.address = address
        self.port = port
    }

    /// `user@host:port` as OpenSSH prints it (IPv6 addresses in brackets when a port follows).
    public var description: String {
        let host = address.contains(":") && port != nil ? "[\(address)]" : address
        return (user.map { "\($0)@" } ?? "") + host + (port.map { ":\($0)" } ?? "")
    }

    /// Parses a comma-separated ProxyJump list. `none` (OpenSSH's way to turn it off) is an empty
    /// chain. Throws a message naming the bad hop; URIs (`ssh://`) are accepted as OpenSSH does.
    public static func parseList(_ text: String) throws(JumpHopError) -> [JumpHop] {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.lowercased() == "none" { return [] }
        return try trimmed.split(separator: ",", omittingEmptySubsequences: false).map { part throws(JumpHopError) in
            try parse(String(part).trimmingCharacters(in: .whitespaces))
        }
    }

    public static func parse(_ text: String) throws(JumpHopError) -> JumpHop {
        var rest = Substring(text)
        if rest.hasPrefix("ssh://") { rest = rest.dropFirst(6) }
        guard !rest.isEmpty else { throw JumpHopError(hop: text, reason: "empty hop") }
        var user: String?
        if let at = rest.lastIndex(of: "@") {
            user = String(rest[..<at])
            rest = rest[rest.index(after: at)...]
            if user?.isEmpty == true { throw JumpHopError(hop: text, reason: "empty user") }
        }
        var address: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw JumpHopError(hop: text, reason: "unclosed '['") }
            address = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw JumpHopError(hop: text, reason: "unexpected text after ']'") }
                portText = after.dropFirst()
            }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            address = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            address = rest  // a bare IPv6 address has several colons and no port
        }
        guard !address.isEmpty, !address.contains(where: { $0.isWhitespace || $0 == "/" || $0.asciiValue.map { $0 < 32 } ?? false })
        else { throw JumpHopError(hop: text, reason: "invalid host name") }
        var port: Int?
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw JumpHopError(hop: text, reason: "port must be 1-65535")
            }
            port = value
        }
        return JumpHop(user: user, address: String(address), port: port)
    }
}

public struct JumpHopError: Error, Sendable, Equatable, CustomStringConvertible {
    public var hop: String
    public var reason: String
    public var description: String { "invalid jump host '\(hop)': \(reason)" }
}
