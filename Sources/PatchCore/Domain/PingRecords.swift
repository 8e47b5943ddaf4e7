import Foundation

/// One host's answer to `patchctl ping`: reached, logged in, and (with `become`) `sudo` works.
public struct PingResult: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// The login user (before any `become`).
    public var user: String
    /// The jump chain, controller side first (`[]` when direct).
    public var via: [String]
    /// Whether the check escalated (`sudo -n true`, or `sudo -S` with a become password).
    public var become: Bool
    public var status: HostStatus
    /// The precise failure, as the transport or sudo said it (naming the hop when a bastion failed).
    public var error: String?
    public var durationMs: Int
    public var startedAt: Date
    public var finishedAt: Date

    public init(name: String, address: String, port: Int, user: String, via: [String] = [], become: Bool, status: HostStatus,
                error: String? = nil, durationMs: Int, startedAt: Date, finishedAt: Date) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.via = via
        self.become = become
        self.status = status
        self.error = error
        self.durationMs = durationMs
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(address, forKey: .address)
        try container.encode(port, forKey: .port)
        try container.encode(user, forKey: .user)
        try container.encode(via, forKey: .via)
        try container.encode(become, forKey: .become)
        try container.encode(status, forKey: .status)
        try container.encode(error, forKey: .error)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }

    enum CodingKeys: String, CodingKey {
        case name, address, port, user, via, become, status, error
        case durationMs = "duration_ms"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// A whole `patchctl ping`, as `--output json` prints it. Not recorded in history: a ping
/// changes nothing and has nothing to compare later.
public struct PingRun: Codable, Sendable, Equatable {
    public var kind: RunKind
    public var startedAt: Date
    public var finishedAt: Date?
    public var hosts: [PingResult]
    public var summary: StatusTally

    public init(startedAt: Date, finishedAt: Date?, hosts: [PingResult]) {
        kind = .ping
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.hosts = hosts
        summary = StatusTally(hosts.map(\.status))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(summary, forKey: .summary)
    }

    enum CodingKeys: String, CodingKey {
        case kind
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case hosts, summary
    }
}
