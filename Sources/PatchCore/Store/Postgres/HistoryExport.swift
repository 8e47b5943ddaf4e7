import Crypto
import Foundation
import GRDB
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// `patchctl history export --to postgres://…`: copies a SQLite history, every table, into an empty
/// PostgreSQL history with the same schema, and proves the copy before it counts.
///
/// - One SQLite read transaction is the source (a snapshot: a scan recording meanwhile is not
///   half in it), streamed table by table through `COPY … FROM STDIN` in 1 MiB chunks, so memory
///   stays flat however large the history.
/// - One PostgreSQL transaction is the target: the server dying, the network going or a check
///   failing leaves nothing written. It commits only after every table has been read back from
///   PostgreSQL and matched the source row for row (count and an order-independent digest of
///   every value).
/// - The advisory lock `export` keeps two exports apart; the target must hold no runs yet.
public enum HistoryExport {
    public struct TableCopy: Codable, Sendable, Equatable {
        public var table: String
        public var rows: Int
        /// Hex of the digest both sides had.
        public var digest: String
    }

    public struct Summary: Codable, Sendable {
        public var source: String
        public var target: String
        public var tables: [TableCopy]
        public var runs: Int
        public var seconds: Double
        /// Added to a history that held another's (`--merge`).
        public var merged = false
        /// What the merge kept of the target's or left out of this history's.
        public var notes: [String] = []
    }

    /// Chunks of one table's COPY text, produced on a thread of their own while PostgreSQL takes them.
    enum Chunk: Sendable {
        case rows(table: String, ByteBuffer)
        case end(table: String, count: Int, digest: RowDigest)
    }

