import ArgumentParser
import Foundation
import PatchCore

/// Opens the library beside the history database.
struct LibraryOptions: ParsableArguments {
    @OptionGroup var outputOptions: OutputOptions

    func repository() throws -> PackageRepository {
        PackageRepository(store: try HistoryStore(path: outputOptions.databasePath(environment: Settings.environment)))
    }

    /// For listing: never creates, migrates or writes the database.
    func readOnlyRepository() throws -> PackageRepository {
        PackageRepository(store: try HistoryStore(readOnly: outputOptions.databasePath(environment: Settings.environment)))
    }
}
