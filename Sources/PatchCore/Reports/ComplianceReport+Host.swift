import Foundation

extension ComplianceReport {
    /// One host's compliance at the report's moment, with the reasons in words.
    public struct HostEntry: Encodable, Sendable, Equatable, StreamedJSON {
        public var name: String
        /// Inventory groups (without `all`); empty without an inventory.
        public var groups: [String]
        public var compliant: Bool
        /// Why it is (non-)compliant, one sentence each.
        public var reasons: [String]
        /// Facts that do not change the verdict but need attention (unreachable since...).
        public var warnings: [String]
        public var lastScan: Contact?
        /// The latest contact attempt of any kind, successful or not.
        public var lastContact: Contact?
        public var stale: Bool
        /// Nil when patchctl never tried to reach the host.
        public var reachable: Bool?
        /// `Debian GNU/Linux 12`.
        public var platform: String?
        public var osFamily: String?
        public var rebootRequired: Bool?
        public var lastDeployment: DeploymentEntry?
        public var missing: Missing
        public var updates: [Finding]

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(groups, forKey: .groups)
            try c.encode(compliant, forKey: .compliant)
            try c.encode(reasons, forKey: .reasons)
            try c.encode(warnings, forKey: .warnings)
            try c.encode(lastScan, forKey: .lastScan)
            try c.encode(lastContact, forKey: .lastContact)
            try c.encode(stale, forKey: .stale)
            try c.encode(reachable, forKey: .reachable)
            try c.encode(platform, forKey: .platform)
            try c.encode(osFamily, forKey: .osFamily)
            try c.encode(rebootRequired, forKey: .rebootRequired)
            try c.encode(lastDeployment, forKey: .lastDeployment)
            try c.encode(missing, forKey: .missing)
            try c.encode(updates, forKey: .updates)
        }