    /// `stage` hears each table as it starts, with its place among them (progress on a terminal;
    /// tests fail the server at a known point). With `merge`, a target that already holds another
    /// history's runs takes this one's too (`MergePlan`).
    public static func run(source path: String, to history: PostgresHistory, user: String, merge: Bool = false,
                           stage: (@Sendable (_ table: String, _ index: Int, _ count: Int) async throws -> Void)? = nil) async throws -> Summary {
        let started = Date()
        let store = try HistoryStore(readOnly: path)
        if let journal = store.pendingJournal {
            throw PatchError.store(path: path, message: "\(journal) holds records the database could not take yet: run a recording command "
                                   + "(or `patchctl history migrate`) once to import them, then export")
        }
        let schema = PostgresSchema.current
        try await history.migrate()
        return try await history.withLock("export", wait: nil) {
            var summary = try await history.inTransaction {
                // Controllers recording into the target wait until the copy commits: what a table held before, plus
                // what was copied, is what it must read back.
                try await history.execute("LOCK TABLE " + schema.tables.map { PostgresSchema.quoted($0.name) }.joined(separator: ", ") + " IN EXCLUSIVE MODE")
                var plan = try store.read { db in try Self.plan(schema, from: db, into: history, merge: merge) }
                for table in schema.tables where !(try history.rows("SELECT 1 AS held FROM \(PostgresSchema.quoted(table.name)) LIMIT 1", []).isEmpty) {
                    plan.before[table.name] = try await digest(table, in: history)
                }
                let planned = plan
                let feed = ChunkFeed()
                let producer = Thread {
                    do {
                        try store.read { db in try produce(schema, from: db, library: PackageRepository(store: store), plan: planned, into: feed) }
                        feed.finish(nil)
                    } catch {
                        feed.finish(error)
                    }
                }
                producer.stackSize = 1 << 20
                producer.start()
                defer { feed.cancel() }

                var expectations: [(table: PostgresSchema.Table, count: Int, digest: RowDigest)] = []
                // The copied runs keep their stored summaries: the triggers that mark them stale when a host is
                // added are for recording, not for copying what was already summarized (transactional: back on at commit).
                try await history.execute("ALTER TABLE run_hosts DISABLE TRIGGER USER")
                for (index, table) in schema.tables.enumerated() {
                    try await stage?(table.name, index + 1, schema.tables.count)
                    let end = NIOLockedValueBox<(count: Int, digest: RowDigest)?>(nil)
                    try await history.copy(into: table.name, columns: table.columns.map(\.name)) { writer in
                        while let chunk = try await feed.next() {
                            switch chunk {
                            case let .rows(name, buffer):
                                precondition(name == table.name)
                                try await writer.write(buffer)
                            case let .end(name, count, digest):
                                precondition(name == table.name)
                                end.withLockedValue { $0 = (count, digest) }
                                return
                            }
                        }
                    }
                    guard let expected = end.withLockedValue({ $0 }) else {
                        throw PatchError.store(path: path, message: "the source ended before \(table.name)")
                    }
                    expectations.append((table, expected.count, expected.digest))
                    if let identity = table.identity {
                        let name = PostgresSchema.quoted(table.name), column = PostgresSchema.quoted(identity)
                        try await history.execute("SELECT setval(pg_get_serial_sequence('\(name)', '\(identity)'), COALESCE(MAX(\(column)), 0) + 1, false) FROM \(name)")
                    }
                }
                try await history.execute("ALTER TABLE run_hosts ENABLE TRIGGER USER")
                if let meta = planned.meta {
                    for (key, value) in meta.sorted(by: { $0.key < $1.key }) {
                        _ = try history.rows("INSERT INTO history_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                             [key.databaseValue, value.databaseValue])
                    }
                }
                // Checked once everything is in, as it will be committed: a later table's write (a trigger, a cascade)
                // to an earlier one would show here.
                var copies: [TableCopy] = []
                for (table, count, expected) in expectations {
                    let found = try await digest(table, in: history)
                    let before = planned.before[table.name] ?? (0, RowDigest())
                    if table.name == "history_meta", let meta = planned.meta {
                        var read: [String: String] = [:]
                        for row in try history.rows("SELECT key, value FROM history_meta", []) { read[row["key"]] = row["value"] }
                        guard read == meta else {
                            throw PatchError.store(path: history.location.description, message: "history_meta does not read back as merged: nothing was committed")
                        }
                    } else {
                        guard found.count == before.count + count, found.digest == before.digest + expected else {
                            throw PatchError.store(path: history.location.description, message: "\(table.name) does not read back as written "
                                                   + "(\(found.count) rows, \(before.count + count) expected): nothing was committed")
                        }
                    }
                    copies.append(TableCopy(table: table.name, rows: count, digest: expected.hex))
                }
                let runs = copies.first { $0.table == "runs" }?.rows ?? 0
                let at = String.fromDatabaseValue(Date().databaseValue) ?? ""
                let detail = "\(runs) runs \(planned.before["runs"] == nil ? "from" : "merged from") \(path)"
                _ = try await history.rows("""
                    INSERT INTO events (at, "user", action, detail) \
                    VALUES (\(at), \(user), \(EventAction.historyExport.rawValue), \(detail))
                    """)
                return Summary(source: path, target: history.location.description, tables: copies, runs: runs, seconds: Date().timeIntervalSince(started),
                               merged: planned.before["runs"] != nil, notes: planned.notes)
            }
            // Freshly copied tables have no statistics until autovacuum gets to them: the planner would
            // then scan where an index serves (a 1,000-host diff took 53 s instead of 3.4 s).
            try await history.execute("ANALYZE")
            summary.seconds = Date().timeIntervalSince(started)
            return summary
        }
    }

    /// Streams every table of the snapshot `db` as COPY text, digesting each row as it goes. The
    /// library's files, which an SQLite history keeps beside it, go into `package_files` as the
    /// parts a PostgreSQL history holds them in, each file checked against its digest as it is read.
    static func produce(_ schema: PostgresSchema, from db: Database, library: PackageRepository, plan: MergePlan = MergePlan(), into feed: ChunkFeed) throws {
        for table in schema.tables {
            guard !plan.skippedTables.contains(table.name) else {
                guard feed.put(.end(table: table.name, count: 0, digest: RowDigest())) else { return }
                continue
            }
            let offsets = columnOffsets(table, plan, in: schema)
            let skipped = plan.skippedKeys[table.name] ?? []
            let keyColumns = MergePlan.keyColumns[table.name] ?? []
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            var digest = RowDigest()
            var count = 0
            /// False once the consumer is gone.
            func emit(_ values: [CopyValue]) -> Bool {
                var hasher = RowDigest.Row()
                for (index, value) in values.enumerated() {
                    if index > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                    value.write(into: &buffer)
                    hasher.add(value)
                }
                buffer.writeInteger(UInt8(ascii: "\n"))
                digest.add(hasher)
                count += 1
                if buffer.readableBytes >= 1 << 20 {
                    guard feed.put(.rows(table: table.name, buffer)) else { return false }
                    buffer = ByteBuffer()
                    buffer.reserveCapacity(1 << 20)
                }
                return true
            }
            // Rows of hosts both histories scanned change as `handOver` worked out.
            let handedOver = plan.source.isEmpty || !SourceChanges.tables.contains(table.name) ? nil
                : Dictionary(uniqueKeysWithValues: table.columns.enumerated().map { ($1.name, $0) })
            let rows = try Row.fetchCursor(db, sql: table.selectAll)
            while let row = try rows.next() {
                if !skipped.isEmpty, skipped.contains(MergePlan.key(row, keyColumns)) { continue }
                var values = try table.columns.enumerated().map { index, column in try CopyValue(row[index], column: column, table: table.name) }
                if let handedOver, !(try plan.source.apply(to: &values, of: table, columns: handedOver)) { continue }
                for (index, offset) in offsets {
                    if case let .integer(number) = values[index] { values[index] = .integer(number + offset) }
                }
                guard emit(values) else { return }
            }
            if table.name == "package_files" {
                // One copy of a file several entries name, and none the target holds.
                var held = Set(try String.fetchAll(db, sql: "SELECT DISTINCT sha256 FROM package_files"))
                    .union(skipped)
                for record in try PackageRecord.fetchAll(db, sql: "SELECT * FROM packages WHERE sha256 IS NOT NULL ORDER BY id") {
                    guard let sha256 = record.sha256, held.insert(sha256).inserted else { continue }
                    guard try libraryFile(record, of: library, each: { part, data in emit([.text(sha256), .integer(part), .blob(Array(data))]) }) else { return }
                }
            }
            if buffer.readableBytes > 0 { guard feed.put(.rows(table: table.name, buffer)) else { return } }
            guard feed.put(.end(table: table.name, count: count, digest: digest)) else { return }
        }
    }

    /// Reads a library file beside an SQLite history in parts (`PackageRepository.partSize`), each
    /// handed to `each` (false: stop), and proves it is the file the library's digest names.
    static func libraryFile(_ record: PackageRecord, of library: PackageRepository, each: (Int64, Data) -> Bool) throws -> Bool {
        guard let sha256 = record.sha256 else { return true }
        let path = library.filePath(sha256: sha256)
        func refused(_ problem: String) -> PatchError {
            .store(path: path, message: "the library's file of \(record.reference) \(problem): add the package file again (`patchctl package add`) "
                   + "before exporting, so that the PostgreSQL history holds what installs push")
        }
        guard let input = FileHandle(forReadingAtPath: path) else { throw refused("is missing") }
        defer { try? input.close() }
        var hasher = SHA256()
        var part: Int64 = 0
        while true {
            let data = input.readData(ofLength: PackageRepository.partSize)
            if data.isEmpty { break }
            hasher.update(data: data)
            guard each(part, data) else { return false }
            part += 1
        }
        guard Hex.encode(hasher.finalize()) == sha256 else { throw refused("no longer has the digest it was added with") }
        return true
    }

    /// Reads a table back from PostgreSQL and digests it as `produce` digested the source.
    static func digest(_ table: PostgresSchema.Table, in history: PostgresHistory) async throws -> (count: Int, digest: RowDigest) {
        let logger = history.logger
        return try await history.guarded(context: "reading \(table.name) back") { connection in
            var digest = RowDigest()
            var count = 0
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: table.selectAll), logger: logger) {
                var hasher = RowDigest.Row()
                for (cell, column) in zip(row, table.columns) { hasher.add(try CopyValue(cell, column: column)) }
                digest.add(hasher)
                count += 1
            }
            return (count, digest)
        }
    }
}

