import Foundation

/// How one host's run ended. Raw values are the strings in JSON output and in history.
public enum HostStatus: String, Codable, Sendable, CaseIterable {
    case ok
    case unreachable
    case authFailed = "auth_failed"
    case hostKeyMismatch = "host_key_mismatch"
    /// known_hosts has no key for the host (and unknown keys are not accepted): never contacted further.
    case hostKeyUnknown = "host_key_unknown"
    /// The server offered a key that known_hosts marks `@revoked`.
    case hostKeyRevoked = "host_key_revoked"
    case timeout
    /// Reached and ran, but the remote command reported failure (non-zero exit).
    case failed
    case error
    /// Deploy: nothing was changed on purpose (outside its window, a failing `pre` check).
    case skipped
    /// Deploy: postponed because users were logged in, or by `patchctl defer`.
    case deferred
    /// Deploy: stopped by SIGINT/SIGTERM before its package operation started; `--resume` redoes it.
    case interrupted
    /// Deploy: the run was interrupted (or history failed) before this targeted host was started;
    /// `--resume` starts it.
    case notStarted = "not_started"

    /// What `deploy --resume` still has to do.
    public var isLeftForResume: Bool { self == .interrupted || self == .notStarted }

    /// The host was meant to be worked on and could not be: what counts against a ring's
    /// `max_fail_percent` and as "failed" in history.
    public var isFailure: Bool {
        switch self {
        case .ok, .skipped, .deferred, .interrupted, .notStarted: return false
        case .unreachable, .authFailed, .hostKeyMismatch, .hostKeyUnknown, .hostKeyRevoked, .timeout, .failed, .error: return true
        }
    }

    /// `isFailure` statuses as an SQL list (`'unreachable', 'auth_failed', …`) for history queries.
    static let failureSQLList = allCases.filter(\.isFailure).map { "'\($0.rawValue)'" }.joined(separator: ", ")
}

/// Package-management family: what decides which commands scan and install.
public enum OSFamily: String, Codable, Sendable, CaseIterable {
    case debian, rhel, suse, macos, windows, unknown
}

public struct OSInfo: Codable, Sendable, Equatable {
    public var family: OSFamily
    /// Distribution id (`debian`, `ubuntu`, `rhel`...).
    public var id: String
    /// Human name (`Debian GNU/Linux`, `Ubuntu`).
    public var name: String
    /// Release (`12`, `22.04`).
    public var version: String
    public var codename: String?
    public var kernel: String?
    public var architecture: String?

    public init(family: OSFamily, id: String, name: String, version: String, codename: String? = nil,
                kernel: String? = nil, architecture: String? = nil) {
        self.family = family
        self.id = id
        self.name = name
        self.version = version
        self.codename = codename
        self.kernel = kernel
        self.architecture = architecture
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(family, forKey: .family)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(version, forKey: .version)
        try container.encode(codename, forKey: .codename)
        try container.encode(kernel, forKey: .kernel)
        try container.encode(architecture, forKey: .architecture)
    }

    enum CodingKeys: String, CodingKey {
        case family, id, name, version, codename, kernel, architecture
    }
}

/// One package (or patch) the endpoint could install now.
public struct PendingUpdate: Codable, Sendable, Equatable, Hashable {
    public var name: String
    public var installedVersion: String
    public var availableVersion: String
    /// Where the candidate comes from, as the package manager names it (e.g. `Debian-Security:12/oldstable-security`).
    public var source: String
    public var security: Bool
    public var architecture: String?
    /// The vendor's severity word (`critical`, `important`...) where the platform gives one; apt does not.
    public var severity: String?
    /// The vendor's advisory ids that ship this update (`RHSA-2025:1234`, SUSE patch names), in
    /// `source`'s order; empty where the platform has none (apt).
    public var advisories: [String]
    /// The CVEs this update fixes: exactly those the feed (or the endpoint's own advisory data)
    /// says are fixed by a version above the installed one and at most the candidate.
    public var cves: [CVEReference]

    public init(name: String, installedVersion: String, availableVersion: String, source: String, security: Bool, architecture: String? = nil,
                severity: String? = nil, advisories: [String] = [], cves: [CVEReference] = []) {
        self.name = name
        self.installedVersion = installedVersion
        self.availableVersion = availableVersion
        self.source = source
        self.security = security
        self.architecture = architecture
        self.severity = severity
        self.advisories = advisories
        self.cves = cves
    }

    /// On patchctl's one scale: the highest of the vendor's word and the CVEs' severities;
    /// `unknown` when neither rates it.
    public var normalizedSeverity: Severity {
        let vendor = severity.flatMap(Severity.init(text:)) ?? .unknown
        return cves.map(\.severity).reduce(vendor, max)
    }

    /// Fixes a CVE on CISA's Known Exploited Vulnerabilities catalogue.
    public var fixesKEV: Bool { cves.contains(where: \.kev) }

