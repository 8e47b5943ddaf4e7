import Foundation
import GRDB
import GRDBSQLite

/// A date column as history stores it: GRDB's text `yyyy-MM-dd HH:mm:ss.SSS` (UTC), read by hand.
/// GRDB parses each one into date components and asks a calendar for the date, which was a tenth
/// of a year-long report's reading (a million dates). Any other form (whole seconds, a number, a
/// PostgreSQL value in another layout) goes to GRDB's own parsing, so the result is always GRDB's.
struct StoredDate: DatabaseValueConvertible, StatementColumnConvertible {
    let date: Date

    init(_ date: Date) {
        self.date = date
    }

    var databaseValue: DatabaseValue { date.databaseValue }

    static func fromDatabaseValue(_ value: DatabaseValue) -> StoredDate? {
        if case let .string(text) = value.storage {
            var text = text
            if let date = text.withUTF8({ Self.parse($0) }) { return StoredDate(date) }
        }
        return Date.fromDatabaseValue(value).map(StoredDate.init)
    }

    init?(sqliteStatement: SQLiteStatement, index: CInt) {
        if sqlite3_column_type(sqliteStatement, index) == SQLITE_TEXT, let text = sqlite3_column_text(sqliteStatement, index) {
            let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(sqliteStatement, index)))
            if let date = Self.parse(bytes) {
                self.date = date
                return
            }
        }
        guard let date = Date(sqliteStatement: sqliteStatement, index: index) else { return nil }
        self.date = date
    }

    /// Exactly `yyyy-MM-dd HH:mm:ss.SSS` with every field in range (the day within its month) and a
    /// year from 1600 (Foundation's Gregorian calendar is Julian before October 1582), else nil.
    /// The same double as GRDB's date, to the bit (`StoredDateTests` compares them).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        guard bytes.count == 23, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: " "),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: ".") else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let digit = Int(bytes[index]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
              let minute = number(14, 2), let second = number(17, 2), let millisecond = number(20, 3),
              year >= 1600, month >= 1, month <= 12, day >= 1, day <= daysIn(month, of: year), hour <= 23, minute <= 59, second <= 59
        else { return nil }
        // As Foundation's Gregorian calendar sums them: the time of day with its fraction, then the days.
        let secondsInDay = Double(hour * 3600 + minute * 60 + second) + Double(millisecond * 1_000_000) / 1_000_000_000
        return Date(timeIntervalSinceReferenceDate: Double((CivilDay(year: year, month: month, day: day).daysSinceEpoch - 11_323) * 86_400) + secondsInDay)
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