/// One value as both sides hold it: what COPY writes, and what the digest reads.
enum CopyValue {
    case null, integer(Int64), real(Double), text(String), boolean(Bool), blob([UInt8])

    /// From SQLite: the column's declared type decides, and a value of another storage class is an
    /// error (SQLite would store one; PostgreSQL would refuse it, or worse, convert it).
    init(_ value: DatabaseValue, column: PostgresSchema.Column, table: String) throws {
        func mismatch() -> PatchError {
            .store(path: "history", message: "\(table).\(column.name) holds \(value) where \(column.type.rawValue) was expected")
        }
        switch (value.storage, column.type) {
        case (.null, _): self = .null
        case let (.int64(number), .integer): self = .integer(number)
        case let (.int64(number), .boolean) where number == 0 || number == 1: self = .boolean(number == 1)
        case let (.int64(number), .real): self = .real(Double(number))
        case let (.double(number), .real): self = .real(number)
        case let (.string(text), .text):
            guard !text.utf8.contains(0) else { throw mismatch() }
            self = .text(text)
        case let (.blob(data), .blob): self = .blob(Array(data))
        default: throw mismatch()
        }
    }

    /// From PostgreSQL.
    init(_ cell: PostgresCell, column: PostgresSchema.Column) throws {
        switch column.type {
        case .integer: self = try cell.decode(Int64?.self).map(CopyValue.integer) ?? .null
        case .real: self = try cell.decode(Double?.self).map(CopyValue.real) ?? .null
        case .text: self = try cell.decode(String?.self).map(CopyValue.text) ?? .null
        case .boolean: self = try cell.decode(Bool?.self).map(CopyValue.boolean) ?? .null
        case .blob: self = try cell.decode(ByteBuffer?.self).map { CopyValue.blob(Array($0.readableBytesView)) } ?? .null
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// COPY's text format: `\N` is NULL; backslash, tab, newline and carriage return are escaped.
    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .null: buffer.writeString("\\N")
        case let .integer(number): buffer.writeString(String(number))
        case let .real(number):
            buffer.writeString(number.isInfinite ? (number < 0 ? "-Infinity" : "Infinity") : "\(number)")
        case let .boolean(flag): buffer.writeString(flag ? "t" : "f")
        case let .blob(bytes):
            buffer.writeString("\\\\x")
            // Library files are megabytes: a table lookup per byte, not a formatted string.
            buffer.reserveCapacity(minimumWritableBytes: bytes.count * 2)
            for byte in bytes {
                buffer.writeInteger(Self.hexDigits[Int(byte >> 4)])
                buffer.writeInteger(Self.hexDigits[Int(byte & 0x0F)])
            }
        case let .text(text):
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeString("\\t")
                case UInt8(ascii: "\n"): buffer.writeString("\\n")
                case UInt8(ascii: "\r"): buffer.writeString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }
}

/// An order-independent digest of a table: the sum (mod 2^256, in four lanes) of each row's
/// SHA-256 over its typed values. Equal tables give equal digests whatever order either side
/// returns rows in; a changed, missing or extra row changes it.
struct RowDigest: Equatable, Sendable {
    var lanes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    struct Row {
        var hash = SHA256()

        mutating func add(_ value: CopyValue) {
            var bytes: [UInt8]
            switch value {
            case .null: bytes = [0]
            case let .integer(number): bytes = [1] + withUnsafeBytes(of: number.littleEndian, Array.init)
            case let .real(number): bytes = [2] + withUnsafeBytes(of: number.bitPattern.littleEndian, Array.init)
            case let .boolean(flag): bytes = [3, flag ? 1 : 0]
            case let .text(text): bytes = [4] + withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian, Array.init) + Array(text.utf8)
            case let .blob(data): bytes = [5] + withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init) + data
            }
            hash.update(data: bytes)
        }
    }

    mutating func add(_ row: Row) {
        let words = row.hash.finalize().withUnsafeBytes { raw in (0..<4).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) } }
        lanes = (lanes.0 &+ words[0], lanes.1 &+ words[1], lanes.2 &+ words[2], lanes.3 &+ words[3])
    }

    static func == (a: RowDigest, b: RowDigest) -> Bool {
        a.lanes.0 == b.lanes.0 && a.lanes.1 == b.lanes.1 && a.lanes.2 == b.lanes.2 && a.lanes.3 == b.lanes.3
    }

    var hex: String { [lanes.0, lanes.1, lanes.2, lanes.3].map { String(format: "%016llx", $0) }.joined() }
}

