import Foundation

/// `--metrics-file` and `patchctl metrics`: the fleet's patch state from history (each host's
/// latest successful scan, the standard's compliance as `report compliance` judges it) and the
/// latest run of each kind, as Prometheus gauges (MetricsReport+Exposition.swift).
public struct MetricsReport: Sendable, Equatable {
    /// One host as its history stands.
    public struct HostState: Sendable, Equatable {
        public var name: String
        /// The latest contact that tried to scan it (a scan, or a deployment's or dry run's own
        /// scan), successful or not; nil when patchctl never tried.
        public var lastScan: Date?
        /// The latest one that learned its packages; nil when none did.
        public var lastSuccessfulScan: Date?
        public var compliant: Bool
        /// Pending updates by severity bucket (`ComplianceReport.Missing.severityBuckets`), from the
        /// latest successful scan; nil when there is none.
        public var pending: [String: Int]?
        /// The security ones among them, by the same buckets.
        public var pendingSecurity: [String: Int]?

        public init(name: String, lastScan: Date?, lastSuccessfulScan: Date?, compliant: Bool,
                    pending: [String: Int]?, pendingSecurity: [String: Int]?) {
            self.name = name
            self.lastScan = lastScan
            self.lastSuccessfulScan = lastSuccessfulScan
            self.compliant = compliant
            self.pending = pending
            self.pendingSecurity = pendingSecurity
        }
    }

    /// A run's outcome: the command's own (with `--metrics-file`) or the latest recorded one of its kind.
    public struct Run: Sendable, Equatable {
        /// The kind history records it as (`deploy --dry-run` is `plan`, `install --dry-run` `install-plan`).
        public var kind: RunKind
        public var runId: String
        public var startedAt: Date
        public var finishedAt: Date
        /// Every status the run's hosts ended in, with how many did.
        public var hosts: [HostStatus: Int]

        public init(kind: RunKind, runId: String, startedAt: Date, finishedAt: Date, hosts: [HostStatus: Int]) {
            self.kind = kind
            self.runId = runId
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.hosts = hosts
        }

        public init(kind: RunKind, runId: String, startedAt: Date, finishedAt: Date?, outcomes: [some HostOutcome]) {
            var hosts: [HostStatus: Int] = [:]
            for outcome in outcomes { hosts[outcome.status, default: 0] += 1 }
            self.init(kind: kind, runId: runId, startedAt: startedAt, finishedAt: finishedAt ?? Date(), hosts: hosts)
        }

        /// Hosts that failed (`HostStatus.isFailure`).
        public var failed: Int { hosts.filter(\.key.isFailure).values.reduce(0, +) }
        public var duration: TimeInterval { max(0, finishedAt.timeIntervalSince(startedAt)) }
    }

    /// When the metrics were built: the `patchctl_metrics_generated_timestamp_seconds` value.
    public var generatedAt: Date
    /// The standard's id (`pci-dss`) or rule set file the compliance figures are judged by.
    public var standard: String
    /// Nil when no host is in scope; also when the fleet could not be read (`fleetProblem`).
    public var percentCompliant: Double?
    /// Sorted by name.
    public var hosts: [HostState]
    /// Sorted by kind.
    public var runs: [Run]
    /// Why the fleet's state is missing (history unreadable), when it is: the runs are still given.
    public var fleetProblem: String?

    public init(generatedAt: Date, standard: String, percentCompliant: Double?, hosts: [HostState], runs: [Run], fleetProblem: String? = nil) {
        self.generatedAt = generatedAt
        self.standard = standard
        self.percentCompliant = percentCompliant
        self.hosts = hosts
        self.runs = runs
        self.fleetProblem = fleetProblem
    }
}

/// What `patchctl metrics` (or a command's `--metrics-file`) asks for.
public struct MetricsRequest: Sendable, Equatable {
    public var database: String
    /// A standard's id or a rule set file, as for `report compliance`.
    public var standard: String
    /// The fleet: this inventory's hosts; without one every host history knows.
    public var inventory: String?
    public var limit: String?
    public var at: Date
    public var environment: [String: String]
    public var currentDirectory: String

