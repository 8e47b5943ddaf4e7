import Foundation
import GRDB

extension HistoryStore {
    /// Migration v23: the versions the fleet has seen, each (package, available version) once with
    /// the run that first recorded it (`FindingIntervals.versionReads`). A scan's new interval keeps
    /// the host's first sighting of its version, which was looked up in every interval the host ever
    /// had of the package; a version no scan recorded before cannot have one, and most new
    /// intervals are of such versions (a point release's, a security update's).
    ///
    /// Versions already held are recorded as seen before any run (`first_run` ''), so each is looked
    /// up as before. The same statement fills the table on PostgreSQL (`PostgresSchema.dataSteps`),
    /// whose table comes from the schema. (`WHERE true`: SQLite would read the upsert's ON as the
    /// SELECT's join.) `approve` checks package names and versions against it too
    /// (`HistoryStore.hasPackage`).
    static let findingVersionsMigration = "v23: versions the fleet has seen"

    static let findingVersionsSteps = [
        """
        INSERT INTO finding_versions (package, available_version, first_run)
        SELECT DISTINCT package, available_version, '' FROM finding_intervals WHERE true ON CONFLICT DO NOTHING
        """,
    ]

    static func registerFindingVersionsMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration(findingVersionsMigration) { db in
            try db.execute(sql: """
                CREATE TABLE finding_versions (
                    package TEXT NOT NULL,
                    available_version TEXT NOT NULL,
                    -- the run that first recorded it; '' for a version recorded before v23
                    first_run TEXT NOT NULL,
                    PRIMARY KEY (package, available_version)
                ) WITHOUT ROWID
                """)
            for statement in findingVersionsSteps { try db.execute(sql: statement) }
        }
    }
}
