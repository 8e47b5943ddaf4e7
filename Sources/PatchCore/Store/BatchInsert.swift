import GRDB

/// Rows inserted many to a statement (`INSERT … VALUES (…), (…), …`) on either store: a feed of
/// 400,000 rows is 2,000 statements, not 400,000 round trips to a PostgreSQL server. With
/// `replacingOn`, a row whose key is already there replaces it (SQLite's `INSERT OR REPLACE`);
/// one statement must then not hold a key twice (PostgreSQL refuses to update a row twice). With
/// `ignoringDuplicates`, a row whose key is already there is left out (`ON CONFLICT DO NOTHING`).
struct BatchInsert {
    private let db: any HistoryWriter
    private let prefix: String
    private let suffix: String
    private let width: Int
    private let rowsPerStatement: Int
    private var pending: [DatabaseValue] = []
    /// Rows appended so far (sent or not).
    private(set) var count = 0

    /// Under SQLite's and PostgreSQL's limits on bound values (32,766 and 65,535).
    static let maxValuesPerStatement = 2_000

    init(_ db: any HistoryWriter, into table: String, columns: [String], replacingOn key: String? = nil, ignoringDuplicates: Bool = false) {
        precondition(key == nil || !ignoringDuplicates, "a duplicate key either replaces or is left out")
        self.db = db
        width = columns.count
        rowsPerStatement = max(1, Self.maxValuesPerStatement / columns.count)
        prefix = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        suffix = key.map { key in
            " ON CONFLICT (\(key)) DO UPDATE SET " + columns.filter { $0 != key }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        } ?? (ignoringDuplicates ? " ON CONFLICT DO NOTHING" : "")
    }

    /// Adds one row (its values in the columns' order); sends a full statement's worth.
    mutating func append(_ row: [DatabaseValue]) throws {
        precondition(row.count == width, "a row of \(row.count) values for \(width) columns")
        pending.append(contentsOf: row)
        count += 1
        if pending.count >= rowsPerStatement * width { try flush() }
    }

    /// Sends the rows not sent yet.
    mutating func flush() throws {
        guard !pending.isEmpty else { return }
        let rows = pending.count / width
        let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
        // The full statement's text is the same each time: SQLite's cache prepares it once.
        try db.execute(prefix + Array(repeating: tuple, count: rows).joined(separator: ", ") + suffix, pending)
        pending.removeAll(keepingCapacity: true)
    }
}
