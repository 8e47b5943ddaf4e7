import Foundation
import Testing
@testable import PatchCore

/// Issue 13: `--until 2027-01-31` came back as `2027-02-01T00:00`. A bare day given as an end is
/// that whole day in the zone it was read in, and reads back as the day given, said inclusive.
@Suite("Dates on the command line read back as given")
struct DateArgumentTests {
    static func zone(_ id: String) throws -> TimeZone { try #require(TimeZone(identifier: id)) }

    @Test(arguments: ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"])
    func aBareDayEndIsThatDayInclusive(_ id: String) throws {
        let zone = try Self.zone(id)
        let now = try #require(Timestamp.parse("2026-12-04T04:00:00Z"))
        let until = try #require(DateArgument.parse("2027-01-31", now: now, zone: zone))
        // Independently: the next local midnight, less the millisecond history keeps.
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let midnight = try #require(calendar.date(from: DateComponents(year: 2027, month: 2, day: 1)))
        #expect(until == midnight.addingTimeInterval(-0.001))
        #expect(DateArgument.endText(until, zone: zone) == "2027-01-31 (inclusive)")
        // Stored as a timestamp and read back: the same moment, the same text.
        let stored = try #require(Timestamp.parse(Timestamp.format(until)))
        #expect(DateArgument.endText(stored, zone: zone) == "2027-01-31 (inclusive)")
        // A moment a second later is the next day's first second: shown as a time, not as a day.
        #expect(DateArgument.endText(midnight, zone: zone).hasPrefix("2027-02-01 00:00"))
    }

    @Test func aTimeReadsBackWithItsZone() throws {
        let berlin = try Self.zone("Europe/Berlin"), utc = try Self.zone("UTC"), york = try Self.zone("America/New_York")
        let now = try #require(Timestamp.parse("2026-12-04T04:00:00Z"))
        let evening = try #require(DateArgument.parse("2027-01-31T18:00", now: now, zone: berlin))
        #expect(DateArgument.endText(evening, zone: berlin) == "2027-01-31 18:00 +01:00")
        #expect(DateArgument.endText(evening, zone: utc) == "2027-01-31 17:00 UTC")
        #expect(DateArgument.endText(evening, zone: york) == "2027-01-31 12:00 -05:00")
        let seconds = try #require(DateArgument.parse("2027-07-01 06:30:15", now: now, zone: berlin))
        #expect(DateArgument.endText(seconds, zone: berlin) == "2027-07-01 06:30:15 +02:00", "summer time")
        // A New York day's end seen from UTC (a report): the exact UTC moment, not a wrong day.
        let yorkDay = try #require(DateArgument.parse("2027-01-31", now: now, zone: york))
        #expect(DateArgument.endText(yorkDay, zone: utc) == "2027-02-01 04:59:59 UTC")
        #expect(ReportDate.endText(try #require(ReportDate.parseMoment("2027-01-31"))) == "2027-01-31 (inclusive)")
    }
}
