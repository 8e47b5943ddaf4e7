import Foundation
import GRDB

/// The PostgreSQL history's schema, derived from the SQLite one: the same migrations are applied to
/// an in-memory SQLite database and its tables, keys, indexes and views are written out for
/// PostgreSQL. So both stores have the same tables and columns by construction, and a new SQLite
/// migration that adds a table, a column or an index reaches PostgreSQL with no code of its own
/// (`statements` is idempotent: IF NOT EXISTS throughout). A migration that changes or drops a
/// column needs its own PostgreSQL step (`dataSteps`).
///
/// Types keep SQLite's values exactly: DATETIME stays GRDB's text (`2026-12-04 10:00:00.000`,
/// which sorts and compares as the queries expect), INTEGER is BIGINT, REAL is DOUBLE PRECISION,
/// BOOLEAN is BOOLEAN, BLOB is BYTEA.
struct PostgresSchema: Sendable {
    enum ColumnType: String, Sendable {
        case integer = "BIGINT", real = "DOUBLE PRECISION", text = "TEXT", boolean = "BOOLEAN", blob = "BYTEA"
    }

    struct Column: Sendable, Equatable {
        var name: String
        var type: ColumnType
        var notNull: Bool
        /// SQL, as SQLite's schema has it (`'running'`, `0`).
        var defaultValue: String?
    }

    struct ForeignKey: Sendable, Equatable {
        var columns: [String]
        var table: String
        var referenced: [String]
        var onDelete: String
    }

    struct Table: Sendable {
        var name: String
        var columns: [Column]
        var primaryKey: [String]
        /// An `INTEGER PRIMARY KEY`: an identity column in PostgreSQL, its sequence moved past copied rows.
        var identity: String?
        var uniques: [[String]]
        var foreignKeys: [ForeignKey]

        /// Every column of every row, in declared order: what the export copies and reads back, on both sides.
        var selectAll: String {
            "SELECT " + columns.map { PostgresSchema.quoted($0.name) }.joined(separator: ", ") + " FROM " + PostgresSchema.quoted(name)
        }
    }

    /// Tables in an order where every table comes after the ones it references.
    var tables: [Table]
    /// CREATE INDEX statements as SQLite has them.
    var indexes: [(name: String, sql: String)]
    /// CREATE VIEW statements as SQLite has them.
    var views: [(name: String, sql: String)]
    /// The migrations this schema is the result of.
    var migrations: [String]

    /// SQLite's own bookkeeping, and tables no store query reads from PostgreSQL.
    static let skipped: Set<String> = ["grdb_migrations", "sqlite_sequence", "sqlite_stat1"]

    /// The schema of this patchctl's last migration.
    static let current: PostgresSchema = {
        do {
            let queue = try DatabaseQueue()
            try HistoryStore.migrator.migrate(queue)
            return try queue.read { try PostgresSchema(reading: $0) }
        } catch {
            fatalError("the history's own migrations could not be read as a PostgreSQL schema: \(error)")
        }
    }()

