import Foundation

/// A date given on the command line: `defer --until`, `exception add --until` (local time) and
/// `report --as-of`, `--since` (UTC, so a report reproduces on any machine; see `ReportDate`).
///
/// Accepted: a timestamp as patchctl prints it (`2026-11-24T22:18:52.593Z`, `…52Z`), a date and
/// time in the zone (`2026-12-01T18:00`, `2026-12-01 18:00`, seconds optional), or a bare day.
/// A bare day always stands for the whole day in the zone: as the end of a span (`--until`,
/// `--as-of`) its last millisecond, 23:59:59.999, so everything recorded that day is inside (history
/// keeps milliseconds); as the start of a span (`--since`) its first, 00:00. Output shows such an
/// end as the day given, inclusive (`endText`); JSON keeps the exact moment, in UTC.
public enum DateArgument {
    /// `--until`: a duration from `now` (`48h`, `2d`), or an end as `end(_:zone:)` reads it.
    public static func parse(_ text: String, now: Date, zone: TimeZone = .current) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = PolicyDuration.parse(trimmed), seconds > 0 { return now.addingTimeInterval(seconds) }
        return end(trimmed, zone: zone)
    }

    /// The end of a span: a moment, or a bare day's last millisecond.
    public static func end(_ text: String, zone: TimeZone) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let exact = moment(trimmed, zone: zone) { return exact }
        guard let start = day(trimmed, zone: zone), let next = calendar(zone).date(byAdding: .day, value: 1, to: start) else { return nil }
        return next.addingTimeInterval(-0.001)
    }

    /// An end as it reads back (`exception list`, `defer`, report tables), so that what was given
    /// is what is shown: a bare day's last millisecond in `zone` as that day, said to include it
    /// (`2027-01-31 (inclusive)`), never as the next midnight; any other moment as its date and
    /// time in `zone` with the zone (`2027-01-31 18:00 +01:00`, `… UTC`; seconds when not whole).
    public static func endText(_ date: Date, zone: TimeZone) -> String {
        let calendar = calendar(zone)
        let start = calendar.startOfDay(for: date)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        if let next = calendar.date(byAdding: .day, value: 1, to: start), abs(next.timeIntervalSince(date) - 0.001) < 0.0005 {
            return day + " (inclusive)"
        }
        var text = day + String(format: " %02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
        if let second = parts.second, second != 0 { text += String(format: ":%02d", second) }
        let offset = zone.secondsFromGMT(for: date)
        guard offset != 0 else { return text + " UTC" }
        return text + String(format: " %@%02d:%02d", offset < 0 ? "-" : "+", abs(offset) / 3600, abs(offset) % 3600 / 60)
    }

    /// The start of a span: a duration back from `end` (`90d`, `12w`; a unit is required, so a
    /// bare year is not read as seconds), a moment, or a bare day's first moment.
    public static func start(_ text: String, end: Date, zone: TimeZone) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = PolicyDuration.parse(trimmed), seconds > 0, trimmed.contains(where: \.isLetter) {
            return end.addingTimeInterval(-seconds)
        }
        return moment(trimmed, zone: zone) ?? day(trimmed, zone: zone)
    }

    /// A timestamp, or a date and time in `zone`; nil for a bare day.
    static func moment(_ text: String, zone: TimeZone) -> Date? {
        if let exact = Timestamp.parse(text) { return exact }
        guard text.count > 10, let separator = text.dropFirst(10).first, separator == "T" || separator == " " else { return nil }
        let time = text.dropFirst(11).split(separator: ":", omittingEmptySubsequences: false)
        guard time.count == 2 || time.count == 3, time.allSatisfy({ $0.count == 2 }),
              let hour = number(time[0]), let minute = number(time[1]) else { return nil }
        let second = time.count == 3 ? number(time[2]) : 0
        guard let second, var components = dayComponents(text.prefix(10)) else { return nil }
        components.hour = hour
        components.minute = minute
        components.second = second
        return date(components, zone: zone)
    }

    /// Midnight in `zone` starting `YYYY-MM-DD`; nil for a day that does not exist (2026-02-30).
    static func day(_ text: String, zone: TimeZone) -> Date? {
        guard text.count == 10, let components = dayComponents(Substring(text)) else { return nil }
        return date(components, zone: zone)
    }

    private static func dayComponents(_ text: Substring) -> DateComponents? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = number(parts[0]), let month = number(parts[1]), let day = number(parts[2]) else { return nil }
        return DateComponents(year: year, month: month, day: day)
    }

    /// The date the components name in `zone`, or nil when they name none (month 13, 31 February, 24:00).
    private static func date(_ components: DateComponents, zone: TimeZone) -> Date? {
        let calendar = calendar(zone)
        guard (1...12).contains(components.month ?? 0), (1...31).contains(components.day ?? 0), (0...23).contains(components.hour ?? 0),
              (0...59).contains(components.minute ?? 0), (0...59).contains(components.second ?? 0),
              components.isValidDate(in: calendar) else { return nil }
        return calendar.date(from: components)
    }

    private static func calendar(_ zone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    private static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }
}
