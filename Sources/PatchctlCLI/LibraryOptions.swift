import ArgumentParser
import Foundation
import PatchCore

/// Opens the library beside the history database.
struct LibraryOptions: ParsableArguments {
    @OptionGroup var outputOptions: OutputOptions

    /// An SQLite file, or a PostgreSQL history (`--db postgres://…`) that every controller sharing it installs from.
    func repository() async throws -> PackageRepository {
        try await Self.repository(outputOptions)
    }

    /// The library of the history `output` names, opened for recording (`install` has no `LibraryOptions` of its own).
    static func repository(_ output: OutputOptions) async throws -> PackageRepository {
        let environment = Settings.environment
        return PackageRepository(store: try await HistoryStore.open(recording: output.databasePath(environment: environment), environment: environment))
    }

    /// For listing: never creates, migrates or writes the database.
    func readOnlyRepository() async throws -> PackageRepository {
        let environment = Settings.environment
        return PackageRepository(store: try await HistoryStore.open(reading: outputOptions.databasePath(environment: environment), environment: environment))
    }
}
