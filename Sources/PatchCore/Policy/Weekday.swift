import Foundation

/// A day of the week, numbered as `Calendar` numbers weekdays (Sunday is 1).
public enum Weekday: Int, Sendable, Equatable, CaseIterable, Codable {
    case sunday = 1, monday, tuesday, wednesday, thursday, friday, saturday

    /// Case-insensitive: the full name or any abbreviation of at least three letters
    /// (`mon`, `Tues`, `thurs`, `Saturday`).
    public init?(text: String) {
        let word = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard word.count >= 3, let day = Self.allCases.first(where: { $0.name.hasPrefix(word) }) else { return nil }
        self = day
    }

    /// Full lower-case English name, as written in policies.
    public var name: String {
        switch self {
        case .sunday: "sunday"
        case .monday: "monday"
        case .tuesday: "tuesday"
        case .wednesday: "wednesday"
        case .thursday: "thursday"
        case .friday: "friday"
        case .saturday: "saturday"
        }
    }
}