    // Records written before CVEs existed (deploy documents, journals) decode with none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        installedVersion = try container.decode(String.self, forKey: .installedVersion)
        availableVersion = try container.decode(String.self, forKey: .availableVersion)
        source = try container.decode(String.self, forKey: .source)
        security = try container.decode(Bool.self, forKey: .security)
        architecture = try container.decodeIfPresent(String.self, forKey: .architecture)
        severity = try container.decodeIfPresent(String.self, forKey: .severity)
        // Records from before the field name their advisories only in `source`.
        advisories = try container.decodeIfPresent([String].self, forKey: .advisories) ?? AdvisoryIDs.inLegacySource(source)
        cves = try container.decodeIfPresent([CVEReference].self, forKey: .cves) ?? []
    }

    // Written by hand so absent values print as null: consumers can rely on every key existing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(installedVersion, forKey: .installedVersion)
        try container.encode(availableVersion, forKey: .availableVersion)
        try container.encode(source, forKey: .source)
        try container.encode(security, forKey: .security)
        try container.encode(architecture, forKey: .architecture)
        try container.encode(severity, forKey: .severity)
        try container.encode(advisories, forKey: .advisories)
        try container.encode(cves, forKey: .cves)
    }

    enum CodingKeys: String, CodingKey {
        case name
        case installedVersion = "installed_version"
        case availableVersion = "available_version"
        case source, security, architecture, severity, advisories, cves
    }
}

/// What a platform's scan found on one host.
public struct ScanFindings: Sendable, Equatable {
    public var updates: [PendingUpdate]
    public var installedCount: Int?
    public var rebootRequired: Bool
    /// Packages that asked for the reboot, where the platform records them.
    public var rebootPackages: [String]
    /// Findings whose name or version does not fit the package manager's grammar: reported, never planned.
    public var rejected: [RejectedUpdate] = []
    /// Every installed package with its source package, where the platform's scan reads them
    /// (Debian family): what advisory feeds keyed by source package are matched against.
    public var installedBinaries: [InstalledBinary] = []
    /// CVEs open on installed packages with no fix offered, where advisories were matched (`HostScan.unfixedCVEs`).
    public var unfixedCVEs: [UnfixedCVE] = []

    public init(updates: [PendingUpdate], installedCount: Int?, rebootRequired: Bool, rebootPackages: [String] = []) {
        self.updates = updates
        self.installedCount = installedCount
        self.rebootRequired = rebootRequired
        self.rebootPackages = rebootPackages
    }
}

/// One host's complete scan result, as printed and as stored.
public struct HostScan: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var port: Int
    /// The login user the inventory (or ssh_config) names; nil when the run's default applies.
    public var user: String?
    /// The jump chain (`user@bastion:port`, controller side first); empty when direct, nil only
    /// in records stored before it existed (decoding them must not fail). Printed as a list.
    public var via: [String]?
    public var status: HostStatus
    public var error: String?
    public var os: OSInfo?
    public var rebootRequired: Bool?
    public var rebootPackages: [String]
    public var installedCount: Int?
    public var updates: [PendingUpdate]
    /// Updates the endpoint reported with a name or version its package manager's grammar does
    /// not allow (an injection attempt or a broken repository): shown, never planned.
    public var rejectedUpdates: [RejectedUpdate] = []
    /// CVEs open on installed packages with no fix this host can install (advisory feeds synced).
    public var unfixedCVEs: [UnfixedCVE] = []
    public var startedAt: Date
    public var finishedAt: Date

    public init(name: String, address: String, port: Int, user: String? = nil, via: [String]? = [], status: HostStatus, error: String? = nil, os: OSInfo? = nil,
                rebootRequired: Bool? = nil, rebootPackages: [String] = [], installedCount: Int? = nil,
                updates: [PendingUpdate] = [], startedAt: Date, finishedAt: Date) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.via = via
        self.status = status
        self.error = error
        self.os = os
        self.rebootRequired = rebootRequired
        self.rebootPackages = rebootPackages
        self.installedCount = installedCount
        self.updates = updates
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    public var securityCount: Int { updates.filter(\.security).count }

    // Written by hand so absent values print as null: consumers can rely on every key existing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(address, forKey: .address)
        try container.encode(port, forKey: .port)
        try container.encode(user, forKey: .user)
        try container.encode(via ?? [], forKey: .via)
        try container.encode(status, forKey: .status)
        try container.encode(error, forKey: .error)
        try container.encode(os, forKey: .os)
        try container.encode(rebootRequired, forKey: .rebootRequired)
        try container.encode(rebootPackages, forKey: .rebootPackages)
        try container.encode(installedCount, forKey: .installedCount)
        try container.encode(updates, forKey: .updates)
        try container.encode(rejectedUpdates, forKey: .rejectedUpdates)
        try container.encode(unfixedCVEs, forKey: .unfixedCVEs)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
    }

    enum CodingKeys: String, CodingKey {
        case name, address, port, user, via, status, error, os
        case rebootRequired = "reboot_required"
        case rebootPackages = "reboot_packages"
        case installedCount = "installed_count"
        case updates
        case rejectedUpdates = "rejected_updates"
        case unfixedCVEs = "unfixed_cves"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        address = try container.decode(String.self, forKey: .address)
        port = try container.decode(Int.self, forKey: .port)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        via = try container.decodeIfPresent([String].self, forKey: .via)
        status = try container.decode(HostStatus.self, forKey: .status)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        os = try container.decodeIfPresent(OSInfo.self, forKey: .os)
        rebootRequired = try container.decodeIfPresent(Bool.self, forKey: .rebootRequired)
        rebootPackages = try container.decodeIfPresent([String].self, forKey: .rebootPackages) ?? []
        installedCount = try container.decodeIfPresent(Int.self, forKey: .installedCount)
        updates = try container.decodeIfPresent([PendingUpdate].self, forKey: .updates) ?? []
        rejectedUpdates = try container.decodeIfPresent([RejectedUpdate].self, forKey: .rejectedUpdates) ?? []
        unfixedCVEs = try container.decodeIfPresent([UnfixedCVE].self, forKey: .unfixedCVEs) ?? []
        startedAt = try container.decode(Date.self, forKey: .startedAt)
        finishedAt = try container.decode(Date.self, forKey: .finishedAt)
    }
}

