import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// A feed's rows, replaced whole or not at all, on both stores: `advisories sync` fills an SQLite
/// history or a PostgreSQL one alike.
@Suite struct AdvisoryStoreTests {
    static let location = "/mirror/tracker.json"

    static func range(_ id: String, fixed: String? = "1.0-1") -> AdvisoryRange {
        AdvisoryRange(vulnerability: id, ecosystem: "Debian:12", package: "openssl", fixed: fixed, vendorSeverity: "high")
    }

    /// A fill that fails half-way rolls the whole replacement back: the old rows, record count
    /// and validators stay, and the failure comes out as itself (not as a database error).
    @Test(arguments: StoreKind.all) func failedReplacementKeepsPreviousData(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
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
    @Test(arguments: StoreKind.all) func failureAndCheckBookkeeping(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
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
    @Test(arguments: StoreKind.all) func feedsAreIndependent(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
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

    /// What a feed stores is read back exactly, on both stores: every column, NULLs and numbers as
    /// given, across the many-rows-per-statement boundary (1,001 rows: 200 to a statement, and a
    /// last partial one). A CVE a KEV catalogue lists twice keeps its last entry; a CVE a second
    /// KEV feed lists moves to it; EPSS scores keep every digit.
    @Test(arguments: StoreKind.all) func rowsAreStoredExactlyInBatches(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        var ranges: [AdvisoryRange] = []
        for n in 0..<1_001 {
            ranges.append(AdvisoryRange(vulnerability: String(format: "CVE-2024-%05d", n), ecosystem: n % 3 == 0 ? "Ubuntu:24.04" : "Debian:12",
                                        package: "pkg\(n % 17)", introduced: n % 5 == 0 ? "1:2.0-1" : "0", fixed: n % 4 == 0 ? nil : "2.\(n)-1+deb12u1",
                                        vendorSeverity: n % 6 == 0 ? nil : "medium", severity: n % 7 == 0 ? .critical : nil,
                                        cvss: n % 2 == 0 ? nil : Double(n % 100) / 10 + 0.05, advisory: n % 9 == 0 ? "DSA-\(n)-1" : nil))
        }
        let stored = try store.replaceAdvisoryRanges(kind: .debianTracker, location: "t", validators: .init()) { insert in
            for range in ranges { try insert(range) }
        }
        #expect(stored == 1_001)
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: "t") == 1_001)
        let rows = try store.rows("""
            SELECT vulnerability, ecosystem, package, introduced, fixed, vendor_severity, severity, cvss, advisory FROM advisory_ranges ORDER BY vulnerability
            """)
        let read = rows.map { row in
            AdvisoryRange(vulnerability: row["vulnerability"], ecosystem: row["ecosystem"], package: row["package"], introduced: row["introduced"],
                          fixed: row["fixed"], vendorSeverity: row["vendor_severity"], severity: Severity(name: row["severity"]), cvss: row["cvss"],
                          advisory: row["advisory"])
        }
        #expect(read == ranges)
        #expect(try store.advisoryFeed(kind: .debianTracker, location: "t")?.recordCount == 1_001)

        let first = [KEVEntry(cve: "CVE-2021-44228", vendor: "Apache", product: "Log4j", name: "old name", dateAdded: "2021-12-10"),
                     KEVEntry(cve: "CVE-2023-4863", vendor: "Google", product: "Chromium", name: "WebP", dateAdded: "2023-09-13", dueDate: "2023-10-04"),
                     KEVEntry(cve: "CVE-2021-44228", vendor: "Apache", product: "Log4j2", name: "Log4Shell", dateAdded: "2021-12-10", ransomware: "Known")]
        #expect(try store.replaceKEV(location: "k1", validators: .init(), entries: first) == 2)
        let log4shell = try store.rows("SELECT product, name, ransomware, due_date FROM kev WHERE cve = 'CVE-2021-44228'")
        #expect(log4shell.count == 1 && log4shell.first?["name"] as String? == "Log4Shell" && log4shell.first?["ransomware"] as String? == "Known")
        #expect(log4shell.first?["due_date"] as String? == nil)
        #expect(try store.replaceKEV(location: "k2", validators: .init(), entries: [first[2]]) == 1)
        #expect(try store.advisoryRowCount(kind: .kev, location: "k1") == 1 && store.advisoryRowCount(kind: .kev, location: "k2") == 1)

        let scores = [EPSSScore(cve: "CVE-2020-5902", score: 0.97567, percentile: 0.99995), EPSSScore(cve: "CVE-2024-0001", score: 1e-05, percentile: 0.0123456789)]
        #expect(try store.replaceEPSS(location: "e", validators: .init(), scores: scores) == 2)
        let epss = try store.rows("SELECT cve, score, percentile FROM epss ORDER BY cve").map { EPSSScore(cve: $0["cve"], score: $0["score"], percentile: $0["percentile"]) }
        #expect(epss == scores)
        #expect(try store.scannedOSIds().isEmpty)
    }

    /// Two controllers syncing one feed into one PostgreSQL history at the same moment take turns:
    /// the second waits for the first's transaction, then replaces its rows. The feed holds the
    /// second's rows alone, not both syncs' (each deleting only the rows committed before it began).
    @Test(.enabled(if: PostgresServer.enabled)) func concurrentSyncsOfOneFeedTakeTurns() async throws {
        let made = try await TestStore.make(.postgres)
        let (first, second) = (made.store, try await made.reopen())
        let server = try #require(made.server)
        try first.replaceAdvisoryRanges(kind: .debianTracker, location: "t", validators: .init()) { try $0(Self.range("CVE-2020-0001")) }
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        async let slow = Self.onThread {
            try first.replaceAdvisoryRanges(kind: .debianTracker, location: "t", validators: .init(etag: "\"slow\"")) { insert in
                for n in 1...5 { try insert(Self.range("CVE-2024-000\(n)")) }
                inside.signal()
                release.wait()
            }
        }
        try await Self.onThread { inside.wait() }
        async let fast = Self.onThread {
            try second.replaceAdvisoryRanges(kind: .debianTracker, location: "t", validators: .init(etag: "\"fast\"")) { insert in
                for n in 1...3 { try insert(Self.range("CVE-2025-000\(n)")) }
            }
        }
        // Until the second sync waits for a lock the first holds (or, were it not to wait, is done).
        while try await server.admin("SELECT COUNT(*) FROM pg_locks WHERE NOT granted", database: "history").trimmingCharacters(in: .whitespacesAndNewlines) == "0" {
            if try await server.admin("SELECT COUNT(*) FROM advisory_feeds WHERE etag = '\"fast\"'", database: "history").hasPrefix("1") { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        release.signal()
        #expect(try await slow == 5)
        #expect(try await fast == 3)
        #expect(try first.advisoryRowCount(kind: .debianTracker, location: "t") == 3)
        let feed = try #require(try first.advisoryFeed(kind: .debianTracker, location: "t"))
        #expect(feed.recordCount == 3 && feed.etag == "\"fast\"")
        let ids = try first.rows("SELECT vulnerability FROM advisory_ranges ORDER BY vulnerability").map { $0["vulnerability"] as String }
        #expect(ids == ["CVE-2025-0001", "CVE-2025-0002", "CVE-2025-0003"])
    }

    /// Runs a blocking store call on a thread of its own: it must not hold one of the few threads
    /// that async tests share while it waits for a lock or a semaphore.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
