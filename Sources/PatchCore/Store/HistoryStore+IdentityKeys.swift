import Foundation
import GRDB

extension HistoryStore {
    /// Migration v22: each interval keeps a 64-bit key of its identity (`FindingIntervals.identityKey`),
    /// and the index of open intervals holds it beside the host. A night's write reads the open
    /// intervals of every host whose findings changed, to match them with what the scan saw: it
    /// read each one's identity (eight or ten columns) from the table's pages, decoded them and
    /// hashed them; it now reads its id and key from the index alone (a covering index: the rows
    /// themselves are not visited), and only the intervals that close have their names read.
    ///
    /// Intervals opened before v22 have no key: no data step computes them (the key is a digest
    /// made in Swift, and both stores must make the same), the write that first reads a host's
    /// open intervals makes theirs from their identity and stores it (`FindingIntervals.batchReads`).
    static let identityKeysMigration = "v22: interval identity keys"

    /// The schema part; on PostgreSQL the new column and indexes come from the schema itself, and
    /// the old indexes go with `identityKeysPostgresSteps`.
    static let identityKeysStatements = [
        "ALTER TABLE finding_intervals ADD COLUMN identity_key INTEGER",
        "ALTER TABLE unfixed_cve_intervals ADD COLUMN identity_key INTEGER",
    ] + identityKeysPostgresSteps + [
        // `closed_seq` (NULL in every entry) is there for SQLite, which reads a partial index alone only
        // when the columns its condition names are in it.
        "CREATE INDEX finding_intervals_open_keys ON finding_intervals(host, identity_key, closed_seq) WHERE closed_seq IS NULL",
        "CREATE INDEX unfixed_cve_intervals_open_keys ON unfixed_cve_intervals(host, identity_key, closed_seq) WHERE closed_seq IS NULL",
    ]

    static let identityKeysPostgresSteps = [
        "DROP INDEX IF EXISTS finding_intervals_open",
        "DROP INDEX IF EXISTS unfixed_cve_intervals_open",
    ]

    static func registerIdentityKeysMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(identityKeysMigration) { db in
            for statement in identityKeysStatements { try db.execute(sql: statement) }
        }
    }
}
