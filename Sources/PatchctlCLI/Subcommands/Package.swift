import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Package: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The library of approved packages: add, list, approve, reject, prune.",
            subcommands: [Add.self, List.self, Approve.self, Reject.self, Prune.self])
    }
}

extension OSFamily: ExpressibleByArgument {}
extension PackageFormat: ExpressibleByArgument {}

extension Patchctl.Package {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a package file (deb, rpm, msi, exe, pkg, dmg) or an OS-repository package to the library (state: pending).")

        @Argument(help: ArgumentHelp("The package file (omit with --format apt|dnf|zypper|winget|choco|brew).", valueName: "file"))
        var file: String?

        @Option(help: "Name (read from .deb/.rpm metadata; required for other formats).")
        var name: String?

        @Option(help: "Version (read from .deb/.rpm metadata; required for other formats).")
        var version: String?

        @Option(help: "Platform: debian, rhel, suse, macos, windows (default: the format's).")
        var platform: OSFamily?

        @Option(help: "Architecture (default: from the package, else all).")
        var architecture: String?

        @Option(help: "Format (default: from the file's contents).")
        var format: PackageFormat?

        @Option(help: ArgumentHelp("Silent-install arguments for exe installers (e.g. \"/S\").", valueName: "args"))
        var installArguments: String?

        @Option(help: "Notes (change ticket...).")
        var notes: String?

        @OptionGroup var library: LibraryOptions

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let user = LocalUser.current(environment: Settings.environment)
            let (record, added) = try await library.repository().add(
                .init(path: file, name: name, version: version, platform: platform, architecture: architecture, format: format,
                      installArguments: installArguments, notes: notes), by: user, at: Date())
            try Output.print(one: record, as: library.outputOptions.output) {
                Output.text("\(added ? "added" : "already in the library:") \(record.reference) (\(record.platform.rawValue), \(record.architecture), \(record.format.rawValue)\(record.sha256.map { ", sha256 \($0)" } ?? ""), \(record.state.rawValue)\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the library.")

        @OptionGroup var library: LibraryOptions

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let records = try await library.readOnlyRepository().list()
            try Output.print(list: records, as: library.outputOptions.output) { records.isEmpty ? "the library is empty\n" : TableReport.packages(records) }
        }
    }

    /// approve / reject share the package reference and the note.
    struct Decision: ParsableArguments {
        @Argument(help: ArgumentHelp("NAME@VERSION (or NAME when the library holds one version).", valueName: "package"))
        var package: PackageVersion

        @Option(help: "Why (change ticket...).")
        var note: String?

        @OptionGroup var library: LibraryOptions

        func apply(_ state: ApprovalState) async throws {
            let user = LocalUser.current(environment: Settings.environment)
            for record in try await library.repository().decide(name: package.name, version: package.version, state: state, by: user, note: note, at: Date()) {
                Terminal.write(line: "\(state.rawValue) \(record.reference) (\(record.platform.rawValue), \(record.architecture))\n")
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a library package for production rings and `patchctl install`.")
        @OptionGroup var decision: Decision
        @OptionGroup var display: DisplayOption

        func run() async throws { try await decision.apply(.approved) }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a library package: never installed; removed by prune.")
        @OptionGroup var decision: Decision
        @OptionGroup var display: DisplayOption

        func run() async throws { try await decision.apply(.rejected) }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove outdated versions, duplicates, rejected and long-unapproved entries (never one a policy's install: names).")

        @Option(help: "Approved versions kept per name, platform and architecture.")
        var keep: Int = 2

        @Option(help: "Entries never approved within this many days go.")
        var pendingDays: Int = 90

        @Flag(help: "List what would go; remove nothing.")
        var dryRun = false

        @OptionGroup var library: LibraryOptions

        func validate() throws {
            try ConnectionFlags.check(keep, in: 1...1000, flag: "--keep")
            try ConnectionFlags.check(pendingDays, in: 0...3650, flag: "--pending-days")
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let referenced = PatchCore.Policy.installReferences(directories: PatchCore.Policy.searchDirectories(
                environment: environment, currentDirectory: FileManager.default.currentDirectoryPath))
            let items = try await library.repository().prune(keep: keep, pendingDays: pendingDays, referenced: referenced, now: Date(), dryRun: dryRun)
            try Output.print(list: items, as: library.outputOptions.output) {
                items.isEmpty ? "nothing to prune\n"
                    : items.map { Output.text("\(dryRun ? "would remove" : "removed") \($0.package ?? $0.file ?? "?"): \($0.reason)\n") }.joined()
            }
        }
    }
}
