import Foundation
import GRDB

extension HistoryStore {
    /// Migration v21: `run_hosts_by_seq` goes. Every nightly scan of a host adds an entry to each
    /// index of `run_hosts` that starts with the host, and once a host's entries fill a page of their
    /// own (a few months of nights), each such entry dirties a page no other host touches: a night of
    /// 10,000 hosts wrote about 33,000 pages to the log for its `run_hosts` and `scan_hosts` rows
    /// with this index, 20,000 without (a year's history, 250 hosts to a transaction). One statement
    /// read it: a closing's "deployed since the previous scan" (`FindingIntervals.deployed`), which
    /// walks `run_hosts_by_host` back from the newest contact instead and stops at that scan, a
    /// step or two back. A host's scan by sequence number is still found, through that index.
    static let sequenceIndexMigration = "v21: run_hosts_by_seq dropped"

    /// The migration's statement on either store (its PostgreSQL step too: `PostgresSchema.dataSteps`).
    static let sequenceIndexStatements = ["DROP INDEX IF EXISTS run_hosts_by_seq"]

    static func registerSequenceIndexMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(sequenceIndexMigration) { db in
            for statement in sequenceIndexStatements { try db.execute(sql: statement) }
        }
    }
}