    /// Reads a migrated SQLite database's schema.
    init(reading db: Database) throws {
        migrations = try HistoryStore.migrator.appliedIdentifiers(db).sorted()
        var found: [Table] = []
        for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") where !Self.skipped.contains(name) {
            var columns: [Column] = []
            var keyed: [(Int, String)] = []
            for row in try Row.fetchAll(db, sql: "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)", arguments: [name]) {
                let declared = (row["type"] as String).uppercased()
                let type: ColumnType
                switch declared {
                case "INTEGER": type = .integer
                case "REAL": type = .real
                case "TEXT", "DATETIME": type = .text
                case "BOOLEAN": type = .boolean
                case "BLOB": type = .blob
                default: throw PatchError.store(path: "PostgreSQL schema", message: "\(name).\(row["name"] as String) has type '\(declared)', which has no PostgreSQL type here")
                }
                columns.append(Column(name: row["name"], type: type, notNull: row["notnull"], defaultValue: row["dflt_value"]))
                let position: Int = row["pk"]
                if position > 0 { keyed.append((position, row["name"])) }
            }
            let primaryKey = keyed.sorted { $0.0 < $1.0 }.map(\.1)
            let identity = primaryKey.count == 1 && columns.first { $0.name == primaryKey[0] }?.type == .integer ? primaryKey[0] : nil
            var uniques: [[String]] = []
            for index in try Row.fetchAll(db, sql: "SELECT name FROM pragma_index_list(?) WHERE origin = 'u' ORDER BY name", arguments: [name]) {
                uniques.append(try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno", arguments: [index["name"] as String]))
            }
            var keys: [Int: ForeignKey] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, seq, \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
                                        arguments: [name]) {
                let id: Int = row["id"]
                var key = keys[id] ?? ForeignKey(columns: [], table: row["table"], referenced: [], onDelete: row["on_delete"])
                key.columns.append(row["from"])
                key.referenced.append(row["to"])
                keys[id] = key
            }
            found.append(Table(name: name, columns: columns, primaryKey: primaryKey, identity: identity, uniques: uniques,
                               foreignKeys: keys.keys.sorted().map { keys[$0]! }))
        }
        // Parents first.
        var ordered: [Table] = []
        var placed = Set<String>()
        while ordered.count < found.count {
            let ready = found.filter { table in !placed.contains(table.name) && table.foreignKeys.allSatisfy { placed.contains($0.table) || $0.table == table.name } }
            guard !ready.isEmpty else { throw PatchError.store(path: "PostgreSQL schema", message: "the tables' foreign keys form a cycle") }
            ordered += ready
            placed.formUnion(ready.map(\.name))
        }
        tables = ordered
        indexes = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").map { ($0["name"], $0["sql"]) }
        // Triggers are not derived: each is written for PostgreSQL in `statements`, so one SQLite has and
        // PostgreSQL lacks would change what the stores hold.
        let triggers = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        guard triggers == Self.translatedTriggers else {
            throw PatchError.store(path: "PostgreSQL schema", message: "SQLite triggers without their PostgreSQL version: "
                                   + triggers.subtracting(Self.translatedTriggers).sorted().joined(separator: ", "))
        }
        // A view after the views it reads.
        var pending: [(name: String, sql: String)] = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
            .map { ($0["name"], $0["sql"]) }
        var sortedViews: [(name: String, sql: String)] = []
        while !pending.isEmpty {
            let names = Set(pending.map(\.name))
            let ready = pending.filter { view in
                !names.subtracting([view.name]).contains { other in view.sql.range(of: "\\b\(other)\\b", options: .regularExpression) != nil }
            }
            guard !ready.isEmpty else { throw PatchError.store(path: "PostgreSQL schema", message: "the views read each other in a cycle") }
            sortedViews += ready
            pending.removeAll { view in ready.contains { $0.name == view.name } }
        }
        views = sortedViews
    }

    static func quoted(_ identifier: String) -> String { "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    /// The DDL that brings a PostgreSQL database to this schema, each statement safe to run again.
    var statements: [String] {
        var result: [String] = []
        for table in tables {
            func definition(_ column: Column) -> String {
                var text = Self.quoted(column.name) + " " + column.type.rawValue
                if column.name == table.identity { return text + " GENERATED BY DEFAULT AS IDENTITY" }
                if column.notNull { text += " NOT NULL" }
                if var value = column.defaultValue {
                    if column.type == .boolean { value = value == "1" ? "TRUE" : value == "0" ? "FALSE" : value }
                    text += " DEFAULT " + value
                }
                return text
            }
            var parts = table.columns.map(definition)
            if !table.primaryKey.isEmpty { parts.append("PRIMARY KEY (" + table.primaryKey.map(Self.quoted).joined(separator: ", ") + ")") }
            for unique in table.uniques { parts.append("UNIQUE (" + unique.map(Self.quoted).joined(separator: ", ") + ")") }
            for key in table.foreignKeys {
                parts.append("FOREIGN KEY (" + key.columns.map(Self.quoted).joined(separator: ", ") + ") REFERENCES " + Self.quoted(key.table)
                             + " (" + key.referenced.map(Self.quoted).joined(separator: ", ") + ")"
                             + (key.onDelete == "NO ACTION" ? "" : " ON DELETE " + key.onDelete))
            }
            result.append("CREATE TABLE IF NOT EXISTS \(Self.quoted(table.name)) (\n    " + parts.joined(separator: ",\n    ") + "\n)")
            // Columns a later migration added to a table PostgreSQL already has.
            for column in table.columns where column.name != table.identity && !table.primaryKey.contains(column.name) {
                result.append("ALTER TABLE \(Self.quoted(table.name)) ADD COLUMN IF NOT EXISTS " + definition(column))
            }
        }
        for index in indexes {
            result.append(index.sql.replacingOccurrences(of: #"^CREATE (UNIQUE )?INDEX "#, with: "CREATE $1INDEX IF NOT EXISTS ", options: .regularExpression))
        }
        for view in views {
            result.append(view.sql.replacingOccurrences(of: "CREATE VIEW ", with: "CREATE OR REPLACE VIEW ", options: .anchored))
        }
        // SQLite's triggers run_hosts_*_stales_summary: a host written to a run makes its stored counts stale.
        result.append("""
            CREATE OR REPLACE FUNCTION patchctl_stale_run_summary() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE runs SET host_count = NULL WHERE id = NEW.run_id AND host_count IS NOT NULL;
                RETURN NEW;
            END $$
            """)
        result.append("""
            CREATE OR REPLACE TRIGGER run_hosts_insert_stales_summary AFTER INSERT ON run_hosts
                FOR EACH ROW EXECUTE FUNCTION patchctl_stale_run_summary()
            """)
        result.append("""
            CREATE OR REPLACE TRIGGER run_hosts_update_stales_summary AFTER UPDATE OF status, updates_count, security_count ON run_hosts
                FOR EACH ROW EXECUTE FUNCTION patchctl_stale_run_summary()
            """)
        return result
    }

    /// Statements a migration runs on the rows (or indexes) PostgreSQL already has, after the
    /// schema's own statements, when it applies that migration.
    static let dataSteps: [String: [String]] = [
        HistoryStore.openIntervalsMigration: HistoryStore.openIntervalsStatements,
        HistoryStore.cveListsMigration: HistoryStore.cveListsPostgresSteps,
        HistoryStore.intervalSequencesMigration: HistoryStore.intervalSequencesPostgresSteps,
        HistoryStore.closingCodesMigration: HistoryStore.closingCodesPostgresSteps,
        HistoryStore.sequenceIndexMigration: HistoryStore.sequenceIndexStatements,
        HistoryStore.identityKeysMigration: HistoryStore.identityKeysPostgresSteps,
        HistoryStore.findingVersionsMigration: HistoryStore.findingVersionsSteps,
    ]

    /// The SQLite triggers this schema writes by hand for PostgreSQL (`statements`); `init(reading:)` refuses any other.
    static let translatedTriggers: Set<String> = ["run_hosts_insert_stales_summary", "run_hosts_update_stales_summary"]
}
