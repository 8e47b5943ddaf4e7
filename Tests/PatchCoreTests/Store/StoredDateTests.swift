import Foundation
import GRDB
import Testing
@testable import PatchCore

/// `StoredDate` reads history's dates by hand: it must give exactly the date GRDB gives, for every
/// text it parses itself, and hand everything else to GRDB.
@Suite("Stored dates read by hand")
struct StoredDateTests {
    static func grdb(_ text: String) -> Date? {
        Date.fromDatabaseValue(text.databaseValue)
    }

    static func hand(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { StoredDate.parse($0) }
    }

    /// Dates GRDB wrote (every millisecond of a second, and random instants over four centuries), and
    /// random fields written out: the same `Date`, to the bit.
    @Test func everyStoredTextGivesGRDBsDate() throws {
        var generator = SystemRandomNumberGenerator()
        var texts: [String] = []
        let base = Date(timeIntervalSince1970: 1_795_558_732)
        for millisecond in 0..<1000 { texts.append(try #require(String.fromDatabaseValue((base + Double(millisecond) / 1000).databaseValue))) }
        for _ in 0..<20_000 {
            let date = Date(timeIntervalSinceReferenceDate: Double.random(in: -10_000_000_000...7_000_000_000, using: &generator))
            texts.append(try #require(String.fromDatabaseValue(date.databaseValue)))
        }
        for _ in 0..<20_000 {
            let year = Int.random(in: 1600...9999, using: &generator), month = Int.random(in: 1...12, using: &generator)
            let days = Calendar(identifier: .gregorian).range(of: .day, in: .month,
                                                              for: try #require(Self.grdb(String(format: "%04d-%02d-01 00:00:00.000", year, month))))!
            texts.append(String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", year, month, Int.random(in: days, using: &generator),
                                Int.random(in: 0...23, using: &generator), Int.random(in: 0...59, using: &generator),
                                Int.random(in: 0...59, using: &generator), Int.random(in: 0...999, using: &generator)))
        }
        texts += ["2024-02-29 23:59:59.999", "2000-02-29 00:00:00.000", "1970-01-01 00:00:00.000", "1600-01-01 00:00:00.000",
                  "9999-12-31 23:59:59.999", "1969-12-31 23:59:59.999", "2001-01-05 23:17:41.389"]
        // Every millisecond of a few hundred seconds over this century.
        for second in stride(from: 978_307_200, to: 4_102_444_800, by: 9_999_991) {
            for millisecond in 0..<1000 {
                texts.append(try #require(String.fromDatabaseValue(Date(timeIntervalSince1970: Double(second)).databaseValue)).dropLast(3)
                             + String(format: "%03d", millisecond))
            }
        }
        var mismatches: [String] = []
        for text in texts {
            let parsed = try #require(Self.hand(text), "\(text)")
            let expected = try #require(Self.grdb(text), "\(text)")
            if parsed.timeIntervalSinceReferenceDate.bitPattern != expected.timeIntervalSinceReferenceDate.bitPattern {
                mismatches.append("\(text) \(parsed.timeIntervalSinceReferenceDate) \(expected.timeIntervalSinceReferenceDate)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count): \(mismatches.prefix(5))")
    }

    /// Other layouts and dates that do not exist are not parsed by hand; the value is still GRDB's
    /// (whatever it makes of them), through the database value and through a stepped statement.
    @Test func otherFormsAreGRDBs() throws {
        let others = ["2026-02-29 12:00:00.000", "2026-04-31 00:00:00.000", "2026-13-01 00:00:00.000", "2026-11-24 24:00:00.000",
                      "2026-11-24 23:60:00.000", "2026-11-24 23:59:60.000", "2026-11-24 22:18:52", "2026-11-24T22:18:52.593",
                      "2026-11-24 22:18:52.5930", "2026-11-24 22:18:5x.593", "2026-11-24", "2026-11-24 22:18", "+026-11-24 22:18:52.593",
                      "not a date", ""]
        for text in others {
            #expect(Self.hand(text) == nil, "\(text)")
            #expect(StoredDate.fromDatabaseValue(text.databaseValue)?.date == Self.grdb(text), "\(text)")
        }
        // Through a statement, the values GRDB makes a date of (or NULL): a subscript traps on the others.
        let values: [DatabaseValue] = others.filter { Self.grdb($0) != nil }.map(\.databaseValue) + ["2026-11-24 22:18:52.593".databaseValue, 1_795_558_732.5.databaseValue,
                                                                    1_795_558_732.databaseValue, .null]
        #expect(StoredDate.fromDatabaseValue(1_795_558_732.5.databaseValue)?.date == Date(timeIntervalSince1970: 1_795_558_732.5))

        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (i INTEGER PRIMARY KEY, v)")
            for (index, value) in values.enumerated() { try db.execute(sql: "INSERT INTO t VALUES (?, ?)", arguments: [index, value]) }
            // A cursor's rows are read from the statement being stepped (init(sqliteStatement:index:)).
            let rows = try Row.fetchCursor(db, sql: "SELECT v FROM t ORDER BY i")
            var index = 0
            while let row = try rows.next() {
                #expect((row[0] as StoredDate?)?.date == (row[0] as Date?), "\(values[index])")
                index += 1
            }
            #expect(index == values.count)
        }
    }
}