/// The hand-over between the SQLite reading thread and the async COPY: at most four chunks wait,
/// so the reader never runs far ahead of the server; `cancel` releases a reader that waits.
final class ChunkFeed: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [HistoryExport.Chunk] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private var waiting: CheckedContinuation<Void, Never>?

    /// Blocks the producer while four chunks wait. False once the consumer is gone.
    func put(_ chunk: HistoryExport.Chunk) -> Bool {
        condition.lock()
        while queue.count >= 4 && !cancelled { condition.wait() }
        guard !cancelled else { condition.unlock(); return false }
        queue.append(chunk)
        let resume = waiting
        waiting = nil
        condition.unlock()
        resume?.resume()
        return true
    }

    func finish(_ error: (any Error)?) {
        condition.lock()
        finished = true
        failure = error
        let resume = waiting
        waiting = nil
        condition.unlock()
        resume?.resume()
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private enum Poll {
        case chunk(HistoryExport.Chunk), done((any Error)?), empty
    }

    private func poll() -> Poll {
        condition.lock()
        defer { condition.unlock() }
        if !queue.isEmpty {
            condition.broadcast()
            return .chunk(queue.removeFirst())
        }
        return finished ? .done(failure) : .empty
    }

    /// Keeps `continuation` to be resumed by the next put or finish; resumes it now if one came meanwhile.
    private func park(_ continuation: CheckedContinuation<Void, Never>) {
        condition.lock()
        if !queue.isEmpty || finished {
            condition.unlock()
            continuation.resume()
        } else {
            waiting = continuation
            condition.unlock()
        }
    }

    /// The next chunk; nil when the producer is done; the producer's error if it failed.
    func next() async throws -> HistoryExport.Chunk? {
        while true {
            switch poll() {
            case let .chunk(chunk): return chunk
            case let .done(error):
                if let error { throw error }
                return nil
            case .empty:
                await withCheckedContinuation { park($0) }
            }
        }
    }
}
