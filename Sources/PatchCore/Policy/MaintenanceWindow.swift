import Foundation

/// When a policy may change hosts: recurring openings from `start` to `end`, wall-clock times in
/// `timeZone` (or a host's own zone when the caller passes one).
public struct MaintenanceWindow: Sendable, Equatable {
    public enum Schedule: Sendable, Equatable {
        /// The window opens on these days (all seven for every day; never empty).
        case weekly(Set<Weekday>)
        /// Monthly, relative to Microsoft's Patch Tuesday (the month's second Tuesday): the
        /// `nth` `weekday` after it, plus `offsetDays`; with `weekday` nil, Patch Tuesday itself
        /// plus `offsetDays` (`nth` is then unused).
        case patchTuesday(weekday: Weekday?, nth: Int, offsetDays: Int)
    }

    public var schedule: Schedule
    public var start: TimeOfDay
    /// `end <= start`: the opening crosses midnight and ends the next day (equal: 24 hours).
    public var end: TimeOfDay
    public var timeZone: TimeZone

    public init(schedule: Schedule, start: TimeOfDay, end: TimeOfDay,
                timeZone: TimeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current) {
        self.schedule = schedule
        self.start = start
        self.end = end
        self.timeZone = timeZone
    }

    /// Monthly Patch Tuesday (the second Tuesday) of `month` in `year`, as a calendar day
    /// (year, month and day set).
    public static func patchTuesday(year: Int, month: Int) -> DateComponents {
        let day = patchTuesdayDay(year: year, month: month)
        return DateComponents(year: day.year, month: day.month, day: day.day)
    }

    static func patchTuesdayDay(year: Int, month: Int) -> CivilDay {
        let first = CivilDay(year: year, month: month, day: 1)
        let toTuesday = (Weekday.tuesday.rawValue - first.weekday.rawValue + 7) % 7
        return first.adding(days: toTuesday + 7)
    }
}