/// Host counts by outcome, shared by every kind of run's summary (and all of exec's).
public struct StatusTally: Codable, Sendable, Equatable {
    public var hosts: Int
    public var ok: Int
    public var failed: Int
    /// Count per non-ok status (`unreachable`, `timeout`...).
    public var byStatus: [String: Int]

    public init(_ statuses: [HostStatus]) {
        hosts = statuses.count
        ok = statuses.filter { $0 == .ok }.count
        failed = hosts - ok
        var counts: [String: Int] = [:]
        for status in statuses where status != .ok { counts[status.rawValue, default: 0] += 1 }
        byStatus = counts
    }

    enum CodingKeys: String, CodingKey {
        case hosts, ok, failed
        case byStatus = "by_status"
    }
}

public struct RunSummary: Codable, Sendable, Equatable {
    public var hosts: Int
    public var ok: Int
    public var failed: Int
    /// Count per non-ok status (`unreachable`, `timeout`...).
    public var byStatus: [String: Int]
    public var updates: Int
    public var securityUpdates: Int
    public var rebootRequired: Int

    public init(_ hosts: [HostScan]) {
        var tally = Tally()
        tally.add(hosts)
        self = tally.summary
    }

    /// A run's summary added up a batch of hosts at a time (`history show` reads a large run in batches).
    struct Tally {
        private var statuses: [HostStatus] = []
        private var updates = 0, securityUpdates = 0, rebootRequired = 0

        mutating func add(_ hosts: [HostScan]) {
            statuses += hosts.map(\.status)
            updates += hosts.reduce(0) { $0 + $1.updates.count }
            securityUpdates += hosts.reduce(0) { $0 + $1.securityCount }
            rebootRequired += hosts.filter { $0.rebootRequired == true }.count
        }

        var summary: RunSummary {
            RunSummary(StatusTally(statuses), updates: updates, securityUpdates: securityUpdates, rebootRequired: rebootRequired)
        }
    }

    private init(_ tally: StatusTally, updates: Int, securityUpdates: Int, rebootRequired: Int) {
        (hosts, ok, failed, byStatus) = (tally.hosts, tally.ok, tally.failed, tally.byStatus)
        (self.updates, self.securityUpdates, self.rebootRequired) = (updates, securityUpdates, rebootRequired)
    }

    enum CodingKeys: String, CodingKey {
        case hosts, ok, failed
        case byStatus = "by_status"
        case updates
        case securityUpdates = "security_updates"
        case rebootRequired = "reboot_required"
    }
}

/// A whole scan: what `--output json` prints and what history stores.
public struct ScanRun: Codable, Sendable, Equatable {
    public var runId: String
    public var kind: RunKind
    public var startedAt: Date
    public var finishedAt: Date?
    public var hosts: [HostScan]
    public var summary: RunSummary

    public init(runId: String, kind: RunKind = .scan, startedAt: Date, finishedAt: Date?, hosts: [HostScan]) {
        self.runId = runId
        self.kind = kind
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.hosts = hosts
        summary = RunSummary(hosts)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(runId, forKey: .runId)
        try container.encode(kind, forKey: .kind)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(finishedAt, forKey: .finishedAt)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(summary, forKey: .summary)
    }

    enum CodingKeys: String, CodingKey {
        case runId = "run_id"
        case kind
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case hosts, summary
    }
}
