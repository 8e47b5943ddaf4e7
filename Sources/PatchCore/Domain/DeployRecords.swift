import Foundation

/// One package a deployment means to install on a host, at an exact version.
public struct PlannedUpdate: Codable, Sendable, Equatable {
    public var name: String
    public var fromVersion: String
    public var toVersion: String
    public var security: Bool
    public var severity: String?
    public var source: String
    /// The vendor's advisory ids shipping it (`PendingUpdate.advisories`).
    public var advisories: [String]
    /// The CVEs installing it closes (ids, in order), where advisory data matched any.
    public var cves: [String]
    /// One of them is on CISA's Known Exploited Vulnerabilities catalogue.
    public var kev: Bool

    public init(_ update: PendingUpdate) {
        name = update.name
        fromVersion = update.installedVersion
        toVersion = update.availableVersion
        security = update.security
        severity = update.severity
        source = update.source
        advisories = update.advisories
        cves = update.cves.map(\.id).sorted()
        kev = update.fixesKEV
    }

    // Deploy documents stored before CVEs existed decode with none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        fromVersion = try container.decode(String.self, forKey: .fromVersion)
        toVersion = try container.decode(String.self, forKey: .toVersion)
        security = try container.decode(Bool.self, forKey: .security)
        severity = try container.decodeIfPresent(String.self, forKey: .severity)
        source = try container.decode(String.self, forKey: .source)
        advisories = try container.decodeIfPresent([String].self, forKey: .advisories) ?? AdvisoryIDs.inLegacySource(source)
        cves = try container.decodeIfPresent([String].self, forKey: .cves) ?? []
        kev = try container.decodeIfPresent(Bool.self, forKey: .kev) ?? false
    }

    // Explicit nulls: consumers can rely on every key existing (apt gives no severity).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(fromVersion, forKey: .fromVersion)
        try container.encode(toVersion, forKey: .toVersion)
        try container.encode(security, forKey: .security)
        try container.encode(severity, forKey: .severity)
        try container.encode(source, forKey: .source)
        try container.encode(advisories, forKey: .advisories)
        try container.encode(cves, forKey: .cves)
        try container.encode(kev, forKey: .kev)
    }

    enum CodingKeys: String, CodingKey {
        case name
        case fromVersion = "from_version"
        case toVersion = "to_version"
        case security, severity, source, advisories, cves, kev
    }
}

/// A package that reached its target version.
public struct InstalledPackage: Codable, Sendable, Equatable {
    public var name: String
    public var fromVersion: String
    public var toVersion: String

    public init(name: String, fromVersion: String, toVersion: String) {
        self.name = name
        self.fromVersion = fromVersion
        self.toVersion = toVersion
    }

    enum CodingKeys: String, CodingKey {
        case name
        case fromVersion = "from_version"
        case toVersion = "to_version"
    }
}

/// A package that did not reach its target version: what it is at now, and why.
public struct FailedPackage: Codable, Sendable, Equatable {
    public var name: String
    public var fromVersion: String
    public var targetVersion: String
    /// Installed version after the attempt; nil when the package is no longer (fully) installed.
    public var actualVersion: String?
    public var reason: String

    public init(name: String, fromVersion: String, targetVersion: String, actualVersion: String?, reason: String) {
        self.name = name
        self.fromVersion = fromVersion
        self.targetVersion = targetVersion
        self.actualVersion = actualVersion
        self.reason = reason
    }

    // Explicit nulls: consumers can rely on every key existing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(fromVersion, forKey: .fromVersion)
        try container.encode(targetVersion, forKey: .targetVersion)
        try container.encode(actualVersion, forKey: .actualVersion)
        try container.encode(reason, forKey: .reason)
    }

    enum CodingKeys: String, CodingKey {
        case name
        case fromVersion = "from_version"
        case targetVersion = "target_version"
        case actualVersion = "actual_version"
        case reason
    }
}

