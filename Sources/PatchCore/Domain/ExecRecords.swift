import Foundation

/// One host's ad-hoc command outcome (`patchctl exec`).
public struct ExecResult: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// The login user the inventory (or ssh_config) names; nil when the run's default applies.
    public var user: String?
    /// The jump chain (`user@bastion:port`, controller side first); empty when direct, nil only
    /// in records stored before it existed (decoding them must not fail). Printed as a list.
    public var via: [String]?
    /// `ok` when the command exited 0, `failed` when it ran and exited non-zero.
    public var status: HostStatus
    public var error: String?
    public var exitCode: Int?
    public var stdout: String
    public var stderr: String
    public var durationMs: Int
    public var startedAt: Date
    public var finishedAt: Date

    public init(name: String, address: String, port: Int, user: String? = nil, via: [String]? = [], status: HostStatus, error: String? = nil, exitCode: Int? = nil,
                stdout: String = "", stderr: String = "", durationMs: Int = 0, startedAt: Date, finishedAt: Date) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.via = via
        self.status = status
        self.error = error
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
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
        try container.encode(via ?? [], forKey: .via)
        try container.encode(status, forKey: .status)
        try container.encode(error, forKey: .error)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(stdout, forKey: .stdout)
        try container.encode(stderr, forKey: .stderr)
        try container.encode(durationMs, forKey: .durationMs)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }

    enum CodingKeys: String, CodingKey {
        case name, address, port, user, via, status, error
        case exitCode = "exit_code"
        case stdout, stderr
        case durationMs = "duration_ms"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// A whole `patchctl exec` run, as printed with `--output json` and as kept in history.
public struct ExecRun: Codable, Sendable, Equatable {
    public var runId: String
    public var kind: RunKind
    public var command: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var hosts: [ExecResult]
    /// Exec has no findings: the host tally is the whole summary.
    public var summary: StatusTally

    public init(runId: String, command: String, startedAt: Date, finishedAt: Date?, hosts: [ExecResult]) {
        self.runId = runId
        kind = .exec
        self.command = command
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.hosts = hosts
        summary = StatusTally(hosts.map(\.status))
    }

    // By hand: a run history shows unfinished prints `finished_at: null`, never drops the key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runId, forKey: .runId)
        try container.encode(kind, forKey: .kind)
        try container.encode(command, forKey: .command)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(summary, forKey: .summary)
    }

    enum CodingKeys: String, CodingKey {
        case runId = "run_id"
        case kind, command
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case hosts, summary
    }
}
