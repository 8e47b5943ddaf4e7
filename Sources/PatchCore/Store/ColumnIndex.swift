import Foundation
import GRDB

/// The columns of one query's rows, by name, found once. GRDB's `row["name"]` lowercases every
/// column's name on every access, which dominates reading the hundred thousand rows of a report.
/// Rows of one SQLite statement share their columns' order; a PostgreSQL row's come in any
/// order, so each row is checked against the order the positions were found for.
struct ColumnIndex {
    private var names: [String] = []
    private var positions: [String: Int] = [:]
    /// The row last checked. A statement being stepped (`HistorySQL.each`) hands out one row
    /// object for all its rows, in one order: it is checked once. Held, so that no other row can
    /// take its address while it is remembered.
    private var checked: Row?
    /// `positions(of:)`'s last answer, for this order.
    private var list: (names: [String], positions: [Int])?

    /// `row`, its columns read by name through positions found once per order.
    mutating func callAsFunction(_ row: Row) -> Columns {
        if checked !== row {
            // `columnNames` reads every value as well: done once per row object, not per row stepped.
            if names.count != row.count || !row.columnNames.elementsEqual(names) {
                names = Array(row.columnNames)
                positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
                list = nil
            }
            checked = row
        }
        return Columns(row: row, positions: positions)
    }

    /// Where `names` are in the order of the row last passed in: found once per order (a query's
    /// list of columns is usually one array, compared by identity), for reading many values per row.
    mutating func positions(of names: [String]) -> [Int] {
        if let list, list.names == names { return list.positions }
        let found = names.map { name in
            guard let position = positions[name] else { preconditionFailure("no column \(name) in the row") }
            return position
        }
        list = (names, found)
        return found
    }

    struct Columns {
        let row: Row
        let positions: [String: Int]

        subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value { row[position(name)] }

        /// Strings, numbers, dates and their optionals: read straight from the statement when the
        /// row is one being stepped (`HistorySQL.each`), not through a `DatabaseValue`.
        subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ name: String) -> Value { row[position(name)] }

        /// Dates parsed by hand when stored in GRDB's own layout (`StoredDate`): the same value, faster.
        subscript(_ name: String) -> Date { (row[position(name)] as StoredDate).date }

        subscript(_ name: String) -> Date? { (row[position(name)] as StoredDate?)?.date }

        /// A value that may not convert (a stored enum): an error rather than a crash.
        func decode<Value: DatabaseValueConvertible>(_ type: Value.Type, _ name: String) throws -> Value {
            try row.decode(type, atIndex: position(name))
        }

        private func position(_ name: String) -> Int {
            guard let position = positions[name] else { preconditionFailure("no column \(name) in the row") }
            return position
        }
    }
}
