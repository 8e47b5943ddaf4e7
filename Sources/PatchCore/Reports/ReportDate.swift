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

    /// An end (an exception's `until`) as report tables show it, in UTC: see `DateArgument.endText`.
    public static func endText(_ date: Date) -> String {
        DateArgument.endText(date, zone: utc)
    }

    /// When an exception ran out, for a compliance reason: `2026-02-05 14:00 UTC`, or for one
    /// that ran to the end of a day, `2026-02-05 (end of the day, UTC)`; reports are in UTC.
    public static func expiryText(_ date: Date) -> String {
        let text = endText(date)
        return text.hasSuffix(" (inclusive)") ? String(text.dropLast(" (inclusive)".count)) + " (end of the day, UTC)" : text
    }

    /// `--as-of`, read in UTC by `DateArgument` (a bare day: its last millisecond).
    public static func parseMoment(_ text: String) -> Date? {
        DateArgument.end(text, zone: utc)
    }

    /// `--since`: a duration back from `end` (`90d`, `12w`, `24h`), or a start read in UTC by
    /// `DateArgument` (a bare day: its first moment).
    public static func parseStart(_ text: String, end: Date) -> Date? {
        DateArgument.start(text, end: end, zone: utc)
    }
}
