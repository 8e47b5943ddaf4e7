import Foundation

/// `patchctl report compliance`: every host's compliance with a rule set at one moment, the
/// fleet, group and policy figures, mean time to patch, the daily trend, the exceptions, and
/// the evidence it was built from. Built by `ComplianceReport.build` (ComplianceReport+Building.swift);
/// the same database and request give the same document, byte for byte.
public struct ComplianceReport: Encodable, Sendable, Equatable, StreamedJSON {
    public var kind = "compliance"
    public var standard: ComplianceRuleSet
    public var evidence: Evidence
    public var summary: Summary
    public var groups: [GroupSummary]
    public var policies: [PolicySummary]
    public var hosts: [HostEntry]
    public var exceptions: [ExceptionEntry]
    public var trend: [TrendPoint]
    /// Stale or missing advisory feeds at the report's moment: severities and KEV flags may be incomplete.
    public var warnings: [String] = []
    /// Hosts the scope would hold but that were retired at the report's moment (`patchctl hosts
    /// retire`): out of every figure, listed so an auditor sees them.
    public var retired: [RetiredHost] = []
    /// Addresses the newest discover run found that no host in scope points to.
    public var unmanaged: [UnmanagedHost] = []

    /// A host left out of scope because it was retired.
    public struct RetiredHost: Encodable, Sendable, Equatable {
        public var name: String
        public var retiredAt: Date
        public var retiredBy: String
        public var reason: String?
        /// `manual` or `absent` (the automatic rule).
        public var rule: HostRetirement.Rule
        /// Retired during the report's period (else before it).
        public var duringPeriod: Bool

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(retiredAt, forKey: .retiredAt)
            try c.encode(retiredBy, forKey: .retiredBy)
            try c.encode(reason, forKey: .reason)
            try c.encode(rule, forKey: .rule)
            try c.encode(duringPeriod, forKey: .duringPeriod)
        }

