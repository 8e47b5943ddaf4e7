import Foundation
import Testing
@testable import PatchCore

/// `advisories sync` against a real HTTP server on loopback: conditional GETs, and every way a
/// feed can fail, each leaving the data of the last good sync whole.
@Suite struct AdvisorySyncHTTPTests {
    /// Small caps so a misbehaving server hits them fast: 4 MiB on the wire, 2 MiB inflated.
    static let limits = FeedLimits(maxBytes: 4 << 20, maxDecompressedBytes: 2 << 20, maxRecords: 1000, maxDepth: 64)
    static let sync = AdvisorySync(limits: limits, connectTimeout: .seconds(10), readTimeout: .seconds(30))

    static func setUp() async throws -> (FeedServer, HistoryStore) {
        let server = try await FeedServer.start(serving: FeedFixture.data("debian-tracker/osv-debian_security_tracker_mock.json"))
        let store = try HistoryStore(path: server.folder.appendingPathComponent("history.db").path)
        return (server, store)
    }

    /// The second sync sends the stored ETag and Last-Modified, gets a 304 and keeps the data;
    /// only checked_at moves. A redirect is followed. Into either store (a PostgreSQL history's
    /// download lands in the controller's own state folder).
    @Test(arguments: StoreKind.all) func conditionalGetRoundTrip(kind: StoreKind) async throws {
        let server = try await FeedServer.start(serving: FeedFixture.data("debian-tracker/osv-debian_security_tracker_mock.json"))
        let made = try await TestStore.make(kind)
        let store = made.store
        let source = AdvisoryFeedSource(kind: .debianTracker, location: server.url)
        let first = await Self.sync.run([source], store: store)
        #expect(first == [AdvisorySync.Result(kind: .debianTracker, location: server.url, outcome: .updated, records: 10)])
        let synced = try #require(try store.advisoryFeed(kind: .debianTracker, location: server.url))
        #expect(synced.etag == FeedServer.etag && synced.lastModified == FeedServer.lastModified && synced.recordCount == 10)

        let second = await Self.sync.run([source], store: store)
        #expect(second == [AdvisorySync.Result(kind: .debianTracker, location: server.url, outcome: .unchanged, records: 10)])
        let requests = try server.requests()
        #expect(requests.count == 2)
        #expect(requests.first?["if_none_match"] == nil)
        #expect(requests.last?["if_none_match"] == FeedServer.etag && requests.last?["if_modified_since"] == FeedServer.lastModified)
        let checked = try #require(try store.advisoryFeed(kind: .debianTracker, location: server.url))
        #expect(checked.syncedAt == synced.syncedAt && checked.checkedAt! >= synced.checkedAt! && checked.recordCount == 10)
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: server.url) == 10)

        let moved = await Self.sync.run([AdvisoryFeedSource(kind: .debianTracker, location: server.redirectingURL)], store: store)
        #expect(moved.first?.outcome == .updated && moved.first?.records == 10)
    }

    /// Each failure: a clear error naming the feed, recorded on its row, and the rows of the
    /// previous sync still there.
    @Test(arguments: [
        (FeedServer.Mode.truncated, "truncated"),
        (.malformed, "expected a string, found ','"),
        (.big, "over the limit of 4194304 bytes"),
        (.bomb, "gzip bomb"),
        (.error, "HTTP 500"),
    ])
    func failureKeepsPreviousData(mode: FeedServer.Mode, message: String) async throws {
        let (server, store) = try await Self.setUp()
        let source = AdvisoryFeedSource(kind: .debianTracker, location: server.url)
        #expect(await Self.sync.run([source], store: store).first?.records == 10)
        try server.set(mode)
        // Misbehaving modes answer in full whatever validators the request carries.
        let result = try #require(await Self.sync.run([source], store: store).first)
        #expect(result.outcome == .failed)
        #expect(result.error?.contains(message) == true, "\(result.error ?? "no error")")
        let failure = try #require(result.failure)
        #expect(failure.description.hasPrefix("advisory feed debian-tracker (\(server.url)): "))
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: server.url) == 10)
        let feed = try #require(try store.advisoryFeed(kind: .debianTracker, location: server.url))
        #expect(feed.recordCount == 10 && feed.lastError == result.error && feed.etag == FeedServer.etag)
        // No temporary download is left beside the database.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: server.folder.path).filter { $0.hasSuffix(".download") }
        #expect(leftovers.isEmpty)
    }

    /// A server that is down: the connection is refused, the feed named, its data kept; another
    /// feed in the same sync still syncs.
    @Test func serverDownKeepsDataAndOthersSync() async throws {
        let (server, store) = try await Self.setUp()
        let source = AdvisoryFeedSource(kind: .debianTracker, location: server.url)
        #expect(await Self.sync.run([source], store: store).first?.records == 10)
        server.stop()
        let kev = AdvisoryFeedSource(kind: .kev, location: try FeedFixture.path("kev/known_exploited_vulnerabilities.json"))
        let results = await Self.sync.run([source, kev], store: store)
        #expect(results.map(\.outcome) == [.failed, .updated])
        #expect(results.first?.error?.contains("cannot connect") == true, "\(results.first?.error ?? "")")
        #expect(try store.advisoryRowCount(kind: .debianTracker, location: server.url) == 10)
        #expect(try store.advisoryRowCount(kind: .kev, location: kev.location) == 1)
    }
}