/// A pending update the policy left alone, and why (not selected, held, awaiting approval...).
/// One from the deployment's scan carries what the scan said of it, so reports show it as fully
/// as a scan's finding; a bundle item or a refused line carries none (it is no pending update).
public struct SkippedUpdate: Codable, Sendable, Equatable {
    public var name: String
    public var version: String
    public var reason: String
    /// True when an approval would let it through (it is listed by `patchctl approvals list`).
    public var awaitingApproval: Bool
    /// The scan's finding: installed version, source, security and vendor severity; nil when the
    /// entry is not a pending update.
    public var installedVersion: String?
    public var source: String?
    public var security: Bool?
    public var severity: String?
    /// The CVEs the update fixes and whether one is known exploited, as the deployment's own scan
    /// matched them; nil when the entry is not a pending update (or was recorded before this).
    public var cves: [String]?
    public var kev: Bool?
    /// Written before skipped updates carried the scan's finding: reports guess as they used to.
    public private(set) var recordedWithoutFinding = false

    public init(name: String, version: String, reason: String, awaitingApproval: Bool = false) {
        self.name = name
        self.version = version
        self.reason = reason
        self.awaitingApproval = awaitingApproval
    }

    /// A pending update the scan listed and the policy or an approval left out.
    public init(_ update: PendingUpdate, reason: String, awaitingApproval: Bool = false) {
        self.init(name: update.name, version: update.availableVersion, reason: reason, awaitingApproval: awaitingApproval)
        installedVersion = update.installedVersion
        source = update.source
        security = update.security
        severity = update.severity
        cves = update.cves.map(\.id).sorted()
        kev = update.fixesKEV
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        version = try c.decode(String.self, forKey: .version)
        reason = try c.decode(String.self, forKey: .reason)
        awaitingApproval = try c.decode(Bool.self, forKey: .awaitingApproval)
        installedVersion = try c.decodeIfPresent(String.self, forKey: .installedVersion)
        source = try c.decodeIfPresent(String.self, forKey: .source)
        security = try c.decodeIfPresent(Bool.self, forKey: .security)
        severity = try c.decodeIfPresent(String.self, forKey: .severity)
        cves = try c.decodeIfPresent([String].self, forKey: .cves)
        kev = try c.decodeIfPresent(Bool.self, forKey: .kev)
        recordedWithoutFinding = !c.contains(.installedVersion)
    }

    // Explicit nulls: consumers can rely on every key existing.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(version, forKey: .version)
        try c.encode(reason, forKey: .reason)
        try c.encode(awaitingApproval, forKey: .awaitingApproval)
        try c.encode(installedVersion, forKey: .installedVersion)
        try c.encode(source, forKey: .source)
        try c.encode(security, forKey: .security)
        try c.encode(severity, forKey: .severity)
        try c.encode(cves, forKey: .cves)
        try c.encode(kev, forKey: .kev)
    }

    enum CodingKeys: String, CodingKey {
        case name, version, reason
        case awaitingApproval = "awaiting_approval"
        case installedVersion = "installed_version"
        case source, security, severity, cves, kev
    }
}

/// One command patchctl ran on the host during a deployment (pre, install, post, reboot), for the record.
public struct DeployStep: Codable, Sendable, Equatable {
    public var phase: String
    public var command: String
    public var exitCode: Int?
    /// The end of the output (stdout then stderr), enough to see why something failed.
    public var output: String
    public var durationMs: Int

    public init(phase: String, command: String, exitCode: Int?, output: String, durationMs: Int) {
        self.phase = phase
        self.command = command
        self.exitCode = exitCode
        self.output = output
        self.durationMs = durationMs
    }

    enum CodingKeys: String, CodingKey {
        case phase, command
        case exitCode = "exit_code"
        case output
        case durationMs = "duration_ms"
    }
}

