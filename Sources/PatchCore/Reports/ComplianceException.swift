import Foundation

/// An accepted risk (`patchctl exception add`): a host may miss one CVE or package until a
/// date, with an owner and a reason. Once expired it no longer excuses anything: the finding
/// counts as non-compliant again and the report names the expired exception.
public struct ComplianceException: Codable, Sendable, Equatable {
    /// What an exception covers, as written: `CVE-2026-1234`, `openssl`, `openssl@3.0.17-1~deb12u2`,
    /// or a glob of package names (`libssl*`, `linux-image-*`), as policies' include/exclude write them.
    public enum Target: Sendable, Equatable {
        case cve(String)
        case package(name: String, version: String?)

        /// Nil for text that is neither a CVE id nor a package name (optionally `@VERSION`).
        public init?(_ text: String) {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.uppercased().hasPrefix("CVE-") {
                let parts = trimmed.split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count == 3, parts[1].count == 4, parts[2].count >= 4,
                      parts[1].allSatisfy(\.isASCII), parts[1].allSatisfy(\.isNumber),
                      parts[2].allSatisfy(\.isASCII), parts[2].allSatisfy(\.isNumber) else { return nil }
                self = .cve(trimmed.uppercased())
                return
            }
            let pieces = trimmed.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            // Package names as Debian and RPM spell them, or a glob of them; no spaces or shell characters.
            let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "+-._:~".contains(c)) }
            let allowedInName = { (c: Character) in allowed(c) || "*?[]".contains(c) }
            guard let name = pieces.first, !name.isEmpty, name.allSatisfy(allowedInName), name.contains(where: allowed) || name == "*" else { return nil }
            if pieces.count == 2 {
                guard !pieces[1].isEmpty, pieces[1].allSatisfy(allowed) else { return nil }
                self = .package(name: name, version: pieces[1])
            } else {
                self = .package(name: name, version: nil)
            }
        }

        public var text: String {
            switch self {
            case let .cve(id): id
            case let .package(name, version): version.map { "\(name)@\($0)" } ?? name
            }
        }
    }

    /// Whether the exception excuses a finding at a moment.
    public enum State: String, Codable, Sendable {
        case active, expired, removed
        /// Added after the moment in question: it did not exist yet.
        case future
    }

    public var id: Int64
    /// A host name or a glob over names (`web*`).
    public var host: String
    public var target: String
    public var until: Date
    public var reason: String
    public var owner: String
    public var createdBy: String
    public var createdAt: Date
    public var removedAt: Date?
    public var removedBy: String?

    public init(id: Int64, host: String, target: String, until: Date, reason: String, owner: String, createdBy: String,
                createdAt: Date, removedAt: Date? = nil, removedBy: String? = nil) {
        self.id = id
        self.host = host
        self.target = target
        self.until = until
        self.reason = reason
        self.owner = owner
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.removedAt = removedAt
        self.removedBy = removedBy
    }

    public func state(at date: Date) -> State {
        if createdAt > date { return .future }
        if let removedAt, removedAt <= date { return .removed }
        return until > date ? .active : .expired
    }

    /// Whether this exception is about `package` at `version` on `host`. CVE exceptions match
    /// findings that carry CVE ids; apt reports none, so on Debian and Ubuntu they match nothing.
    public func covers(host name: String, package: String, version: String, cves: [String]) -> Bool {
        guard GlobPattern(host).matches(name) else { return false }
        switch Target(target) {
        case let .cve(id): return cves.contains(id)
        case let .package(packageName, packageVersion):
            return GlobPattern(packageName).matches(package) && (packageVersion == nil || packageVersion == version)
        case nil: return false
        }
    }

    // Explicit nulls: consumers can rely on every key existing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(host, forKey: .host)
        try container.encode(target, forKey: .target)
        try container.encode(until, forKey: .until)
        try container.encode(reason, forKey: .reason)
        try container.encode(owner, forKey: .owner)
        try container.encode(createdBy, forKey: .createdBy)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(removedAt, forKey: .removedAt)
        try container.encode(removedBy, forKey: .removedBy)
    }

    enum CodingKeys: String, CodingKey {
        case id, host, target, until, reason, owner
        case createdBy = "created_by"
        case createdAt = "created_at"
        case removedAt = "removed_at"
        case removedBy = "removed_by"
    }
}
