import Foundation
import GRDB

/// Where a history's portable queries run: SQLite through GRDB, or a PostgreSQL history (its
/// values converted to what SQLite holds, so that one decoding serves both). Queries written for
/// both use `?` placeholders and SQL that both dialects read alike: `CASE` rather than summed
/// comparisons, `"user"` quoted, no untyped `? IS NULL`, `ON CONFLICT` rather than `INSERT OR …`,
/// `RETURNING id` rather than SQLite's last row id.
public protocol HistorySQL {
    /// The database, for error messages.
    var source: String { get }
    func rows(_ sql: String, _ arguments: [DatabaseValue]) throws -> [Row]
    /// Calls `body` with each row as it is read. SQLite's rows are not copied or kept: a report
    /// reads hundreds of thousands, and its columns decode straight from the statement. The row is
    /// valid only during the call, and `body` must not run the same query again (its statement is
    /// the one being stepped).
    func each(_ sql: String, _ arguments: [DatabaseValue], _ body: (Row) throws -> Void) throws
    /// A join that keeps the tables in the order written: SQLite's `CROSS JOIN` (its way of fixing
    /// the plan), a plain `JOIN` on PostgreSQL (whose CROSS JOIN takes no ON clause).
    var orderedJoin: String { get }
}

/// A `HistorySQL` inside a write transaction: what recording a run needs.
public protocol HistoryWriter: HistorySQL {
    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws
}

extension HistorySQL {
    /// PostgreSQL's rows arrive whole: each in turn.
    public func each(_ sql: String, _ arguments: [DatabaseValue], _ body: (Row) throws -> Void) throws {
        for row in try rows(sql, arguments) { try body(row) }
    }

    /// With values as GRDB takes them (`[host, nil, date]`).
    func rows(_ sql: String, arguments: [(any DatabaseValueConvertible)?]) throws -> [Row] {
        try rows(sql, arguments.map { $0?.databaseValue ?? .null })
    }
}

extension HistoryWriter {
    func execute(_ sql: String, arguments: [(any DatabaseValueConvertible)?]) throws {
        try execute(sql, arguments.map { $0?.databaseValue ?? .null })
    }

    /// Runs an `INSERT … RETURNING id` and gives the new row's id.
    func insertReturningID(_ sql: String, _ arguments: [DatabaseValue]) throws -> Int64 {
        guard let id: Int64 = try rows(sql + " RETURNING id", arguments).first?["id"] else {
            throw PatchError.store(path: source, message: "an insert returned no id")
        }
        return id
    }

    func insertReturningID(_ sql: String, arguments: [(any DatabaseValueConvertible)?]) throws -> Int64 {
        try insertReturningID(sql, arguments.map { $0?.databaseValue ?? .null })
    }
}

/// GRDB's connection inside a read or a write. Statements are cached by their text, so the
/// per-host statements of a batch are prepared once.
struct SQLiteConnection: HistoryWriter {
    let db: Database
    let source: String
    var orderedJoin: String { "CROSS JOIN" }

    func rows(_ sql: String, _ arguments: [DatabaseValue]) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
    }

    func each(_ sql: String, _ arguments: [DatabaseValue], _ body: (Row) throws -> Void) throws {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments))
        while let row = try cursor.next() { try body(row) }
    }

    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments))
    }
}
