import Foundation
import GRDB

extension HistoryStore {
    /// Migration v14: every run names the controller that recorded it, so histories of several
    /// controllers (merged by `history export`, or shared) report on one controller or all.
    /// Runs recorded before it have an empty host and no name: "unknown controller".
    static func registerControllerMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v14: run controllers") { db in
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN controller_host TEXT NOT NULL DEFAULT '';
                ALTER TABLE runs ADD COLUMN controller TEXT;
                """)
        }
    }

    /// The SQL condition selecting runs of the controller labelled `label` (its name, else its host
    /// name) in the runs table aliased `alias`; bind `label` once.
    static func controllerCondition(_ alias: String) -> String {
        "COALESCE(\(alias).controller, \(alias).controller_host) = ?"
    }
}
