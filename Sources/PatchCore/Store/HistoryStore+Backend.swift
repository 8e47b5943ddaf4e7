import Crypto
import Foundation
import GRDB
import NIOCore

extension HistoryStore {
    /// Opens a history for recording: an SQLite file (`init(path:)`), or a PostgreSQL history by
    /// URL: connected, brought to this version's schema under the advisory lock `migrations`, and
    /// this controller's fallback journal for that database imported (its runs then read
    /// `incomplete`), as an SQLite open does.
    public static func open(recording location: String, controller: RunController = .thisMachine,
                            environment: [String: String]) async throws -> HistoryStore {
        guard PostgresLocation.isURL(location) else { return try HistoryStore(path: location, controller: controller) }
        let postgres = try await PostgresHistory.connect(try PostgresLocation(url: location), environment: environment)
        do {
            try await postgres.migrate()
            // Recording commands create the folder; readers only look.
            let journal = HistoryJournal.path(forPostgres: postgres.location, environment: environment)
            let folder = URL(fileURLWithPath: journal).deletingLastPathComponent().path
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw PatchError.store(path: folder, message: "cannot create the journal folder: \(error.localizedDescription)")
            }
            let recovered = try HistoryJournal.importPending(journal, source: postgres.location.description) { body in
                try postgres.transaction(body)
            }
            return HistoryStore(postgres: postgres, controller: controller, journal: journal, recovered: recovered)
        } catch {
            await postgres.close()
            throw error
        }
    }

    /// Opens a history for reading: an SQLite file read-only (`init(readOnly:)`), or a PostgreSQL
    /// history by URL, refused unless this version's migrations are all there.
    public static func open(reading location: String, environment: [String: String]) async throws -> HistoryStore {
        guard PostgresLocation.isURL(location) else { return try HistoryStore(readOnly: location) }
        let postgres = try await PostgresHistory.connect(try PostgresLocation(url: location), environment: environment)
        do {
            _ = try await postgres.view()
            // Records this controller could not write yet are said, as for an SQLite history.
            let journal = HistoryJournal.path(forPostgres: postgres.location, environment: environment)
            let pending = ((try? fileSize(journal)) ?? 0) > 0 ? journal : nil
            return HistoryStore(postgres: postgres, controller: .thisMachine, journal: journal, recovered: [], readOnly: true, pendingJournal: pending)
        } catch {
            await postgres.close()
            throw error
        }
    }

    /// The SQLite database, for what only SQLite histories have so far; on PostgreSQL, an error
    /// naming what works there.
    var pool: any DatabaseWriter {
        get throws {
            switch backend {
            case let .sqlite(pool): return pool
            case .postgres: throw PatchError.store(path: path, message: Self.postgresScope)
            }
        }
    }

    /// Said where a PostgreSQL URL reaches code that works on an SQLite file only (every command
    /// opens a URL through `open(recording:)` or `open(reading:)`).
    static let postgresScope = "a PostgreSQL history is opened by the commands that record, decide and read (`scan`, `exec`, `deploy`, `install`, "
        + "`discover`, `package`, `approve`, `defer`, `exception`, `hosts`, `history`, `diff`, `metrics`, `report`, `advisories`); "
        + "this needs an SQLite history file (docs/history.md)"

    /// A folder on this controller for files worked on beside the history (a feed being
    /// downloaded): the SQLite file's folder, or for a PostgreSQL history its journal's folder.
    public var localFolder: String {
        URL(fileURLWithPath: isPostgres ? journalPath : path).deletingLastPathComponent().path
    }

    /// Whether this history is a PostgreSQL database.
    public var isPostgres: Bool {
        if case .postgres = backend { return true }
        return false
    }

    /// Runs portable queries (`HistorySQL`) in one read transaction (SQLite) or on the connection.
    func reading<T>(_ body: (any HistorySQL) throws -> T) throws -> T {
        switch backend {
        case .sqlite: return try read { db in try body(SQLiteConnection(db: db, source: path)) }
        case let .postgres(postgres):
            do { return try body(postgres) } catch { throw postgres.storeError(error) }
        }
    }

    /// Runs portable statements (`HistoryWriter`) in one write transaction on either store: all of
    /// them are recorded, or none. A failure is latched for `onWriteFailure`. `boundedStatements`:
    /// the body's statements each change a bounded number of rows (`record`'s batches), so SQLite
    /// keeps their statement journals in memory (`write(boundedStatements:)`).
    func recording<T>(boundedStatements: Bool = false, _ body: (any HistoryWriter) throws -> T) throws -> T {
        switch backend {
        case .sqlite: return try write(boundedStatements: boundedStatements) { db in try body(SQLiteConnection(db: db, source: path)) }
        case let .postgres(postgres):
            guard !isReadOnly else { throw PatchError.store(path: path, message: "opened read-only") }
            do {
                return try postgres.transaction(body)
            } catch let failure as BodyFailure {
                throw failure.underlying
            } catch {
                let failure = postgres.storeError(error)
                writeFailures.record(failure)
                throw failure
            }
        }
    }

    /// What a `recording` or `write` body throws for a failure of its own work, not of the
    /// store's (a feed that turns out malformed half-way): the transaction rolls back, and the
    /// error comes out as itself, without being latched as a failure to write history.
    struct BodyFailure: Error {
        var underlying: any Error
    }

    /// Rows of a portable query, from either store.
    public func rows(_ sql: String, _ arguments: [DatabaseValue] = []) throws -> [Row] {
        try reading { try $0.rows(sql, arguments) }
    }
}

extension HistoryJournal {
    /// A PostgreSQL history's fallback journal lives on the controller, in its state folder (the
    /// folder its own SQLite history would have), named for the database it belongs to.
    static func path(forPostgres location: PostgresLocation, environment: [String: String]) -> String {
        let folder = HistoryStore.stateFolder(environment: environment) + "/journals"
        let key = "\(location.user)@\(location.host):\(location.port)/\(location.database)"
        return folder + "/postgres-" + Hex.encode(SHA256.hash(data: Data(key.utf8)).prefix(8)) + ".journal"
    }
}
