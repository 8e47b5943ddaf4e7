import Foundation

/// How serious a vulnerability or update is, on the one scale patchctl uses for every platform:
/// none < low < medium < high < critical, plus `unknown` (no rating), which meets no minimum.
/// Vendors' own words map onto it (`init(text:)`, `init(vendor:word:)`); the word itself is kept
/// beside it wherever a finding is shown. The mapping is documented in docs/advisories.md.
public enum Severity: Int, Sendable, Comparable, Codable, CaseIterable {
    case unknown = -1
    case none = 0
    case low, medium, high, critical

    /// The vendors' and CVSS's words, case-insensitive: RHEL, SUSE and MSRC's `important` is high and
    /// `moderate` medium; Debian's `unimportant` is none; Ubuntu's `negligible` is low. Words it does
    /// not know (`Unspecified`, `not yet assigned`, `end-of-life`) are nil: absent, not `unknown`.
    /// A trailing `*` or `**` (Debian's "guessed" urgency marks) is ignored.
    public init?(text: String) {
        // A plain ASCII word (how platforms and feeds write it) is only lowercased: reports read one per
        // finding. Anything else is trimmed without Foundation's bridging, lowercased and stripped of `*`.
        let word: String
        if text.utf8.allSatisfy({ ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }) {
            word = text.lowercased()
        } else {
            let blank = { (c: Character) in c.unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator } }
            let spaced = text.drop(while: blank).reversed().drop(while: blank).reversed()
            let lowered = String(spaced).lowercased()
            word = String(lowered.drop { $0 == "*" }.reversed().drop { $0 == "*" }.reversed())
        }
        switch word {
        case "none", "unimportant": self = .none
        case "low", "negligible": self = .low
        case "medium", "moderate": self = .medium
        case "high", "important": self = .high
        case "critical": self = .critical
        default: return nil
        }
    }

    /// CVSS v3/v4 qualitative rating of a base score (FIRST's table): 0 none, 0.1-3.9 low,
    /// 4.0-6.9 medium, 7.0-8.9 high, 9.0-10 critical.
    public init(cvss score: Double) {
        switch score {
        case ..<0.1: self = .none
        case ..<4.0: self = .low
        case ..<7.0: self = .medium
        case ..<9.0: self = .high
        default: self = .critical
        }
    }

    /// The word written in policies, JSON and messages.
    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .none: "none"
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        case .critical: "critical"
        }
    }

    /// Reads `name` back (JSON, history); unlike `init(text:)`, `unknown` is a value here.
    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = found
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }

    // Encoded as its name, so JSON and history read "high", not 3.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = Severity(name: text) ?? Severity(text: text) ?? .unknown
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(name)
    }
}
