import Foundation

/// A compliance standard expressed as patch deadlines: which pending updates are in scope and
/// how many days each may stay missing. Loaded from YAML (`ComplianceRuleSet+Loading.swift`);
/// `compliance/*.yml` are the shipped defaults, also built in (`ComplianceRuleSet+Builtin.swift`).
public struct ComplianceRuleSet: Sendable, Equatable, Codable {
    /// Who set a deadline: the standard itself (PCI DSS 6.3.3's month), or the organisation
    /// (HIPAA and SOX set no number; the report says so next to each such rule).
    public enum DefinedBy: String, Sendable, Equatable, Codable, CaseIterable {
        case standard, organisation
    }

    public struct Rule: Sendable, Equatable, Codable {
        public var name: String
        /// Where the rule comes from (`PCI DSS 6.3.3`), shown in reports.
        public var reference: String?
        /// `security`: only updates flagged as security updates; `all`: every pending update.
        public var updates: UpdateSelection.Kind
        /// Updates with a known lower severity are not in scope. A security update without any
        /// severity (apt never reports one) is in scope, as `min_severity` in deploy policies.
        public var minSeverity: Severity?
        /// `kev: true`: an update fixing a CVE on CISA's Known Exploited Vulnerabilities catalogue
        /// is covered whatever its severity (PCI DSS: "critical" means critical or exploited).
        public var kev: Bool
        /// Days an in-scope update may stay missing, counted from the vendor's release date when
        /// the platform reports one, else from the first scan that listed it.
        public var withinDays: Int
        public var definedBy: DefinedBy
        public var note: String?

        public init(name: String, reference: String? = nil, updates: UpdateSelection.Kind, minSeverity: Severity? = nil, kev: Bool = false,
                    withinDays: Int, definedBy: DefinedBy, note: String? = nil) {
            self.kev = kev
            self.name = name
            self.reference = reference
            self.updates = updates
            self.minSeverity = minSeverity
            self.withinDays = withinDays
            self.definedBy = definedBy
            self.note = note
        }

        /// Whether `update` falls under this rule; `severity` is the vendor's word.
        public func covers(security: Bool, severity: String?) -> Bool {
            covers(security: security, severity: severity.flatMap(Severity.init(text:)) ?? .unknown, kev: false)
        }

        /// Whether an update falls under this rule; `severity` is the normalised one (vendor word or CVEs).
        public func covers(security: Bool, severity: Severity, kev fixesKEV: Bool) -> Bool {
            // A KEV fix is a security fix, whatever the repository's flag says.
            if kev, fixesKEV { return true }
            if updates == .security, !security { return false }
            guard let minSeverity else { return true }
            if severity != .unknown { return severity >= minSeverity }
            // No rating: a security update is in scope (apt's floor without a feed); anything else has nothing to meet the minimum with.
            return security
        }

        // Explicit nulls: consumers can rely on every key existing.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(reference, forKey: .reference)
            try container.encode(updates, forKey: .updates)
            try container.encode(minSeverity?.name, forKey: .minSeverity)
            try container.encode(kev, forKey: .kev)
            try container.encode(withinDays, forKey: .withinDays)
            try container.encode(definedBy, forKey: .definedBy)
            try container.encode(note, forKey: .note)
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            reference = try container.decodeIfPresent(String.self, forKey: .reference)
            updates = try container.decode(UpdateSelection.Kind.self, forKey: .updates)
            minSeverity = try container.decodeIfPresent(String.self, forKey: .minSeverity).flatMap(Severity.init(text:))
            kev = try container.decodeIfPresent(Bool.self, forKey: .kev) ?? false
            withinDays = try container.decode(Int.self, forKey: .withinDays)
            definedBy = try container.decode(DefinedBy.self, forKey: .definedBy)
            note = try container.decodeIfPresent(String.self, forKey: .note)
        }

        enum CodingKeys: String, CodingKey {
            case name, reference, updates
            case minSeverity = "min_severity"
            case kev
            case withinDays = "within_days"
            case definedBy = "defined_by"
            case note
        }
    }

    /// Short identifier (`pci-dss`).
    public var id: String
    /// Human name (`PCI DSS v4.0.1`).
    public var name: String
    public var description: String
    /// Hosts without a successful scan within this many days are non-compliant: there is no evidence.
    public var staleDays: Int
    /// In order: an update falls under the first rule that covers it; none means out of scope.
    public var rules: [Rule]
    /// The file it was loaded from, or `built-in:ID`.
    public var source: String

    public init(id: String, name: String, description: String, staleDays: Int, rules: [Rule], source: String) {
        self.id = id
        self.name = name
        self.description = description
        self.staleDays = staleDays
        self.rules = rules
        self.source = source
    }

    /// The index of the rule `update` falls under, nil when it is out of scope.
    public func ruleIndex(security: Bool, severity: String?) -> Int? {
        rules.firstIndex { $0.covers(security: security, severity: severity) }
    }

    /// The same on the normalised severity, with the KEV flag.
    public func ruleIndex(security: Bool, severity: Severity, kev: Bool) -> Int? {
        rules.firstIndex { $0.covers(security: security, severity: severity, kev: kev) }
    }

    /// True when some deadline is the organisation's own rather than the standard's.
    public var hasOrganisationDefinedRules: Bool { rules.contains { $0.definedBy == .organisation } }

    enum CodingKeys: String, CodingKey {
        case id, name, description
        case staleDays = "stale_days"
        case rules, source
    }
}
