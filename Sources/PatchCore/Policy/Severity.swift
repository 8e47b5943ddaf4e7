import Foundation

/// How serious a vendor rates an update (RHEL, SUSE and Microsoft use these four levels).
/// Ordered, so a policy's `min_severity` is a plain comparison.
public enum Severity: Int, Sendable, Comparable, Codable, CaseIterable {
    case low, moderate, important, critical

    /// Case-insensitive; the common synonyms other vendors use (`medium`, `high`) map onto the
    /// nearest level.
    public init?(text: String) {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "low": self = .low
        case "moderate", "medium": self = .moderate
        case "important", "high": self = .important
        case "critical": self = .critical
        default: return nil
        }
    }

    /// The word written in policies and messages.
    public var name: String {
        switch self {
        case .low: "low"
        case .moderate: "moderate"
        case .important: "important"
        case .critical: "critical"
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}
