import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who is acting, for the audit trail: the person behind sudo when there is one.
public enum LocalUser {
    public static func current(environment: [String: String]) -> String {
        if let sudo = environment["SUDO_USER"], !sudo.isEmpty { return sudo }
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name { return String(cString: name) }
        return environment["USER"] ?? "unknown"
    }
}

/// `--until` values: a duration from now ("48h", "2d") or a local date/time
/// ("2026-12-01" means the end of that day, "2026-12-01T18:00", "2026-12-01 18:00").
public enum DateArgument {
    public static func parse(_ text: String, now: Date, zone: TimeZone = .current) -> Date? {
        if let seconds = PolicyDuration.parse(text), seconds > 0 { return now.addingTimeInterval(seconds) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        formatter.dateFormat = "yyyy-MM-dd"
        if let day = formatter.date(from: text) {
            return calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: day))
        }
        return nil
    }
}
