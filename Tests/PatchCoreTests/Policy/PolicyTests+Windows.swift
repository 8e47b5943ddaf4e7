import Foundation
import Testing
@testable import PatchCore

extension PolicyTests {
    @Suite("Maintenance windows")
    struct Windows {
        typealias Window = MaintenanceWindow

        static func window(_ schedule: Window.Schedule, _ start: String, _ end: String, _ zone: String = "UTC") throws -> Window {
            Window(schedule: schedule,
                   start: try #require(TimeOfDay(text: start)),
                   end: try #require(TimeOfDay(text: end)),
                   timeZone: try PolicyTests.zone(zone))
        }

        func at(_ text: String) throws -> Date { try PolicyTests.instant(text) }

        // MARK: Weekly

        @Test func simpleWeekly() throws {
            let window = try Self.window(.weekly([.saturday, .sunday]), "02:00", "05:00", "Europe/Berlin")
            // 2026-11-14 is a Saturday; Berlin is at +01:00 in November.
            #expect(window.contains(try at("2026-11-14T02:00:00+01:00")))
            #expect(window.contains(try at("2026-11-15T04:59:59+01:00")))
            #expect(!window.contains(try at("2026-11-14T05:00:00+01:00")))  // the end is excluded
            #expect(!window.contains(try at("2026-11-14T01:59:00+01:00")))
            #expect(!window.contains(try at("2026-11-13T03:00:00+01:00")))  // Friday
            #expect(window.opening(containing: try at("2026-11-14T03:00:00+01:00"))
                == DateInterval(start: try at("2026-11-14T02:00:00+01:00"), end: try at("2026-11-14T05:00:00+01:00")))
        }

