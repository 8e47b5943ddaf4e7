import Foundation
import GRDB

extension HistoryStore {
    /// Migration v20: an interval's closing reason is a small integer (`IntervalCloseReason.code`),
    /// not its name. An open interval's `last_seq` is `openEnd` (8 bytes); closing it wrote the
    /// last and closing sequence numbers (1–3 bytes each) and 8–15 bytes of reason text, so a row
    /// grew as it closed on a full page, which split: 16 % of the intervals' pages of a 10,000 × 365
    /// history written night by night were unused. With a code (SQLite stores 0 and 1 in no bytes,
    /// 2 and 3 in one), a closing shrinks its row.
    static let closingCodesMigration = "v20: interval closing reasons as codes"

    static func registerClosingCodesMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(closingCodesMigration) { db in
            // The views read the tables being rebuilt; they are made again at the end.
            try db.execute(sql: "DROP VIEW IF EXISTS findings; DROP VIEW IF EXISTS finding_cves; DROP VIEW IF EXISTS unfixed_cves")
            for table in ["finding_intervals", "unfixed_cve_intervals"] { try rebuildWithClosingCodes(db, table) }
            // A history still converting (v10) creates the views when it finishes.
            if try !intervalConversionPending(db) { try createIntervalViews(db) }
        }
    }

    /// `table` again in id order (its pages full, as rows appended by recording fill them), as v19
    /// made it but for `closed_reason INTEGER`, with its indexes; reasons become their codes.
    private static func rebuildWithClosingCodes(_ db: Database, _ table: String) throws {
        guard let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]),
              let body = create.firstIndex(of: "("), create.contains("closed_reason TEXT")
        else { throw PatchError.store(path: db.description, message: "\(table): not the shape migration v19 left (closed_reason TEXT)") }
        let indexes = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
                                          arguments: [table])
        let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
        let rebuilt = table + "_v20"
        let definition = "CREATE TABLE \(rebuilt) " + create[body...].replacingOccurrences(of: "closed_reason TEXT", with: "closed_reason INTEGER")
        let copied = columns.map { $0 == "closed_reason" ? closingCodeSQL("closed_reason") : $0 }
        try db.execute(sql: definition)
        try db.execute(sql: """
            INSERT INTO \(rebuilt) (\(columns.joined(separator: ", ")))
            SELECT \(copied.joined(separator: ", ")) FROM \(table) ORDER BY id
            """)
        try db.execute(sql: "DROP TABLE \(table); ALTER TABLE \(rebuilt) RENAME TO \(table)")
        for index in indexes { try db.execute(sql: index) }
    }

    /// The code of a reason stored by name in `column`; NULL (open) stays NULL, and so does anything
    /// `otherwise` does not read.
    static func closingCodeSQL(_ column: String, otherwise: String = "NULL") -> String {
        "CASE \(column) " + IntervalCloseReason.allCases.map { "WHEN '\($0.rawValue)' THEN \($0.code)" }.joined(separator: " ") + " ELSE \(otherwise) END"
    }

    /// v20 on PostgreSQL: the column changes type in place. Read as text, so that the statement also
    /// holds where the schema's statements just made the column BIGINT (a new history: no rows).
    static let closingCodesPostgresSteps = ["finding_intervals", "unfixed_cve_intervals"].map {
        "ALTER TABLE \($0) ALTER COLUMN closed_reason TYPE BIGINT USING "
            + closingCodeSQL("closed_reason::text", otherwise: "CASE WHEN closed_reason::text ~ '^[0-9]+$' THEN closed_reason::text::bigint END")
    }
}
