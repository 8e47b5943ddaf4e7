import Foundation

/// Dates in reports are UTC, so the same database gives the same report on any machine.
public enum ReportDate {
    static let utc = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current

    /// `2026-11-24`.
    public static func day(_ date: Date) -> String {
        String(JSONOutput.timestamp(date).prefix(10))
    }

    /// Midnight UTC starting the day `date` falls on.
    public static func startOfDay(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 86_400).rounded(.down) * 86_400)
    }

    /// Reports default to now, in whole milliseconds (what timestamps print and history stores),
    /// so the printed time reproduces the report.
    public static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// `--as-of`: a timestamp (`2026-11-24T22:18:52Z`, `.593Z`), a UTC date and time
    /// (`2026-11-24T22:18`), or a day (`2026-11-24`, meaning its last second, 23:59:59 UTC).
    public static func parseMoment(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let exact = JSONOutput.parseTimestamp(trimmed) { return exact }
        if let day = parseDay(trimmed) { return day.addingTimeInterval(86_399) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = utc
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }

    /// `--since`: a duration back from `end` (`90d`, `12w`, `24h`), or a start as `parseMoment`
    /// reads it, except that a bare day means its first second.
    public static func parseStart(_ text: String, end: Date) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let seconds = PolicyDuration.parse(trimmed), seconds > 0, trimmed.contains(where: \.isLetter) {
            return end.addingTimeInterval(-seconds)
        }
        if let day = parseDay(trimmed) { return day }
        return parseMoment(trimmed)
    }

    /// Midnight UTC of `YYYY-MM-DD`.
    static func parseDay(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        return date
    }
}