        enum CodingKeys: String, CodingKey {
            case name
            case retiredAt = "retired_at"
            case retiredBy = "retired_by"
            case reason, rule
            case duringPeriod = "during_period"
        }
    }

    /// What the report was built from, so an auditor can reproduce it.
    public struct Evidence: Encodable, Sendable, Equatable {
        /// The moment the report describes (`--as-of`, default the time it ran): also its generation time.
        public var generatedAt: Date
        public var database: String
        public var inventory: String?
        public var limit: String?
        public var policy: String?
        /// Start of the period for mean time to patch and the trend.
        public var periodFrom: Date
        public var periodTo: Date
        /// First and last host contact read (nil when history holds none for these hosts).
        public var dataFrom: Date?
        public var dataTo: Date?
        /// Every run whose rows were read, oldest id first.
        public var runs: [String]
        /// The runs holding each host's current state (its last successful scan and last deployment).
        public var stateRuns: [String]
        /// The command that prints this report again.
        public var command: String
        public var notes: [String]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(generatedAt, forKey: .generatedAt)
            try c.encode(database, forKey: .database)
            try c.encode(inventory, forKey: .inventory)
            try c.encode(limit, forKey: .limit)
            try c.encode(policy, forKey: .policy)
            try c.encode(periodFrom, forKey: .periodFrom)
            try c.encode(periodTo, forKey: .periodTo)
            try c.encode(dataFrom, forKey: .dataFrom)
            try c.encode(dataTo, forKey: .dataTo)
            try c.encode(runs, forKey: .runs)
            try c.encode(stateRuns, forKey: .stateRuns)
            try c.encode(command, forKey: .command)
            try c.encode(notes, forKey: .notes)
        }

        enum CodingKeys: String, CodingKey {
            case generatedAt = "generated_at"
            case database, inventory, limit, policy
            case periodFrom = "period_from"
            case periodTo = "period_to"
            case dataFrom = "data_from"
            case dataTo = "data_to"
            case runs
            case stateRuns = "state_runs"
            case command, notes
        }
    }

    /// Pending updates counted several ways.
    public struct Missing: Encodable, Sendable, Equatable {
        public var total = 0
        public var security = 0
        /// In scope of a rule.
        public var inScope = 0
        /// In scope and past their deadline without an active exception.
        public var overdue = 0
        /// Past their deadline but covered by an active exception.
        public var excepted = 0
        /// Pending updates that fix a CVE on CISA's Known Exploited Vulnerabilities catalogue.
        public var kev = 0
        /// `critical`, `high`, `medium`, `low`; `unrated`: a security update without a
        /// vendor severity (every apt one); `none`: neither a severity nor the security flag.
        public var bySeverity: [String: Int] = Dictionary(uniqueKeysWithValues: Missing.severityBuckets.map { ($0, 0) })

        public static let severityBuckets = ["critical", "high", "medium", "low", "unrated", "none"]

        public static func bucket(security: Bool, severity: String?) -> String {
            bucket(security: security, severity: severity.flatMap(Severity.init(text:)) ?? .unknown)
        }

        /// On the normalised severity: unrated security updates (apt without a feed) are `unrated`.
        public static func bucket(security: Bool, severity: Severity) -> String {
            if severity != .unknown { return severity.name }
            return security ? "unrated" : "none"
        }

        mutating func add(_ finding: Finding) {
            total += 1
            if finding.security { security += 1 }
            if finding.rule != nil { inScope += 1 }
            if finding.status == .overdue { overdue += 1 }
            if finding.status == .excepted { excepted += 1 }
            if finding.kev { kev += 1 }
            bySeverity[Self.bucket(security: finding.security, severity: finding.normalizedSeverity), default: 0] += 1
        }

        enum CodingKeys: String, CodingKey {
            case total, security
            case inScope = "in_scope"
            case overdue, excepted, kev
            case bySeverity = "by_severity"
        }
    }

    /// Pending updates by age since first seen.
    public struct AgeBucket: Encodable, Sendable, Equatable {
        public var label: String
        public var minDays: Int
        /// Nil: no upper bound.
        public var maxDays: Int?
        public var updates: Int

        public static let bounds: [(Int, Int?)] = [(0, 7), (8, 30), (31, 90), (91, 180), (181, nil)]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(label, forKey: .label)
            try c.encode(minDays, forKey: .minDays)
            try c.encode(maxDays, forKey: .maxDays)
            try c.encode(updates, forKey: .updates)
        }

        enum CodingKeys: String, CodingKey {
            case label
            case minDays = "min_days"
            case maxDays = "max_days"
            case updates
        }
    }

    /// First seen → installed, over the report's period.
    public struct TimeToPatch: Encodable, Sendable, Equatable, StreamedJSON {
        public var patched: Int
        /// Nil when nothing was patched in the period.
        public var meanDays: Double?
        public var securityPatched: Int
        public var securityMeanDays: Double?
        public var patches: [Patch]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(patched, forKey: .patched)
            try c.encode(meanDays, forKey: .meanDays)
            try c.encode(securityPatched, forKey: .securityPatched)
            try c.encode(securityMeanDays, forKey: .securityMeanDays)
            try c.encode(patches, forKey: .patches)
        }

        enum CodingKeys: String, CodingKey {
            case patched
            case meanDays = "mean_days"
            case securityPatched = "security_patched"
            case securityMeanDays = "security_mean_days"
            case patches
        }
    }

    /// One update that went from pending to installed.
    public struct Patch: Encodable, Sendable, Equatable, PrettyJSONText {
        public var host: String
        public var package: String
        public var version: String
        public var security: Bool
        public var firstSeen: Date
        public var patchedAt: Date
        public var days: Double
        /// `deploy` (a patchctl deployment installed it) or `scan` (a later scan no longer listed it).
        public var via: String
        public var runId: String
        public var policy: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(host, forKey: .host)
            try c.encode(package, forKey: .package)
            try c.encode(version, forKey: .version)
            try c.encode(security, forKey: .security)
            try c.encode(JSONOutput.timestamp(firstSeen), forKey: .firstSeen)
            try c.encode(JSONOutput.timestamp(patchedAt), forKey: .patchedAt)
            try c.encode(days, forKey: .days)
            try c.encode(via, forKey: .via)
            try c.encode(runId, forKey: .runId)
            try c.encode(policy, forKey: .policy)
        }

        /// `encode(to:)`'s document written directly, keys in the encoder's order (a test holds the two equal).
        func prettyJSON(depth: Int) -> String {
            var object = PrettyJSONObject(depth: depth)
            object.add(CodingKeys.days.rawValue, days)
            object.add(CodingKeys.firstSeen.rawValue, firstSeen)
            object.add(CodingKeys.host.rawValue, host)
            object.add(CodingKeys.package.rawValue, package)
            object.add(CodingKeys.patchedAt.rawValue, patchedAt)
            object.add(CodingKeys.policy.rawValue, policy)
            object.add(CodingKeys.runId.rawValue, runId)
            object.add(CodingKeys.security.rawValue, security)
            object.add(CodingKeys.version.rawValue, version)
            object.add(CodingKeys.via.rawValue, via)
            return object.finished()
        }

        enum CodingKeys: String, CodingKey {
            case host, package, version, security
            case firstSeen = "first_seen"
            case patchedAt = "patched_at"
            case days, via
            case runId = "run_id"
            case policy
        }
    }

    public struct Summary: Encodable, Sendable, Equatable, StreamedJSON {
        public var hosts: Int
        public var compliant: Int
        public var nonCompliant: Int
        /// Nil when there are no hosts.
        public var percentCompliant: Double?
        public var scanned: Int
        public var stale: Int
        public var neverScanned: Int
        /// Hosts whose last contact failed (unreachable, auth, host key, timeout).
        public var unreachable: Int
        public var rebootRequired: Int
        public var missing: Missing
        public var ageHistogram: [AgeBucket]
        public var timeToPatch: TimeToPatch

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(hosts, forKey: .hosts)
            try c.encode(compliant, forKey: .compliant)
            try c.encode(nonCompliant, forKey: .nonCompliant)
            try c.encode(percentCompliant, forKey: .percentCompliant)
            try c.encode(scanned, forKey: .scanned)
            try c.encode(stale, forKey: .stale)
            try c.encode(neverScanned, forKey: .neverScanned)
            try c.encode(unreachable, forKey: .unreachable)
            try c.encode(rebootRequired, forKey: .rebootRequired)
            try c.encode(missing, forKey: .missing)
            try c.encode(ageHistogram, forKey: .ageHistogram)
            try c.encode(timeToPatch, forKey: .timeToPatch)
        }

        enum CodingKeys: String, CodingKey {
            case hosts, compliant
            case nonCompliant = "non_compliant"
            case percentCompliant = "percent_compliant"
            case scanned, stale
            case neverScanned = "never_scanned"
            case unreachable
            case rebootRequired = "reboot_required"
            case missing
            case ageHistogram = "age_histogram"
            case timeToPatch = "time_to_patch"
        }
    }

    /// An inventory group's share of the fleet.
    public struct GroupSummary: Encodable, Sendable, Equatable, StreamedJSON {
        public var name: String
        public var hosts: Int
        public var compliant: Int
        public var percentCompliant: Double?
        public var stale: Int
        public var neverScanned: Int
        public var missing: Missing
        /// Its hosts' patches over the period.
        public var timeToPatch: TimeToPatch

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(hosts, forKey: .hosts)
            try c.encode(compliant, forKey: .compliant)
            try c.encode(percentCompliant, forKey: .percentCompliant)
            try c.encode(stale, forKey: .stale)
            try c.encode(neverScanned, forKey: .neverScanned)
            try c.encode(missing, forKey: .missing)
            try c.encode(timeToPatch, forKey: .timeToPatch)
        }

        enum CodingKeys: String, CodingKey {
            case name, hosts, compliant
            case percentCompliant = "percent_compliant"
            case stale
            case neverScanned = "never_scanned"
            case missing
            case timeToPatch = "time_to_patch"
        }
    }

    /// The hosts a policy has deployed to, and its own installs' time to patch.
    public struct PolicySummary: Encodable, Sendable, Equatable, StreamedJSON {
        public var name: String
        public var hosts: Int
        public var compliant: Int
        public var percentCompliant: Double?
        public var timeToPatch: TimeToPatch

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(hosts, forKey: .hosts)
            try c.encode(compliant, forKey: .compliant)
            try c.encode(percentCompliant, forKey: .percentCompliant)
            try c.encode(timeToPatch, forKey: .timeToPatch)
        }

        enum CodingKeys: String, CodingKey {
            case name, hosts, compliant
            case percentCompliant = "percent_compliant"
            case timeToPatch = "time_to_patch"
        }
    }

    /// Compliance on one UTC day, judged at the day's end (or at `--as-of` on its last day).
    /// A day before history holds any contact with the reported hosts has no data: its figures
    /// are nil (JSON null), never a 0 % nobody measured.
    public struct TrendPoint: Encodable, Sendable, Equatable {
        public var day: String
        public var at: Date
        public var hosts: Int
        public var scanned: Int
        public var compliant: Int?
        public var percentCompliant: Double?
        public var overdue: Int?
        public var missingSecurity: Int?

        /// No scan or deployment of these hosts had been recorded by the day's end.
        public var noData: Bool { compliant == nil }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(day, forKey: .day)
            try c.encode(JSONOutput.timestamp(at), forKey: .at)
            try c.encode(noData, forKey: .noData)
            try c.encode(hosts, forKey: .hosts)
            try c.encode(scanned, forKey: .scanned)
            try c.encode(compliant, forKey: .compliant)
            try c.encode(percentCompliant, forKey: .percentCompliant)
            try c.encode(overdue, forKey: .overdue)
            try c.encode(missingSecurity, forKey: .missingSecurity)
        }

        enum CodingKeys: String, CodingKey {
            case day, at
            case noData = "no_data"
            case hosts, scanned, compliant
            case percentCompliant = "percent_compliant"
            case overdue
            case missingSecurity = "missing_security"
        }
    }

    /// An exception as it stood at the report's moment, and how many findings it covers.
    public struct ExceptionEntry: Encodable, Sendable, Equatable {
        public var exception: ComplianceException
        public var state: ComplianceException.State
        /// Findings of the reported hosts it is about (whatever their deadline).
        public var matches: Int
        public var note: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try exception.encode(to: encoder)
            try c.encode(state, forKey: .state)
            try c.encode(matches, forKey: .matches)
            try c.encode(note, forKey: .note)
        }

        enum CodingKeys: String, CodingKey {
            case state, matches, note
        }
    }

    /// Percent with one decimal (nil for no hosts), computed one way for every format.
    public static func percent(_ part: Int, of whole: Int) -> Double? {
        guard whole > 0 else { return nil }
        return (Double(part) * 1000 / Double(whole)).rounded() / 10
    }

    enum CodingKeys: String, CodingKey {
        case kind, standard, evidence, summary, groups, policies, hosts, exceptions, trend, warnings, retired, unmanaged
    }
}
