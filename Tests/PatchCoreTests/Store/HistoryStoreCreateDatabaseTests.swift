import Foundation
import GRDB
import Testing
@testable import PatchCore

/// `HistoryStore.createDatabase(atPath:upTo:)`: the schema an older patchctl left, for the history
/// generator's legacy mode (bench/HistoryGen) and migration tests.
@Suite("History store: databases of an older schema")
struct HistoryStoreCreateDatabaseTests {
    let v9 = "v9: advisory feeds and finding CVEs"

    func path() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-create-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("history.db").path
    }

    /// v7: the last schema before finding identity included the architecture; v9: the legacy generator's.
    @Test(arguments: ["v7: finding severity", "v9: advisory feeds and finding CVEs"])
    func appliesExactlyTheMigrationsUpToTheNamedOne(last: String) throws {
        let path = try path()
        try HistoryStore.createDatabase(atPath: path, upTo: last)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let queue = try DatabaseQueue(path: path)
        let (applied, mode, cveTable) = try queue.read { db in
            (try HistoryStore.migrator.appliedMigrations(db), try String.fetchOne(db, sql: "PRAGMA journal_mode"), try db.tableExists("finding_cves"))
        }
        let expected = try #require(HistoryStore.migrator.migrations.firstIndex(of: last))
        #expect(applied == Array(HistoryStore.migrator.migrations[...expected]))
        #expect(cveTable == (last == v9))
        #expect(mode == "wal")
        try queue.close()
        // A recording open brings it up to date like any older history.
        let store = try HistoryStore(path: path)
        let upgraded = try store.pool.read { try HistoryStore.migrator.appliedIdentifiers($0) }
        #expect(upgraded == Set(HistoryStore.migrator.migrations))
    }

    @Test func refusesAnExistingFileAndAnUnknownMigration() throws {
        let path = try path()
        #expect(FileManager.default.createFile(atPath: path, contents: Data("keep".utf8)))
        #expect(throws: PatchError.self) { try HistoryStore.createDatabase(atPath: path, upTo: v9) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "keep")
        let other = path + "-other"
        #expect(throws: PatchError.self) { try HistoryStore.createDatabase(atPath: other, upTo: "v99: nothing") }
        #expect(!FileManager.default.fileExists(atPath: other))
    }
}
