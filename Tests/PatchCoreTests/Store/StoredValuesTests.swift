import Foundation
import GRDB
import Testing
@testable import PatchCore

/// What history reads back: timestamps that exist, states and kinds this version knows, and
/// the dates operators type. Each test here failed before history read these values strictly.
@Suite("Stored values read back strictly")
struct StoredValuesTests {
    func freshStore() throws -> HistoryStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-values-\(UUID().uuidString)")
        return try HistoryStore(path: folder.appendingPathComponent("history.db").path)
    }

    // MARK: Timestamps

    @Test func timestampsThatDoNotExistAreRefused() {
        // timegm used to roll these over (month 13 into January, 31 February into March).
        for text in ["2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-02-31T00:00:00.000Z", "2026-02-29T12:00:00.000Z",
                     "2026-04-31T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T23:60:00Z", "2026-11-24T23:59:60Z",
                     "2026-11-24T22:18:52", "2026-11-24T22:18:52.Z", "2026-11-24T22:18:52.5xZ", "2026-11-24 22:18:52Z"] {
            #expect(JSONOutput.parseTimestamp(text) == nil, "\(text)")
        }
    }

    @Test func theFormatsHistoryStoresReadBackExactly() throws {
        // A leap day, whole seconds, and every millisecond of one second round-trip.
        #expect(JSONOutput.parseTimestamp("2028-02-29T12:00:00.000Z").map(JSONOutput.timestamp) == "2028-02-29T12:00:00.000Z")
        #expect(JSONOutput.parseTimestamp("2024-02-29T23:59:59Z").map(JSONOutput.timestamp) == "2024-02-29T23:59:59.000Z")
        #expect(JSONOutput.parseTimestamp("2026-11-24T22:18:52Z")?.timeIntervalSince1970 == 1_795_558_732)
        #expect(JSONOutput.parseTimestamp("1970-01-01T00:00:00.000Z")?.timeIntervalSince1970 == 0)
        for millisecond in 0..<1000 {
            let text = String(format: "2026-11-24T22:18:52.%03dZ", millisecond)
            #expect(JSONOutput.parseTimestamp(text).map(JSONOutput.timestamp) == text)
        }
    }

    /// `Timestamp.format` works out the calendar by arithmetic; gmtime (what it used before) is the
    /// reference: every date from year 1 to 9999, clamped ones and sub-millisecond ones alike.
    @Test func formattingMatchesGmtime() {
        func reference(_ date: Date) -> String {
            let raw = ((date.timeIntervalSince1970 * 1_000_000).rounded() / 1000).rounded(.down)
            let milliseconds = raw.isNaN ? 0 : Int64(min(max(raw, -62_135_596_800_000), 253_402_300_799_999))
            let fraction = ((milliseconds % 1000) + 1000) % 1000
            var seconds = time_t((milliseconds - fraction) / 1000)
            var parts = tm()
            gmtime_r(&seconds, &parts)
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                          Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
        }
        var generator = SystemRandomNumberGenerator()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.0005), Date(timeIntervalSince1970: 951_782_400),
                     Date(timeIntervalSince1970: -62_135_596_800), Date(timeIntervalSince1970: 253_402_300_799.999),
                     .distantPast, .distantFuture, Date(timeIntervalSince1970: .nan)]
        for _ in 0..<50_000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: -62_135_596_800...253_402_300_800, using: &generator)))
            dates.append(Date(timeIntervalSince1970: Double(Int.random(in: -3_000_000...3_000_000, using: &generator)) * 86_400
                              + Double(Int.random(in: -2...2, using: &generator))))
        }
        let mismatches = dates.filter { Timestamp.format($0) != reference($0) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5).map { ($0.timeIntervalSince1970, Timestamp.format($0), reference($0)) })")
    }

    // MARK: Encoding

    @Test func jsonOutputThrowsInsteadOfPrintingAnEmptyObject() {
        // A NaN has no JSON form: this used to print "{}".
        #expect(throws: (any Error).self) { try JSONOutput.encode(["ratio": Double.nan], pretty: false) }
    }

    // MARK: Unknown values in rows

    @Test func anUnknownPackageFormatIsAnErrorNotAnExe() throws {
        let store = try freshStore()
        try store.write { db in
            try db.execute(sql: """
                INSERT INTO packages (name, version, platform, architecture, format, added_by, added_at, state)
                VALUES ('agent', '1.0', 'windows', 'x64', 'appx', 'alice', ?, 'pending')
                """, arguments: [Date()])
        }
        #expect { try PackageRepository(store: store).list() } throws: { "\($0)".contains("format") && "\($0)".contains("appx") }
    }

    @Test func anUnknownRunStateOrKindIsAnErrorNotAGuess() throws {
        let store = try freshStore()
        try store.write { db in
            try db.execute(sql: "INSERT INTO runs (id, kind, started_at, state) VALUES ('r1', 'scan', ?, 'paused')", arguments: [Date()])
        }
        // The state used to read as `incomplete`.
        #expect { try store.runs() } throws: { "\($0)".contains("state") && "\($0)".contains("paused") }
        try store.write { db in try db.execute(sql: "UPDATE runs SET state = 'finished', kind = 'audit'") }
        #expect { try store.runs() } throws: { "\($0)".contains("kind") && "\($0)".contains("audit") }
    }

    @Test func anUnknownEventActionIsAnError() throws {
        let store = try freshStore()
        try store.write { db in
            try db.execute(sql: "INSERT INTO events (at, user, action) VALUES (?, 'alice', 'teleport')", arguments: [Date()])
        }
        #expect { try store.events() } throws: { "\($0)".contains("action") && "\($0)".contains("teleport") }
    }

    @Test func anUnknownRingStateInARecordedReportIsAnErrorNotAnEmptyRun() throws {
        let store = try freshStore()
        let report = #"{"dry_run":false,"notes":[],"outcome":"finished","rings":[{"failed":0,"hosts":1,"name":"canary","state":"paused"}]}"#
        try store.write { db in
            try db.execute(sql: "INSERT INTO runs (id, kind, started_at, finished_at, state, policy, report) VALUES ('d1', 'deploy', ?, ?, 'finished', 'weekly', ?)",
                           arguments: [Date(), Date(), report])
        }
        // It used to read as an interrupted run without rings.
        #expect { try store.deployRunReport(id: "d1") } throws: { "\($0)".contains("d1") && "\($0)".contains("paused") }
    }

    // MARK: Dates on the command line

    @Test func aBareDayIsTheWholeDayWhateverTheFlag() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let now = Date(timeIntervalSince1970: 1_795_558_732)
        // As an end (--until, --as-of): the day's last millisecond, in the command's zone.
        #expect(DateArgument.parse("2026-12-01", now: now, zone: utc).map(JSONOutput.timestamp) == "2026-12-01T23:59:59.999Z")
        #expect(DateArgument.parse("2026-12-01", now: now, zone: berlin).map(JSONOutput.timestamp) == "2026-12-01T22:59:59.999Z")
        #expect(ReportDate.parseMoment("2026-12-01").map(JSONOutput.timestamp) == "2026-12-01T23:59:59.999Z")
        // As a start (--since): its first moment.
        #expect(ReportDate.parseStart("2026-12-01", end: now).map(JSONOutput.timestamp) == "2026-12-01T00:00:00.000Z")
        // Both read the same date-and-time forms, and refuse days that do not exist.
        #expect(DateArgument.parse("2026-12-01 18:00:30", now: now, zone: berlin).map(JSONOutput.timestamp) == "2026-12-01T17:00:30.000Z")
        #expect(ReportDate.parseMoment("2026-12-01 18:00").map(JSONOutput.timestamp) == "2026-12-01T18:00:00.000Z")
        #expect(DateArgument.parse("2026-12-01T18:00:00.250Z", now: now, zone: berlin).map(JSONOutput.timestamp) == "2026-12-01T18:00:00.250Z")
        for text in ["2026-02-30", "2026-13-01", "2026-02-31T10:00", "2026-12-01T24:00", "2026-12-1", "tomorrow"] {
            #expect(DateArgument.parse(text, now: now, zone: utc) == nil, "\(text)")
            #expect(ReportDate.parseMoment(text) == nil, "\(text)")
        }
        #expect(DateArgument.parse("48h", now: now, zone: utc) == now.addingTimeInterval(48 * 3600))
    }
}
