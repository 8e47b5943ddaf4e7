import Foundation
import GRDB

/// A host taken out of the fleet (`patchctl hosts retire`): from `retiredAt` until it ends,
/// reports leave it out of scope. Records are never deleted: a report `--as-of` an earlier
/// moment sees the fleet as it was then.
public struct HostRetirement: Codable, Sendable, Equatable {
    /// Who decided.
    public enum Rule: String, Codable, Sendable, DatabaseValueConvertible {
        /// `patchctl hosts retire NAME`.
        case manual
        /// `hosts retire --absent-for`: in none of the inventories, and not reached for that long.
        case absent
    }

    /// How a retirement ended.
    public enum Ending: String, Codable, Sendable, DatabaseValueConvertible {
        /// `patchctl hosts unretire NAME`.
        case unretired
        /// A successful scan or deployment reached the host again.
        case reappeared
    }

    public var id: Int64
    public var host: String
    public var retiredAt: Date
    public var retiredBy: String
    public var reason: String?
    public var rule: Rule
    /// Nil while the host is retired.
    public var endedAt: Date?
    public var endedBy: String?
    public var ending: Ending?
    public var endReason: String?
    /// The run that reached the host again (`reappeared`).
    public var endRun: String?

    /// Whether the host was retired at `date` by this record.
    public func inForce(at date: Date) -> Bool {
        retiredAt <= date && (endedAt.map { date < $0 } ?? true)
    }

    enum CodingKeys: String, CodingKey {
        case id, host, reason, rule, ending
        case retiredAt = "retired_at"
        case retiredBy = "retired_by"
        case endedAt = "ended_at"
        case endedBy = "ended_by"
        case endReason = "end_reason"
        case endRun = "end_run"
    }

    /// Durations of the absent rule are days at least, written with a unit (`30d`, `12w`): a bare
    /// number would be seconds, and `30m` (minutes, not months) would retire every host that is not
    /// in an inventory at once.
    public static let minimumAbsence: TimeInterval = 86_400

    /// `--absent-for` and `retire_absent_for`: seconds, or nil when `text` is not such a duration.
    public static func absence(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.contains(where: \.isLetter), let seconds = PolicyDuration.parse(trimmed), seconds >= minimumAbsence else { return nil }
        return seconds
    }

    /// What `absence` refuses, said once for the flag and the configuration key.
    public static let absenceHint = "a duration of at least 1d with a unit, such as 30d or 12w (at most 3650d)"
}

extension HostRetirement: FetchableRecord, TableRecord {
    public static let databaseTableName = "host_retirements"
}

/// Which hosts were retired when: what reports consult to leave a host out of scope from its
/// retirement on, and keep it in scope before (a report `--as-of` an earlier moment).
public struct RetirementTimeline: Sendable {
    private var byHost: [String: [HostRetirement]]

    /// `records`: those recorded up to the report's moment (`HistoryStore.retirements(upTo:)`);
    /// an ending after that moment is not known to the report and is ignored by `inForce(at:)`.
    public init(_ records: [HostRetirement]) {
        byHost = Dictionary(grouping: records, by: \.host)
    }

    public static let empty = RetirementTimeline([])

    /// The retirement of `host` in force at `date`, if any.
    public func retirement(of host: String, at date: Date) -> HostRetirement? {
        byHost[host]?.last { $0.inForce(at: date) }
    }

    public func isRetired(_ host: String, at date: Date) -> Bool {
        retirement(of: host, at: date) != nil
    }
}
