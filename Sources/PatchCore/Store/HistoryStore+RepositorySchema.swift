import GRDB

extension HistoryStore {
    /// The package library's table. Files live beside the database, named by their SHA-256;
    /// the repository keeps rows and files in step (see PackageRepository).
    static func registerRepositoryMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v5: package repository") { db in
            try db.execute(sql: """
                CREATE TABLE packages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    version TEXT NOT NULL,
                    platform TEXT NOT NULL,
                    architecture TEXT NOT NULL,
                    format TEXT NOT NULL,
                    sha256 TEXT,
                    size INTEGER,
                    file_name TEXT,
                    install_arguments TEXT,
                    notes TEXT,
                    added_by TEXT NOT NULL,
                    added_at DATETIME NOT NULL,
                    -- pending | approved | rejected
                    state TEXT NOT NULL DEFAULT 'pending',
                    decided_by TEXT,
                    decided_at DATETIME,
                    decision_note TEXT,
                    UNIQUE (name, version, platform, architecture)
                );
                CREATE INDEX packages_by_sha ON packages(sha256);
                """)
        }
    }

    /// Migration v17: a PostgreSQL history keeps its library's files in the database, in parts of
    /// `PackageRepository.partSize`, so that every controller sharing it can install a package any
    /// of them added (each keeps a verified copy in its own folder). An SQLite history keeps its
    /// files beside the database as before and leaves this table empty; `history export --to`
    /// fills it from those files.
    static func registerPackageFilesMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v17: package files in the history") { db in
            try db.execute(sql: """
                CREATE TABLE package_files (
                    sha256 TEXT NOT NULL,
                    part INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    PRIMARY KEY (sha256, part)
                );
                """)
        }
    }
}