        enum CodingKeys: String, CodingKey {
            case name, groups, compliant, reasons, warnings
            case lastScan = "last_scan"
            case lastContact = "last_contact"
            case stale, reachable, platform
            case osFamily = "os_family"
            case rebootRequired = "reboot_required"
            case lastDeployment = "last_deployment"
            case missing, updates
        }
    }

    /// A run's contact with a host.
    public struct Contact: Encodable, Sendable, Equatable, PrettyJSONText {
        public var runId: String
        /// `scan`, `deploy` or `plan`.
        public var kind: RunKind
        public var at: Date
        public var status: HostStatus
        public var error: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(runId, forKey: .runId)
            try c.encode(kind, forKey: .kind)
            try c.encode(JSONOutput.timestamp(at), forKey: .at)
            try c.encode(status, forKey: .status)
            try c.encode(error, forKey: .error)
        }

        /// `encode(to:)`'s document written directly, keys in the encoder's order (a test holds the two equal).
        func prettyJSON(depth: Int) -> String {
            var object = PrettyJSONObject(depth: depth)
            object.add(CodingKeys.at.rawValue, at)
            object.add(CodingKeys.error.rawValue, error)
            object.add(CodingKeys.kind.rawValue, kind.rawValue)
            object.add(CodingKeys.runId.rawValue, runId)
            object.add(CodingKeys.status.rawValue, status.rawValue)
            return object.finished()
        }

        enum CodingKeys: String, CodingKey {
            case runId = "run_id"
            case kind, at, status, error
        }
    }

    /// A host's latest real deployment and its result.
    public struct DeploymentEntry: Encodable, Sendable, Equatable {
        public var runId: String
        public var policy: String?
        public var at: Date
        /// The host's deploy status: `ok`, `failed`, `deferred`, `skipped`...
        public var result: HostStatus
        public var installed: Int
        public var failed: Int
        public var error: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(runId, forKey: .runId)
            try c.encode(policy, forKey: .policy)
            try c.encode(JSONOutput.timestamp(at), forKey: .at)
            try c.encode(result, forKey: .result)
            try c.encode(installed, forKey: .installed)
            try c.encode(failed, forKey: .failed)
            try c.encode(error, forKey: .error)
        }

        enum CodingKeys: String, CodingKey {
            case runId = "run_id"
            case policy, at, result, installed, failed, error
        }
    }

    /// One pending update of one host and how it stands against its deadline.
    public struct Finding: Encodable, Sendable, Equatable, PrettyJSONText {
        public enum Status: String, Encodable, Sendable {
            /// In scope and still within its deadline.
            case withinDeadline = "within_deadline"
            /// In scope, past its deadline, no active exception: makes the host non-compliant.
            case overdue
            /// In scope, past its deadline, covered by an active exception.
            case excepted
            /// No rule of the standard covers it.
            case outOfScope = "out_of_scope"
        }

        public var package: String
        public var installedVersion: String
        public var availableVersion: String
        public var source: String
        public var security: Bool
        public var severity: String?
        /// When patchctl first saw this version pending on this host, and in which run.
        public var firstSeen: Date
        public var firstSeenRun: String
        public var ageDays: Int
        /// The vendor's release date, where the platform reports one (apt does not).
        public var releasedAt: Date?
        public var releaseAgeDays: Int?
        /// The rule it falls under, and its deadline.
        public var rule: String?
        public var withinDays: Int?
        public var dueAt: Date?
        public var status: Status
        /// Days past the deadline (overdue or excepted only).
        public var daysOverdue: Int?
        /// The exception that covers it (active, or the latest expired one).
        public var exceptionId: Int64?
        public var exceptionState: ComplianceException.State?
        public var exceptionUntil: Date?
        /// patchctl's one scale (vendor word or CVEs), whether it fixes a KEV entry, and its CVEs.
        public var normalizedSeverity: Severity = .unknown
        public var kev: Bool = false
        public var cves: [String] = []

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(package, forKey: .package)
            try c.encode(installedVersion, forKey: .installedVersion)
            try c.encode(availableVersion, forKey: .availableVersion)
            try c.encode(source, forKey: .source)
            try c.encode(security, forKey: .security)
            try c.encode(severity, forKey: .severity)
            try c.encode(normalizedSeverity, forKey: .normalizedSeverity)
            try c.encode(kev, forKey: .kev)
            try c.encode(cves, forKey: .cves)
            try c.encode(JSONOutput.timestamp(firstSeen), forKey: .firstSeen)
            try c.encode(firstSeenRun, forKey: .firstSeenRun)
            try c.encode(ageDays, forKey: .ageDays)
            try c.encode(releasedAt.map(JSONOutput.timestamp), forKey: .releasedAt)
            try c.encode(releaseAgeDays, forKey: .releaseAgeDays)
            try c.encode(rule, forKey: .rule)
            try c.encode(withinDays, forKey: .withinDays)
            try c.encode(dueAt.map(JSONOutput.timestamp), forKey: .dueAt)
            try c.encode(status, forKey: .status)
            try c.encode(daysOverdue, forKey: .daysOverdue)
            try c.encode(exceptionId, forKey: .exceptionId)
            try c.encode(exceptionState, forKey: .exceptionState)
            try c.encode(exceptionUntil.map(JSONOutput.timestamp), forKey: .exceptionUntil)
        }

        /// `encode(to:)`'s document written directly, keys in the encoder's order (a test holds the two equal).
        func prettyJSON(depth: Int) -> String {
            var object = PrettyJSONObject(depth: depth)
            object.add(CodingKeys.ageDays.rawValue, ageDays)
            object.add(CodingKeys.availableVersion.rawValue, availableVersion)
            object.add(CodingKeys.cves.rawValue, cves)
            object.add(CodingKeys.daysOverdue.rawValue, daysOverdue)
            object.add(CodingKeys.dueAt.rawValue, dueAt)
            object.add(CodingKeys.exceptionId.rawValue, exceptionId)
            object.add(CodingKeys.exceptionState.rawValue, exceptionState?.rawValue)
            object.add(CodingKeys.exceptionUntil.rawValue, exceptionUntil)
            object.add(CodingKeys.firstSeen.rawValue, firstSeen)
            object.add(CodingKeys.firstSeenRun.rawValue, firstSeenRun)
            object.add(CodingKeys.installedVersion.rawValue, installedVersion)
            object.add(CodingKeys.kev.rawValue, kev)
            object.add(CodingKeys.normalizedSeverity.rawValue, normalizedSeverity.name)
            object.add(CodingKeys.package.rawValue, package)
            object.add(CodingKeys.releaseAgeDays.rawValue, releaseAgeDays)
            object.add(CodingKeys.releasedAt.rawValue, releasedAt)
            object.add(CodingKeys.rule.rawValue, rule)
            object.add(CodingKeys.security.rawValue, security)
            object.add(CodingKeys.severity.rawValue, severity)
            object.add(CodingKeys.source.rawValue, source)
            object.add(CodingKeys.status.rawValue, status.rawValue)
            object.add(CodingKeys.withinDays.rawValue, withinDays)
            return object.finished()
        }

        enum CodingKeys: String, CodingKey {
            case package
            case installedVersion = "installed_version"
            case availableVersion = "available_version"
            case source, security, severity
            case normalizedSeverity = "normalized_severity"
            case kev, cves
            case firstSeen = "first_seen"
            case firstSeenRun = "first_seen_run"
            case ageDays = "age_days"
            case releasedAt = "released_at"
            case releaseAgeDays = "release_age_days"
            case rule
            case withinDays = "within_days"
            case dueAt = "due_at"
            case status
            case daysOverdue = "days_overdue"
            case exceptionId = "exception_id"
            case exceptionState = "exception_state"
            case exceptionUntil = "exception_until"
        }
    }
}
