import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// The two implementations of the store, for suites that run the same test on each: an SQLite
/// file in a temporary folder, and (where PostgreSQL's server binaries are installed) a database
/// on a server of the test's own.
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// SQLite always; PostgreSQL where a server can be started.
    static var all: [StoreKind] { PostgresServer.enabled ? [.sqlite, .postgres] : [.sqlite] }

    var testDescription: String { rawValue }

    /// The names a catalog query returns (column `name`): `sqlite` on SQLite, `postgres` on PostgreSQL.
    func names(_ store: HistoryStore, sqlite: String, postgres: String) throws -> Set<String> {
        Set(try store.rows(self == .sqlite ? sqlite : postgres).map { $0["name"] as String })
    }
}

/// An empty history of one kind; the server (if any) lives as long as this value.
struct TestStore: Sendable {
    let store: HistoryStore
    let server: PostgresServer?
    /// The path or URL, and the environment it was opened with: `reopen()` opens it again, migrating it.
    var location = ""
    var environment: [String: String] = [:]

    func reopen() async throws -> HistoryStore {
        try await HistoryStore.open(recording: location, environment: environment)
    }

    /// Runs `statements` as the store's administrator would (on PostgreSQL as the server's superuser),
    /// then forgets `migrations`, so that `reopen()` applies them again: how a test makes an older schema's shape.
    func rewind(_ statements: [String], forgetting migrations: String...) async throws {
        let forget = { (table: String) in
            "DELETE FROM \(table) WHERE identifier IN (" + migrations.map { "'\($0)'" }.joined(separator: ", ") + ")"
        }
        if let server {
            for statement in statements + [forget("patchctl_migrations")] { _ = try await server.admin(statement, database: "history") }
        } else {
            let all = statements + [forget("grdb_migrations")]
            try await store.pool.write { db in
                for statement in all { try db.execute(sql: statement) }
            }
        }
    }

    static func make(_ kind: StoreKind, controller: RunController = .thisMachine) async throws -> TestStore {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        switch kind {
        case .sqlite:
            let path = folder.appendingPathComponent("history.db").path
            return TestStore(store: try HistoryStore(path: path, controller: controller), server: nil, location: path)
        case .postgres:
            let server = try await PostgresServer()
            try await server.createDatabase("history")
            let environment = ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent", "XDG_STATE_HOME": folder.path,
                               "STATE_DIRECTORY": folder.path]
            let store = try await HistoryStore.open(recording: server.url(database: "history"), controller: controller, environment: environment)
            return TestStore(store: store, server: server, location: server.url(database: "history"), environment: environment)
        }
    }
}
