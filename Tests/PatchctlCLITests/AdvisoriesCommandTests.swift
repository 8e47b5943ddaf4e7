import Foundation
import PatchCore
import Testing

/// `patchctl advisories sync` from a local path (an air-gapped mirror) and `advisories status`.
@Suite struct AdvisoriesCommandTests {
    /// Vuls' tracker sample (PatchCoreTests' fixture; its SOURCE.md says where it came from): 4 rows.
    static func trackerFixture() throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PatchCoreTests/Fixtures/advisories/debian-tracker/vuls-advisory.json"))
    }

    static func list(_ text: String) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "not a JSON list: \(text)")
    }

    @Test func syncFromPathThenStatus() async throws {
        let folder = try InProcessCLI.temporaryDirectory()
        let feed = folder.appendingPathComponent("tracker.json").path
        let db = folder.appendingPathComponent("history.db").path
        try Self.trackerFixture().write(to: URL(fileURLWithPath: feed))

        let sync = await InProcessCLI.run(["advisories", "sync", "--from", "debian-tracker=\(feed)", "--db", db, "--output", "json"])
        #expect(sync.status == 0, "\(sync.stderr)")
        // Not a terminal: no progress line, no warning (cron mails only what matters).
        #expect(sync.stderr.isEmpty)
        let results = try Self.list(sync.stdout)
        #expect(results.count == 1)
        #expect(results.first?["kind"] as? String == "debian-tracker" && results.first?["location"] as? String == feed)
        #expect(results.first?["outcome"] as? String == "updated" && results.first?["records"] as? Int == 4)

        let status = await InProcessCLI.run(["advisories", "status", "--db", db, "--output", "json"])
        #expect(status.status == 0 && status.stderr.isEmpty, "\(status.stderr)")
        let feeds = try Self.list(status.stdout)
        #expect(feeds.count == 1)
        let row = try #require(feeds.first)
        #expect(row["record_count"] as? Int == 4 && row["stale"] as? Bool == false && row["last_error"] == nil)
        #expect((row["age_seconds"] as? Int).map { (0..<600).contains($0) } == true)
        #expect(row["synced_at"] is String)

        let table = await InProcessCLI.run(["advisories", "status", "--db", db])
        #expect(table.stdout.contains("debian-tracker") && table.stdout.contains(feed) && table.stdout.contains(" ok"))
    }

    /// A feed that fails: exit 2, the error on stderr names the feed, and status shows the error
    /// beside the record count of the last good sync.
    @Test func failedSyncKeepsDataAndExits2() async throws {
        let folder = try InProcessCLI.temporaryDirectory()
        let feed = folder.appendingPathComponent("tracker.json").path
        let db = folder.appendingPathComponent("history.db").path
        let bytes = try Self.trackerFixture()
        try bytes.write(to: URL(fileURLWithPath: feed))
        #expect(await InProcessCLI.run(["advisories", "sync", "--from", "debian-tracker=\(feed)", "--db", db]).status == 0)

        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: feed))
        let failed = await InProcessCLI.run(["advisories", "sync", "--from", "debian-tracker=\(feed)", "--db", db])
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("patchctl: advisory feed debian-tracker (\(feed)): unexpected end of input (truncated?)"), "\(failed.stderr)")
        #expect(failed.stdout.contains("failed"))

        let status = await InProcessCLI.run(["advisories", "status", "--db", db, "--output", "json"])
        let row = try #require(try Self.list(status.stdout).first)
        #expect(row["record_count"] as? Int == 4)
        #expect((row["last_error"] as? String)?.contains("truncated") == true)
    }

    /// Data last confirmed 10 days ago: stale with the default 7 days (marker, JSON and a warning
    /// on stderr), not with --max-age 30.
    @Test func staleAfterMaxAge() async throws {
        let folder = try InProcessCLI.temporaryDirectory()
        let db = folder.appendingPathComponent("history.db").path
        let store = try HistoryStore(path: db)
        try store.replaceKEV(location: "/mirror/kev.json", validators: .init(),
                             entries: [KEVEntry(cve: "CVE-2022-21971", vendor: "Microsoft", product: "Windows", name: "n", dateAdded: "2022-08-18")],
                             at: Date().addingTimeInterval(-10 * 86_400))

        let stale = await InProcessCLI.run(["advisories", "status", "--db", db, "--output", "json"])
        #expect(stale.status == 0)
        let row = try #require(try Self.list(stale.stdout).first)
        #expect(row["stale"] as? Bool == true && (row["age_seconds"] as? Int).map { $0 >= 10 * 86_400 } == true)
        #expect(stale.stderr.contains("warning: advisory feed kev (/mirror/kev.json) is stale"))
        let table = await InProcessCLI.run(["advisories", "status", "--db", db])
        #expect(table.stdout.contains("STALE") && table.stdout.contains("10d"))

        let fresh = await InProcessCLI.run(["advisories", "status", "--db", db, "--output", "json", "--max-age", "30"])
        #expect(try Self.list(fresh.stdout).first?["stale"] as? Bool == false && fresh.stderr.isEmpty)
    }

    @Test func badFromIsAUsageError() async throws {
        let unknown = await InProcessCLI.run(["advisories", "sync", "--from", "nvd=/tmp/x.json"])
        #expect(unknown.status == 64 && unknown.stderr.contains("unknown feed kind 'nvd'"))
        let bare = await InProcessCLI.run(["advisories", "sync", "--from", "/tmp/x.json"])
        #expect(bare.status == 64 && bare.stderr.contains("is not KIND=URL|PATH"))
        let scheme = await InProcessCLI.run(["advisories", "sync", "--from", "kev=ftp://example.org/kev.json"])
        #expect(scheme.status == 64 && scheme.stderr.contains("only http and https URLs"))
    }
}
