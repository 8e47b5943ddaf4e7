import Foundation

/// What `patchctl report compliance|hosts|trend` asks for, as the CLI parsed it.
public struct ComplianceRequest: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case compliance, hosts, trend
    }

    public var kind: Kind
    public var database: String
    /// A standard's id (`pci-dss`, `hipaa`, `sox`) or a rule set file.
    public var standard: String
    /// A deploy policy (name or file): only its targets, its deployments and its time to patch.
    public var policy: String?
    /// Without one, the hosts are every host in history (and none can be "never scanned").
    public var inventory: String?
    public var limit: String?
    /// The moment reported on, and the report's generation time.
    public var asOf: Date
    /// Start of the period for the trend and mean time to patch, as written (`30d`, `2026-09-01`).
    public var since: String
    /// Overrides the rule set's `stale_days`.
    public var staleDays: Int?
    /// Only the runs this controller recorded (label: its name, else its host name); nil: every controller's.
    public var controller: String?
    /// Only for the command line printed as evidence.
    public var format: ReportFormat
    public var environment: [String: String]
    public var currentDirectory: String
    /// Hosts whose history is read and judged together (`ComplianceReport.build`); the report does
    /// not depend on it. Tests make it small to cross batches with a handful of hosts.
    var hostBatch = 500

    public static let defaultStandard = "pci-dss"
    public static let defaultSince = "30d"

    public init(kind: Kind, database: String, standard: String = ComplianceRequest.defaultStandard, policy: String? = nil,
                inventory: String? = nil, limit: String? = nil, asOf: Date, since: String = ComplianceRequest.defaultSince,
                staleDays: Int? = nil, controller: String? = nil, format: ReportFormat = .json, environment: [String: String] = [:],
                currentDirectory: String = FileManager.default.currentDirectoryPath) {
        self.kind = kind
        self.database = database
        self.standard = standard
        self.policy = policy
        self.inventory = inventory
        self.limit = limit
        self.asOf = asOf
        self.since = since
        self.staleDays = staleDays
        self.controller = controller
        self.format = format
        self.environment = environment
        self.currentDirectory = currentDirectory
    }

    /// The command that prints the same report again (every value shell-quoted).
    public var commandLine: String {
        var arguments = ["patchctl", "report", kind.rawValue, "--db", database, "--standard", standard]
        if let policy { arguments += ["--policy", policy] }
        if let inventory { arguments += ["-i", inventory] }
        if let limit { arguments += ["--limit", limit] }
        arguments += ["--since", since]
        if let staleDays { arguments += ["--stale-days", String(staleDays)] }
        if let controller { arguments += ["--controller", controller] }
        arguments += ["--as-of", JSONOutput.timestamp(asOf), "--format", format.rawValue]
        return Shell.join(arguments)
    }
}
