import Foundation

/// A calendar day with no time zone attached (proleptic Gregorian). Window arithmetic is done
/// on these so that "the next day" always means the next date on the wall calendar, whatever
/// daylight-saving transitions do to the length of that day.
struct CivilDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    var year: Int
    var month: Int
    var day: Int

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days since 1970-01-01 (Howard Hinnant's `civil_from_days`).
    init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// The wall-calendar day `date` falls on in `zone`.
    init(_ date: Date, in zone: TimeZone) {
        let local = date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))
        self.init(daysSinceEpoch: Int((local / 86_400).rounded(.down)))
    }

    /// Days since 1970-01-01 (Hinnant's `days_from_civil`).
    var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    var weekday: Weekday {
        // 1970-01-01 was a Thursday (Calendar weekday 5).
        let index = ((daysSinceEpoch % 7) + 7 + 4) % 7
        return Weekday(rawValue: index + 1) ?? .sunday
    }

    func adding(days: Int) -> CivilDay { CivilDay(daysSinceEpoch: daysSinceEpoch + days) }

    /// The first day of the month `months` after this day's month (negative: before).
    func firstOfMonth(adding months: Int) -> CivilDay {
        let index = year * 12 + (month - 1) + months
        let newYear = index >= 0 ? index / 12 : (index - 11) / 12
        return CivilDay(year: newYear, month: index - newYear * 12 + 1, day: 1)
    }

    /// The instant this day's wall clock in `zone` reads `time`. A time skipped by a
    /// spring-forward transition becomes the first valid instant after it (the transition
    /// itself, e.g. 03:00 for 02:30 in Europe/Berlin), as `Calendar.date(bySettingHour:...)`
    /// does; a time repeated by a fall-back transition is its first occurrence.
    func instant(at time: TimeOfDay, in zone: TimeZone) -> Date {
        let local = Double(daysSinceEpoch * 86_400 + time.minutes * 60)
        // A zone changes offset at most once around any given day, so the offsets a day either
        // side are the only candidates.
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: local - 86_400))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: local + 86_400))
        // The larger offset gives the earlier instant, which wins when both are valid.
        for offset in [max(before, after), min(before, after)] {
            let candidate = Date(timeIntervalSince1970: local - Double(offset))
            if zone.secondsFromGMT(for: candidate) == offset { return candidate }
        }
        // Neither offset reads back: the wall time does not exist that day.
        let gapStart = Date(timeIntervalSince1970: local - Double(max(before, after)))
        return zone.nextDaylightSavingTimeTransition(after: gapStart)
            ?? Date(timeIntervalSince1970: local - Double(min(before, after)))
    }

    var description: String {
        let pad = { (value: Int, width: Int) in String(repeating: "0", count: max(0, width - "\(value)".count)) + "\(value)" }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    static func < (lhs: CivilDay, rhs: CivilDay) -> Bool { lhs.daysSinceEpoch < rhs.daysSinceEpoch }
}
