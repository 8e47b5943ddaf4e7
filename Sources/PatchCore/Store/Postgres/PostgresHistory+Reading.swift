import Foundation
import GRDB
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The portable queries (`HistorySQL`, `HistoryWriter`) on a PostgreSQL history. They are
/// synchronous, as on SQLite: each waits for its result on the connection's event loop future
/// (never on Swift's shared task pool), and the connection's closing ends the wait with an error,
/// as `guarded` does.
extension PostgresHistory: HistorySQL {
    public var source: String { location.description }
    public var orderedJoin: String { "JOIN" }

    /// The view `history`, `history show` and `history events` read, after checking that this is
    /// a patchctl history this version can read.
    public func view() async throws -> HistoryView {
        let present = try await rows("SELECT to_regclass('patchctl_migrations') IS NOT NULL").first?.decode(Bool.self) ?? false
        guard present else {
            throw PatchError.store(path: location.description, message: "not a patchctl history (no patchctl_migrations table): "
                                   + "`patchctl history export --to` creates one")
        }
        if try await !appliedMigrations(use: "read").missing.isEmpty {
            throw PatchError.store(path: location.description, message: "written by an older patchctl: `patchctl history export` or a newer "
                                   + "command brings its schema up to date")
        }
        return HistoryView(self)
    }

    public func rows(_ sql: String, _ arguments: [DatabaseValue]) throws -> [Row] {
        try exclusive.withLock { try run(sql, arguments) }
    }

    /// Runs `body` in one transaction on this connection: committed when it returns, rolled back
    /// when it throws (a connection that died took its transaction with it). Other threads' queries
    /// wait for it.
    func transaction<T>(_ body: (any HistoryWriter) throws -> T) throws -> T {
        try exclusive.withLock {
            _ = try run("BEGIN", [])
            do {
                let result = try body(PostgresTransaction(history: self))
                _ = try run("COMMIT", [])
                return result
            } catch {
                _ = try? run("ROLLBACK", [])
                throw error
            }
        }
    }

    /// One statement, with the caller holding `exclusive`. Values are sent as text of no stated
    /// type, so that the server reads each as what its place in the statement is (an integer 1 into
    /// a BOOLEAN column is true, a date's text into TEXT stays text), as SQLite's typeless columns
    /// take them; blobs go as bytea.
    fileprivate func run(_ sql: String, _ arguments: [DatabaseValue]) throws -> [Row] {
        var binds = PostgresBindings(capacity: arguments.count)
        for value in arguments {
            switch value.storage {
            case .null: binds.appendNull()
            case let .int64(number): binds.append(UntypedParameter(text: String(number)))
            case let .double(number): binds.append(UntypedParameter(text: "\(number)"))
            // PostgreSQL's text cannot hold NUL (SQLite's can): a command's output with one would be
            // refused, journaled and refused again at every import. It is kept as U+2400 (␀) instead.
            case let .string(text): binds.append(UntypedParameter(text: text.utf8.contains(0) ? text.replacingOccurrences(of: "\u{0}", with: "\u{2400}") : text))
            case let .blob(data): binds.append(ByteBuffer(bytes: data))
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds)
        let connection = self.connection
        let closed = closedError
        guard !connection.isClosed else { throw closed }
        let promise = connection.eventLoop.makePromise(of: PostgresQueryResult.self)
        let done = NIOLockedValueBox(false)
        func finish(_ result: Result<PostgresQueryResult, any Error>) {
            guard done.withLockedValue({ old in defer { old = true }; return !old }) else { return }
            promise.completeWith(result)
        }
        connection.query(query, logger: logger).whenComplete(finish)
        connection.closeFuture.whenComplete { _ in finish(.failure(closed)) }
        // A server that stops answering without closing (a network partition) must not hold the run
        // for ever: past the deadline the request fails and the connection is closed, so the
        // requests after it fail at once and the recorder turns to its journal.
        let limit = requestTimeout
        let deadline = connection.eventLoop.scheduleTask(in: .seconds(limit)) {
            finish(.failure(PatchError.store(path: self.location.description, message: "the server gave no answer in \(limit) s")))
            let _: EventLoopFuture<Void> = connection.close()
        }
        defer { deadline.cancel() }
        let result: PostgresQueryResult
        do {
            result = try promise.futureResult.wait()
        } catch {
            throw storeError(error)
        }
        return try result.map { row in
            var values: [String: DatabaseValue] = [:]
            for cell in row where values[cell.columnName] == nil { values[cell.columnName] = try Self.databaseValue(cell) }
            return Row(values)
        }
    }

    /// `?` placeholders as PostgreSQL's `$1`, `$2`…; quoted text and names are left alone.
    static func numbered(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var quote: Character?
        var index = 0
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "?" {
                index += 1
                result += "$\(index)"
                continue
            }
            result.append(character)
        }
        return result
    }

    /// A cell as SQLite would hold it: integers and booleans as integers (COUNT and SUM included),
    /// reals as reals, text as text, bytea as a blob.
    static func databaseValue(_ cell: PostgresCell) throws -> DatabaseValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return try cell.decode(Int64.self).databaseValue
        case .float4, .float8: return try cell.decode(Double.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        case .bytea: return Data(try cell.decode(ByteBuffer.self).readableBytesView).databaseValue
        case .numeric:
            // SUM of a bigint column is numeric: whole numbers come back as integers, as SQLite's SUM gives them.
            let number = try cell.decode(Decimal.self)
            let whole = NSDecimalNumber(decimal: number).int64Value
            if Decimal(whole) == number { return whole.databaseValue }
            return NSDecimalNumber(decimal: number).doubleValue.databaseValue
        default: return try cell.decode(String.self).databaseValue
        }
    }
}

/// The statements of one `transaction`, run on its connection while it holds the lock.
struct PostgresTransaction: HistoryWriter {
    let history: PostgresHistory

    var source: String { history.source }
    var orderedJoin: String { history.orderedJoin }

    func rows(_ sql: String, _ arguments: [DatabaseValue]) throws -> [Row] {
        try history.run(sql, arguments)
    }

    func execute(_ sql: String, _ arguments: [DatabaseValue]) throws {
        _ = try history.run(sql, arguments)
    }
}

/// A parameter as text of type OID 0 ("unspecified"): the server infers its type from the statement.
struct UntypedParameter: PostgresNonThrowingEncodable {
    let text: String

    static var psqlType: PostgresDataType { .null }
    static var psqlFormat: PostgresFormat { .text }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeString(text)
    }
}
