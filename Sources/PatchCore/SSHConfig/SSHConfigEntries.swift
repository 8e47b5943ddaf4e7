import Foundation

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
