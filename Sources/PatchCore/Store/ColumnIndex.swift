import GRDB

/// The columns of one query's rows, by name, found once. GRDB's `row["name"]` lowercases every
/// column's name on every access, which dominates reading the hundred thousand rows of a report.
/// Rows of one SQLite statement share their columns' order; a PostgreSQL row's come in any
/// order, so each row is checked against the order the positions were found for.
struct ColumnIndex {
    private var names: [String] = []
    private var positions: [String: Int] = [:]

    /// `row`, its columns read by name through positions found once per order.
    mutating func callAsFunction(_ row: Row) -> Columns {
        if names.count != row.count || !row.columnNames.elementsEqual(names) {
            names = Array(row.columnNames)
            positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        return Columns(row: row, positions: positions)
    }

    struct Columns {
        let row: Row
        let positions: [String: Int]

        subscript<Value: DatabaseValueConvertible>(_ name: String) -> Value { row[position(name)] }

        private func position(_ name: String) -> Int {
            guard let position = positions[name] else { preconditionFailure("no column \(name) in the row") }
            return position
        }
    }
}