    public init(database: String, standard: String = ComplianceRequest.defaultStandard, inventory: String? = nil, limit: String? = nil,
                at: Date = Date(), environment: [String: String] = [:], currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.database = database
        self.standard = standard
        self.inventory = inventory
        self.limit = limit
        self.at = at
        self.environment = environment
        self.currentDirectory = currentDirectory
    }
}

extension MetricsReport {
    /// Reads history: the fleet through `ComplianceReport` (its rules, its idea of a successful
    /// scan), the latest finished run of each kind, with `current` (the command's own run, which
    /// history may have failed to record whole) in place of its kind's.
    /// `store`: the history already open (a PostgreSQL one must be); else `request.database` is opened read-only.
    public static func build(_ request: MetricsRequest, current: Run? = nil, store opened: HistoryStore? = nil) throws -> MetricsReport {
        let compliance = try ComplianceReport.build(ComplianceRequest(
            kind: .compliance, database: request.database, standard: request.standard, inventory: request.inventory, limit: request.limit,
            asOf: request.at, since: "1d", environment: request.environment, currentDirectory: request.currentDirectory), store: opened)
        var runs = try (opened ?? HistoryStore(readOnly: request.database)).latestRuns()
        if let current { runs[current.kind] = current }
        return MetricsReport(generatedAt: request.at, standard: request.standard, percentCompliant: compliance.summary.percentCompliant,
                             hosts: compliance.hosts.map(HostState.init), runs: runs.values.sorted { $0.kind.rawValue < $1.kind.rawValue })
    }

    /// What can be said when history cannot be read: the command's own run only.
    public static func runOnly(_ current: Run, standard: String, at: Date, problem: String) -> MetricsReport {
        MetricsReport(generatedAt: at, standard: standard, percentCompliant: nil, hosts: [], runs: [current], fleetProblem: problem)
    }
}

extension MetricsReport.HostState {
    /// A compliance report's host: its latest contact, its latest successful scan and what that left pending.
    init(_ entry: ComplianceReport.HostEntry) {
        var pending: [String: Int]?
        var security: [String: Int]?
        if entry.lastScan != nil {
            var all = Dictionary(uniqueKeysWithValues: ComplianceReport.Missing.severityBuckets.map { ($0, 0) })
            var secure = all
            secure["none"] = nil  // a security update is at least `unrated`
            for finding in entry.updates {
                let bucket = ComplianceReport.Missing.bucket(security: finding.security, severity: finding.normalizedSeverity)
                all[bucket, default: 0] += 1
                if finding.security { secure[bucket, default: 0] += 1 }
            }
            pending = all
            security = secure
        }
        self.init(name: entry.name, lastScan: entry.lastContact?.at, lastSuccessfulScan: entry.lastScan?.at, compliant: entry.compliant,
                  pending: pending, pendingSecurity: security)
    }
}

extension ScanRun {
    /// This run as its kind's latest, for `--metrics-file`.
    public var metricsRun: MetricsReport.Run {
        MetricsReport.Run(kind: kind, runId: runId, startedAt: startedAt, finishedAt: finishedAt, outcomes: hosts)
    }
}

extension ExecRun {
    /// This run as its kind's latest, for `--metrics-file`.
    public var metricsRun: MetricsReport.Run {
        MetricsReport.Run(kind: kind, runId: runId, startedAt: startedAt, finishedAt: finishedAt, outcomes: hosts)
    }
}

extension DeployRunRecord {
    /// This run as the latest of `kind`, the kind history recorded it as (the document says
    /// `deploy` for dry runs and installs too).
    public func metricsRun(as kind: RunKind) -> MetricsReport.Run {
        MetricsReport.Run(kind: kind, runId: runId, startedAt: startedAt, finishedAt: finishedAt, outcomes: hosts)
    }
}