/// One host's deployment: the plan, what changed, and how it ended.
public struct DeployHostRecord: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// The login user the inventory (or ssh_config) names; nil when the run's default applies.
    public var user: String?
    /// The jump chain (`user@bastion:port`, controller side first); empty when direct, nil only
    /// in records stored before it existed (decoding them must not fail). Printed as a list.
    public var via: [String]?
    public var status: HostStatus
    public var ring: String
    /// 1-based rolling batch within the ring.
    public var batch: Int
    public var error: String?
    public var os: OSInfo?
    public var planned: [PlannedUpdate]
    public var installed: [InstalledPackage]
    public var failed: [FailedPackage]
    public var skipped: [SkippedUpdate]
    /// The exact commands the deployment runs (dry run) or ran.
    public var commands: [String]
    public var steps: [DeployStep]
    public var rebooted: Bool
    public var rebootRequired: Bool?
    /// Why the host was deferred, or why a deferral was overridden (`forced`).
    public var deferral: String?
    /// Deferrals were used up or the deadline passed: installed although users were logged in.
    public var forced: Bool
    public var loggedInUsers: [LoggedInUser]
    /// How to repair a broken package manager found on the host.
    public var repair: String?
    public var startedAt: Date
    public var finishedAt: Date

    public init(host: Host, status: HostStatus, ring: String, batch: Int, error: String? = nil, startedAt: Date, finishedAt: Date) {
        name = host.name
        address = host.address
        port = host.port
        user = host.user
        via = host.via
        self.status = status
        self.ring = ring
        self.batch = batch
        self.error = error
        os = nil
        planned = []
        installed = []
        failed = []
        skipped = []
        commands = []
        steps = []
        rebooted = false
        rebootRequired = nil
        deferral = nil
        forced = false
        loggedInUsers = []
        repair = nil
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// Counts against a ring's `max_fail_percent`: the host was meant to change and could not.
    public var countsAsFailure: Bool { status.isFailure }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(address, forKey: .address)
        try container.encode(port, forKey: .port)
        try container.encode(user, forKey: .user)
        try container.encode(via ?? [], forKey: .via)
        try container.encode(status, forKey: .status)
        try container.encode(ring, forKey: .ring)
        try container.encode(batch, forKey: .batch)
        try container.encode(error, forKey: .error)
        try container.encode(os, forKey: .os)
        try container.encode(planned, forKey: .planned)
        try container.encode(installed, forKey: .installed)
        try container.encode(failed, forKey: .failed)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(commands, forKey: .commands)
        try container.encode(steps, forKey: .steps)
        try container.encode(rebooted, forKey: .rebooted)
        try container.encode(rebootRequired, forKey: .rebootRequired)
        try container.encode(deferral, forKey: .deferral)
        try container.encode(forced, forKey: .forced)
        try container.encode(loggedInUsers, forKey: .loggedInUsers)
        try container.encode(repair, forKey: .repair)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }

    enum CodingKeys: String, CodingKey {
        case name, address, port, user, via, status, ring, batch, error, os, planned, installed, failed, skipped, commands, steps, rebooted
        case rebootRequired = "reboot_required"
        case deferral, forced
        case loggedInUsers = "logged_in_users"
        case repair
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }
}

/// How a deploy run ended as a whole.
public enum DeployOutcome: String, Codable, Sendable {
    /// Every targeted ring ran (hosts may still have failed within `max_fail_percent`).
    case finished
    /// `max_fail_percent` was exceeded: the ring stopped and later rings did not start.
    case halted
    /// SIGINT/SIGTERM: hosts not started are left for `--resume`.
    case interrupted
    /// Nothing to do now: outside the window, or the next ring waits for its soak or approvals.
    case waiting
    /// `--dry-run`: nothing was changed.
    case planned
}

/// A ring's part in a run.
public struct RingReport: Codable, Sendable, Equatable {
    public var name: String
    public var hosts: Int
    public var failed: Int
    public var state: RingState
    public var note: String?

    public init(name: String, hosts: Int, failed: Int, state: RingState, note: String? = nil) {
        self.name = name
        self.hosts = hosts
        self.failed = failed
        self.state = state
        self.note = note
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(failed, forKey: .failed)
        try container.encode(state, forKey: .state)
        try container.encode(note, forKey: .note)
    }

    enum CodingKeys: String, CodingKey {
        case name, hosts, failed, state, note
    }
}

/// What a ring did in a run (stored in the run's report: the raw values are kept as written).
public enum RingState: String, Codable, Sendable, CaseIterable {
    case ran, halted
    /// Its soak, or the previous ring's health, holds it back.
    case waiting
    /// An earlier ring halted or the run was interrupted before it.
    case notStarted = "not_started"
    /// Not selected by `--ring`.
    case skipped
    case interrupted
}

