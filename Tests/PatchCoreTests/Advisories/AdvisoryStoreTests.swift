import Foundation
import Testing
@testable import PatchCore

@Suite struct AdvisoryStoreTests {
    static let location = "/mirror/tracker.json"

    static func range(_ id: String, fixed: String? = "1.0-1") -> AdvisoryRange {
        AdvisoryRange(vulnerability: id, ecosystem: "Debian:12", package: "openssl", fixed: fixed, vendorSeverity: "high")
    }

    /// A fill that fails half-way rolls the whole replacement back: the old rows, record count
    /// and validators stay, and the failure comes out as itself (not as a database error).
    @Test func failedReplacementKeepsPreviousData() throws {
        let store = try HistoryStore(path: FeedFixture.folder().appendingPathComponent("h.db").path)
        try store.replaceAdvisoryRanges(kind: .debianTracker, location: Self.location, validators: .init(etag: "\"a\"")) { insert in
            for n in 1...4 { try insert(Self.range("CVE-2024-000\(n)")) }
        }
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: Self.location) == 4)
        let error = #expect(throws: FeedFormatError.self) {
            try store.replaceAdvisoryRanges(kind: .debianTracker, location: Self.location, validators: .init(etag: "\"b\"")) { insert in
                try insert(Self.range("CVE-2025-0001"))
                throw FeedFormatError("unexpected end of input (truncated?)")
            }
        }
        #expect(error?.message.contains("truncated") == true)
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: Self.location) == 4)
        let feed = try #require(try store.advisoryFeed(kind: .debianTracker, location: Self.location))
        #expect(feed.recordCount == 4 && feed.etag == "\"a\"")
    }

    /// A recorded failure sets the error and nothing else; the next good sync clears it. A 304
    /// moves only checked_at.
    @Test func failureAndCheckBookkeeping() throws {
        let store = try HistoryStore(path: FeedFixture.folder().appendingPathComponent("h.db").path)
        let synced = Date(timeIntervalSince1970: 1_700_000_000)
        try store.replaceKEV(location: "k", validators: .init(etag: "\"1\"", lastModified: "Mon, 01 Jan 2024 00:00:00 GMT"),
                             entries: [KEVEntry(cve: "CVE-2022-21971", vendor: "Microsoft", product: "Windows", name: "n", dateAdded: "2022-08-18")], at: synced)
        try store.recordAdvisoryFeedFailure(kind: .kev, location: "k", message: "HTTP 500 Internal Server Error", at: synced.addingTimeInterval(60))
        var feed = try #require(try store.advisoryFeed(kind: .kev, location: "k"))
        #expect(feed.lastError == "HTTP 500 Internal Server Error" && feed.recordCount == 1 && feed.syncedAt == synced && feed.checkedAt == synced)
        #expect(feed.etag == "\"1\"" && feed.lastModified == "Mon, 01 Jan 2024 00:00:00 GMT")
        #expect(try store.advisoryRowCount(kind: .kev, location: "k") == 1)
        try store.markAdvisoryFeedChecked(kind: .kev, location: "k", at: synced.addingTimeInterval(120))
        feed = try #require(try store.advisoryFeed(kind: .kev, location: "k"))
        #expect(feed.lastError == nil && feed.syncedAt == synced && feed.checkedAt == synced.addingTimeInterval(120))

        // A feed that never synced: a row with the error, no data, stale.
        try store.recordAdvisoryFeedFailure(kind: .epss, location: "e", message: "down")
        feed = try #require(try store.advisoryFeed(kind: .epss, location: "e"))
        #expect(feed.recordCount == 0 && feed.syncedAt == nil && feed.lastError == "down" && feed.isStale(at: Date()))
    }

    /// Replacing one feed leaves another feed's rows alone; EPSS rows are stored and counted.
    @Test func feedsAreIndependent() throws {
        let store = try HistoryStore(path: FeedFixture.folder().appendingPathComponent("h.db").path)
        try store.replaceAdvisoryRanges(kind: .debianTracker, location: "a", validators: .init()) { try $0(Self.range("CVE-1")) }
        try store.replaceAdvisoryRanges(kind: .debianTracker, location: "b", validators: .init()) { insert in
            try insert(Self.range("CVE-2"))
            try insert(Self.range("CVE-3", fixed: nil))
        }
        try store.replaceAdvisoryRanges(kind: .debianTracker, location: "a", validators: .init()) { _ in }
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: "a") == 0)
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: "b") == 2)
        let count = try store.replaceEPSS(location: "e", validators: .init(), scores: [EPSSScore(cve: "CVE-2020-5902", score: 0.97567, percentile: 0.99995)])
        #expect(count == 1)
    }
}
