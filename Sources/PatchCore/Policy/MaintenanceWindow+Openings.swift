import Foundation

extension MaintenanceWindow {
    /// The opening containing `date` (start included, end excluded), evaluated on the wall
    /// clock of `zone` (a host's override) or the window's own zone.
    public func opening(containing date: Date, in zone: TimeZone? = nil) -> DateInterval? {
        let zone = zone ?? timeZone
        let today = CivilDay(date, in: zone)
        // An opening lasts at most until the same wall time the next day, so only one that
        // started today or yesterday (crossing midnight) can contain `date`.
        for day in [today, today.adding(days: -1)] {
            if let interval = opening(startingOn: day, in: zone), interval.start <= date, date < interval.end {
                return interval
            }
        }
        return nil
    }

    public func contains(_ date: Date, in zone: TimeZone? = nil) -> Bool {
        opening(containing: date, in: zone) != nil
    }

    /// The next opening that starts after `date` (an opening already under way is not it).
    /// Searches 401 days ahead, enough for any monthly schedule; nil only if nothing opens.
    public func nextOpening(after date: Date, in zone: TimeZone? = nil) -> DateInterval? {
        let zone = zone ?? timeZone
        let first = CivilDay(date, in: zone).adding(days: -1)
        for offset in 0...402 {
            if let interval = opening(startingOn: first.adding(days: offset), in: zone), interval.start > date {
                return interval
            }
        }
        return nil
    }

    /// The opening that starts on `day`, if the schedule opens that day.
    func opening(startingOn day: CivilDay, in zone: TimeZone) -> DateInterval? {
        guard schedule.opens(on: day) else { return nil }
        let startDate = day.instant(at: start, in: zone)
        let endDate = (end <= start ? day.adding(days: 1) : day).instant(at: end, in: zone)
        // Only a window squeezed to nothing by a DST gap (02:10-02:40 on spring-forward day) ends here.
        guard endDate > startDate else { return nil }
        return DateInterval(start: startDate, end: endDate)
    }
}

extension MaintenanceWindow.Schedule {
    /// Whether an opening starts on `day`.
    func opens(on day: CivilDay) -> Bool {
        switch self {
        case let .weekly(days):
            return days.contains(day.weekday)
        case .patchTuesday:
            // The opening of an earlier month can land in this one (a late weekday or a large
            // offset: up to 35 + 31 days after a Patch Tuesday), and a negative offset can pull
            // next month's into this one, so neighbouring months are checked too.
            return (-3...1).contains { monthOpeningDay(ofMonthOf: day.firstOfMonth(adding: $0)) == day }
        }
    }

    /// This schedule's opening day for the month containing `month` (patchTuesday only).
    func monthOpeningDay(ofMonthOf month: CivilDay) -> CivilDay? {
        guard case let .patchTuesday(weekday, nth, offsetDays) = self else { return nil }
        let tuesday = MaintenanceWindow.patchTuesdayDay(year: month.year, month: month.month)
        var delta = offsetDays
        if let weekday {
            // Strictly after Patch Tuesday: the first Tuesday after it is a week later.
            let ahead = (weekday.rawValue - Weekday.tuesday.rawValue + 7) % 7
            delta += (ahead == 0 ? 7 : ahead) + (nth - 1) * 7
        }
        return tuesday.adding(days: delta)
    }
}