public struct DeploySummary: Codable, Sendable, Equatable {
    public var hosts: Int
    public var ok: Int
    public var failed: Int
    public var skipped: Int
    public var deferred: Int
    public var interrupted: Int
    public var installed: Int
    public var failedPackages: Int
    public var rebooted: Int
    public var byStatus: [String: Int]

    public init(_ hosts: [DeployHostRecord]) {
        let tally = StatusTally(hosts.map(\.status))
        self.hosts = hosts.count
        ok = tally.ok
        failed = hosts.filter(\.countsAsFailure).count
        skipped = hosts.filter { $0.status == .skipped }.count
        deferred = hosts.filter { $0.status == .deferred }.count
        interrupted = hosts.filter { $0.status == .interrupted }.count
        installed = hosts.reduce(0) { $0 + $1.installed.count }
        failedPackages = hosts.reduce(0) { $0 + $1.failed.count }
        rebooted = hosts.filter(\.rebooted).count
        byStatus = tally.byStatus
    }

    enum CodingKeys: String, CodingKey {
        case hosts, ok, failed, skipped, deferred, interrupted, installed
        case failedPackages = "failed_packages"
        case rebooted
        case byStatus = "by_status"
    }
}

/// A whole deployment: what `deploy --output json` prints and `history show` reprints.
public struct DeployRunRecord: Codable, Sendable, Equatable {
    public var runId: String
    public var kind: RunKind
    public var policy: String
    public var outcome: DeployOutcome
    public var dryRun: Bool
    public var startedAt: Date
    public var finishedAt: Date?
    public var rings: [RingReport]
    public var notes: [String]
    public var hosts: [DeployHostRecord]
    public var summary: DeploySummary
    /// Set when history could not be written: what failed and where the records went instead.
    public var historyError: HistoryWriteFailure?
    /// `--reason` (a change ticket...), as the run was started with.
    public var reason: String?

    public init(runId: String, policy: String, outcome: DeployOutcome, dryRun: Bool, startedAt: Date, finishedAt: Date?,
                rings: [RingReport], notes: [String], hosts: [DeployHostRecord]) {
        self.runId = runId
        kind = .deploy
        self.policy = policy
        self.outcome = outcome
        self.dryRun = dryRun
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.rings = rings
        self.notes = notes
        self.hosts = hosts
        summary = DeploySummary(hosts)
    }

    enum CodingKeys: String, CodingKey {
        case runId = "run_id"
        case kind, policy, outcome
        case dryRun = "dry_run"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case rings, notes, hosts, summary
        case historyError = "history_error"
        case reason
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        runId = try c.decode(String.self, forKey: .runId)
        kind = try c.decode(RunKind.self, forKey: .kind)
        policy = try c.decode(String.self, forKey: .policy)
        outcome = try c.decode(DeployOutcome.self, forKey: .outcome)
        dryRun = try c.decode(Bool.self, forKey: .dryRun)
        startedAt = try c.decode(Date.self, forKey: .startedAt)
        finishedAt = try c.decodeIfPresent(Date.self, forKey: .finishedAt)
        rings = try c.decode([RingReport].self, forKey: .rings)
        notes = try c.decode([String].self, forKey: .notes)
        hosts = try c.decode([DeployHostRecord].self, forKey: .hosts)
        summary = try c.decode(DeploySummary.self, forKey: .summary)
        historyError = try c.decodeIfPresent(HistoryWriteFailure.self, forKey: .historyError)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
    }

    public func encode(to encoder: any Encoder) throws {
        // Every key always present, null where not set (docs/json.md's promise for JSON documents).
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runId, forKey: .runId)
        try c.encode(kind, forKey: .kind)
        try c.encode(policy, forKey: .policy)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(reason, forKey: .reason)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(rings, forKey: .rings)
        try c.encode(notes, forKey: .notes)
        try c.encode(hosts, forKey: .hosts)
        try c.encode(summary, forKey: .summary)
        try c.encode(historyError, forKey: .historyError)
    }
}
