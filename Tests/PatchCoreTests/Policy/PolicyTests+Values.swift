import Foundation
import Testing
@testable import PatchCore

extension PolicyTests {
    @Suite("Policy values")
    struct Values {
        @Test(arguments: [
            ("90s", 90.0), ("30m", 1800), ("24h", 86_400), ("2d", 172_800), ("1w", 604_800),
            ("1h30m", 5400), ("1h 30m", 5400), ("1d12h", 129_600), ("3600", 3600), ("1.5h", 5400), ("0", 0), ("0s", 0),
        ])
        func durations(text: String, seconds: Double) {
            #expect(PolicyDuration.parse(text) == seconds)
        }

        @Test(arguments: ["", "-5m", "5", "1h30", "1y", "h", "1hh", "1h1h", "1.2.3s", "0x10", "inf", "1e3", " m"])
        func invalidDurations(text: String) {
            if text == "5" {
                #expect(PolicyDuration.parse(text) == 5)  // a bare number is seconds
            } else {
                #expect(PolicyDuration.parse(text) == nil, "\(text)")
            }
        }

        @Test func durationFormatting() {
            #expect(PolicyDuration.format(5400) == "1h30m")
            #expect(PolicyDuration.format(86_400) == "1d")
            #expect(PolicyDuration.format(0) == "0s")
            #expect(PolicyDuration.parse(PolicyDuration.format(694_861)) == 694_861)
        }

        @Test func timesOfDay() {
            #expect(TimeOfDay(text: "02:00") == TimeOfDay(hour: 2, minute: 0))
            #expect(TimeOfDay(text: "2:05") == TimeOfDay(hour: 2, minute: 5))
            #expect(TimeOfDay(text: "23:59") == TimeOfDay(hour: 23, minute: 59))
            for bad in ["25:00", "24:00", "2am", "12:60", "12", "12:5", ":30", "-1:00", "1:00:00"] {
                #expect(TimeOfDay(text: bad) == nil, "\(bad)")
            }
            #expect(TimeOfDay(hour: 9, minute: 5).description == "09:05")
            #expect(TimeOfDay(hour: 22, minute: 0) > TimeOfDay(hour: 4, minute: 0))
        }

        @Test func weekdays() {
            #expect(Weekday(text: "mon") == .monday)
            #expect(Weekday(text: "Monday") == .monday)
            #expect(Weekday(text: "TUES") == .tuesday)
            #expect(Weekday(text: "thurs") == .thursday)
            #expect(Weekday(text: "sa") == nil)
            #expect(Weekday(text: "funday") == nil)
            // Same numbering as Calendar's weekday component: 2026-11-15 is a Sunday.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
            #expect(calendar.component(.weekday, from: Date(timeIntervalSince1970: 1_794_744_000)) == Weekday.sunday.rawValue)
        }

        @Test func civilDaysRoundTrip() {
            for days in [-800_000, -1, 0, 59, 365, 10_957, 20_000, 2_000_000] {
                let day = CivilDay(daysSinceEpoch: days)
                #expect(day.daysSinceEpoch == days)
            }
            #expect(CivilDay(year: 2024, month: 2, day: 29).adding(days: 1) == CivilDay(year: 2024, month: 3, day: 1))
            #expect(CivilDay(year: 2026, month: 11, day: 14).weekday == .saturday)
            #expect(CivilDay(year: 2026, month: 1, day: 15).firstOfMonth(adding: -3) == CivilDay(year: 2025, month: 10, day: 1))
        }

        @Test func absoluteDates() throws {
            let utc = try PolicyTests.zone("UTC")
            #expect(PolicyParser.absoluteDate("2026-12-01", in: utc) == (try PolicyTests.instant("2026-12-01T00:00:00Z")))
            #expect(PolicyParser.absoluteDate("2026-12-01T18:00", in: utc) == (try PolicyTests.instant("2026-12-01T18:00:00Z")))
            #expect(PolicyParser.absoluteDate("2026-12-01 18:00:30Z", in: utc) == (try PolicyTests.instant("2026-12-01T18:00:30Z")))
            #expect(PolicyParser.absoluteDate("2026-07-01T18:00-04:00", in: utc) == (try PolicyTests.instant("2026-07-01T22:00:00Z")))
            let berlin = try PolicyTests.zone("Europe/Berlin")
            #expect(PolicyParser.absoluteDate("2026-07-01T18:00", in: berlin) == (try PolicyTests.instant("2026-07-01T16:00:00Z")))
            for bad in ["2026-13-01", "2026-02-29", "2026-12-01T25:00", "12/01/2026", "2026-12-1"] {
                #expect(PolicyParser.absoluteDate(bad, in: utc) == nil, "\(bad)")
            }
        }
    }
}