        @Test func crossingMidnight() throws {
            let window = try Self.window(.weekly([.saturday]), "22:00", "04:00")
            #expect(window.contains(try at("2026-11-15T03:00:00Z")))   // Sunday, opened Saturday 22:00
            #expect(window.opening(containing: try at("2026-11-15T03:00:00Z"))
                == DateInterval(start: try at("2026-11-14T22:00:00Z"), end: try at("2026-11-15T04:00:00Z")))
            #expect(!window.contains(try at("2026-11-14T03:00:00Z")))  // Saturday early: Friday has no opening
            #expect(!window.contains(try at("2026-11-15T22:30:00Z")))  // Sunday evening: only Saturday opens
            #expect(!window.contains(try at("2026-11-15T04:00:00Z")))
            #expect(window.contains(try at("2026-11-14T23:59:00Z")))
        }

        @Test func endEqualToStartIsAFullDay() throws {
            let window = try Self.window(.weekly([.monday]), "06:00", "06:00")
            #expect(window.opening(containing: try at("2026-11-17T05:59:00Z"))
                == DateInterval(start: try at("2026-11-16T06:00:00Z"), end: try at("2026-11-17T06:00:00Z")))
        }

        @Test func hostTimeZoneOverride() throws {
            let window = try Self.window(.weekly([.saturday]), "02:00", "05:00", "Europe/Berlin")
            let berlinNight = try at("2026-11-14T01:30:00Z")  // 02:30 Saturday in Berlin
            #expect(window.contains(berlinNight))
            #expect(!window.contains(berlinNight, in: try PolicyTests.zone("UTC")))               // 01:30 in UTC
            #expect(!window.contains(berlinNight, in: try PolicyTests.zone("America/New_York")))  // 20:30 Friday
            let newYorkNight = try at("2026-11-14T07:30:00Z")  // 02:30 Saturday in New York, 08:30 in Berlin
            #expect(!window.contains(newYorkNight))
            #expect(window.opening(containing: newYorkNight, in: try PolicyTests.zone("America/New_York"))
                == DateInterval(start: try at("2026-11-14T02:00:00-05:00"), end: try at("2026-11-14T05:00:00-05:00")))
        }

        // MARK: Daylight saving time (Europe/Berlin: 2026-03-29 and 2026-10-25 are Sundays)

        @Test func springForwardStartsAtTheFirstValidTime() throws {
            // 02:00-03:00 does not exist that night: the opening starts at 03:00 CEST, 2 real hours.
            let window = try Self.window(.weekly([.sunday]), "02:00", "05:00", "Europe/Berlin")
            let opening = try #require(window.opening(containing: try at("2026-03-29T03:30:00+02:00")))
            #expect(opening == DateInterval(start: try at("2026-03-29T03:00:00+02:00"), end: try at("2026-03-29T05:00:00+02:00")))
            #expect(opening.duration == 2 * 3600)
            #expect(!window.contains(try at("2026-03-29T01:59:00+01:00")))

            let halfPast = try Self.window(.weekly([.sunday]), "02:30", "04:00", "Europe/Berlin")
            #expect(halfPast.opening(containing: try at("2026-03-29T03:10:00+02:00"))?.start == (try at("2026-03-29T03:00:00+02:00")))
        }

        @Test func springForwardEndInTheGap() throws {
            // Saturday 22:00 to 02:30: 02:30 never happens on Sunday, so it ends at 03:00 CEST.
            let window = try Self.window(.weekly([.saturday]), "22:00", "02:30", "Europe/Berlin")
            #expect(window.opening(containing: try at("2026-03-28T23:00:00+01:00"))
                == DateInterval(start: try at("2026-03-28T22:00:00+01:00"), end: try at("2026-03-29T03:00:00+02:00")))
        }

        @Test func fallBackStartsAtTheFirstOccurrence() throws {
            // 02:00-03:00 happens twice: the opening starts at the first 02:00 (CEST) and ends at
            // 05:00 CET, 4 real hours; the repeated 02:30 (CET) is inside.
            let window = try Self.window(.weekly([.sunday]), "02:00", "05:00", "Europe/Berlin")
            let opening = try #require(window.opening(containing: try at("2026-10-25T02:30:00+01:00")))
            #expect(opening == DateInterval(start: try at("2026-10-25T02:00:00+02:00"), end: try at("2026-10-25T05:00:00+01:00")))
            #expect(opening.duration == 4 * 3600)
            #expect(window.contains(try at("2026-10-25T02:10:00+02:00")))
        }

        @Test func nextOpeningAcrossDaylightSavingChange() throws {
            let window = try Self.window(.weekly([.saturday]), "02:00", "05:00", "Europe/Berlin")
            // From a Saturday in CET the next Saturday night is still CET; across March it is CEST.
            #expect(window.nextOpening(after: try at("2026-03-22T12:00:00+01:00"))
                == DateInterval(start: try at("2026-03-28T02:00:00+01:00"), end: try at("2026-03-28T05:00:00+01:00")))
            #expect(window.nextOpening(after: try at("2026-03-28T12:00:00+01:00"))?.start == (try at("2026-04-04T02:00:00+02:00")))
        }

        // MARK: Patch Tuesday

        @Test(arguments: [
            (2026, 1, 13), (2026, 2, 10), (2026, 3, 10), (2026, 9, 8), (2026, 10, 13), (2026, 11, 10), (2026, 12, 8),
            (2027, 1, 12), (2027, 2, 9), (2027, 6, 8), (2027, 9, 14), (2027, 12, 14),
        ])
        func patchTuesdayDates(year: Int, month: Int, day: Int) {
            #expect(MaintenanceWindow.patchTuesday(year: year, month: month) == DateComponents(year: year, month: month, day: day))
        }

        @Test func patchTuesdayItself() throws {
            let window = try Self.window(.patchTuesday(weekday: nil, nth: 1, offsetDays: 0), "20:00", "23:00")
            #expect(window.contains(try at("2026-11-10T21:00:00Z")))
            #expect(!window.contains(try at("2026-11-03T21:00:00Z")))
            #expect(!window.contains(try at("2026-11-17T21:00:00Z")))
        }

        @Test func firstSaturdayAfterPatchTuesday() throws {
            let window = try Self.window(.patchTuesday(weekday: .saturday, nth: 1, offsetDays: 0), "02:00", "06:00", "Europe/Berlin")
            #expect(window.contains(try at("2026-11-14T03:00:00+01:00")))
            #expect(!window.contains(try at("2026-11-07T03:00:00+01:00")))
            #expect(!window.contains(try at("2026-11-21T03:00:00+01:00")))
            // A Tuesday "after" Patch Tuesday is a week later, not the same day.
            let tuesday = try Self.window(.patchTuesday(weekday: .tuesday, nth: 1, offsetDays: 0), "02:00", "06:00")
            #expect(tuesday.contains(try at("2026-11-17T03:00:00Z")))
            #expect(!tuesday.contains(try at("2026-11-10T03:00:00Z")))
        }

        @Test func offsetPushesTheOpeningIntoTheNextMonth() throws {
            // December 2026: Patch Tuesday the 8th, the 4th Saturday after it is 2027-01-02.
            let fourth = try Self.window(.patchTuesday(weekday: .saturday, nth: 4, offsetDays: 0), "02:00", "06:00")
            #expect(fourth.contains(try at("2027-01-02T03:00:00Z")))
            #expect(!fourth.contains(try at("2027-01-09T03:00:00Z")))
            // November 2026 + 25 days = December 5th; December + 25 = January 2nd.
            let offset = try Self.window(.patchTuesday(weekday: nil, nth: 1, offsetDays: 25), "02:00", "06:00")
            #expect(offset.contains(try at("2026-12-05T03:00:00Z")))
            #expect(offset.contains(try at("2027-01-02T03:00:00Z")))
            #expect(!offset.contains(try at("2026-12-08T03:00:00Z")))
            // A negative offset can pull next month's opening into this one: the Monday before.
            let before = try Self.window(.patchTuesday(weekday: nil, nth: 1, offsetDays: -1), "02:00", "06:00")
            #expect(before.contains(try at("2026-11-09T03:00:00Z")))
            #expect(before.nextOpening(after: try at("2026-11-09T12:00:00Z"))?.start == (try at("2026-12-07T02:00:00Z")))
        }

        @Test func patchTuesdayCrossingMidnightAtMonthEnd() throws {
            // Patch Tuesday + 20 days in March 2026 is the 30th; 22:00 to 04:00 runs into the 31st.
            let window = try Self.window(.patchTuesday(weekday: nil, nth: 1, offsetDays: 21), "22:00", "04:00")
            // March 10 + 21 = March 31; the opening ends April 1st 04:00.
            #expect(window.contains(try at("2026-04-01T03:00:00Z")))
            #expect(!window.contains(try at("2026-04-01T04:00:00Z")))
        }

        // MARK: Next opening

        @Test func nextOpeningWeekly() throws {
            let window = try Self.window(.weekly([.saturday, .sunday]), "02:00", "05:00", "Europe/Berlin")
            let wednesday = try at("2026-11-11T12:00:00Z")
            #expect(window.nextOpening(after: wednesday)
                == DateInterval(start: try at("2026-11-14T02:00:00+01:00"), end: try at("2026-11-14T05:00:00+01:00")))
            // Inside an opening, the next one is the following opening, not the current.
            #expect(window.nextOpening(after: try at("2026-11-14T03:00:00+01:00"))?.start == (try at("2026-11-15T02:00:00+01:00")))
            // Exactly at a start, that opening has not started "after" it.
            #expect(window.nextOpening(after: try at("2026-11-14T02:00:00+01:00"))?.start == (try at("2026-11-15T02:00:00+01:00")))
            // Host override: the same rule on New York's clock.
            #expect(window.nextOpening(after: wednesday, in: try PolicyTests.zone("America/New_York"))?.start
                == (try at("2026-11-14T02:00:00-05:00")))
        }

        @Test func nextOpeningMonthly() throws {
            let window = try Self.window(.patchTuesday(weekday: .saturday, nth: 1, offsetDays: 0), "02:00", "06:00")
            #expect(window.nextOpening(after: try at("2026-11-15T00:00:00Z"))?.start == (try at("2026-12-12T02:00:00Z")))
            #expect(window.nextOpening(after: try at("2026-11-01T00:00:00Z"))?.start == (try at("2026-11-14T02:00:00Z")))
        }

        @Test func nextOpeningCrossingMidnightStartingYesterday() throws {
            let window = try Self.window(.weekly([.saturday]), "22:00", "04:00")
            // Sunday 01:00 is inside Saturday's opening; the next one is a week later.
            #expect(window.nextOpening(after: try at("2026-11-15T01:00:00Z"))?.start == (try at("2026-11-21T22:00:00Z")))
        }
    }
}
