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

/// Opens the library beside the history database.
struct LibraryOptions: ParsableArguments {
    @OptionGroup var outputOptions: OutputOptions

    func repository() throws -> PackageRepository {
        PackageRepository(store: try HistoryStore(path: outputOptions.databasePath(environment: ProcessInfo.processInfo.environment)))
    }

    /// For listing: never creates, migrates or writes the database.
    func readOnlyRepository() throws -> PackageRepository {
        PackageRepository(store: try HistoryStore(readOnly: outputOptions.databasePath(environment: ProcessInfo.processInfo.environment)))
    }
}

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

        func run() async throws {
            do {
                let user = LocalUser.current(environment: ProcessInfo.processInfo.environment)
                let (record, added) = try await library.repository().add(
                    .init(path: file, name: name, version: version, platform: platform, architecture: architecture, format: format,
                          installArguments: installArguments, notes: notes), by: user, at: Date())
                if library.outputOptions.output == .table {
                    Terminal.write(line: "\(added ? "added" : "already in the library:") \(record.reference) (\(record.platform.rawValue), \(record.architecture), \(record.format.rawValue)\(record.sha256.map { ", sha256 \($0)" } ?? ""), \(record.state.rawValue)\n")
                } else {
                    Terminal.writeDocument(JSONOutput.encode(record, pretty: library.outputOptions.output == .json) + "\n")
                }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the library.")

        @OptionGroup var library: LibraryOptions

        func run() async throws {
            do {
                let records = try library.readOnlyRepository().list()
                switch library.outputOptions.output {
                case .json: Terminal.writeDocument(JSONOutput.encode(records, pretty: true) + "\n")
                case .ndjson: for record in records { Terminal.writeDocument(JSONOutput.encode(record, pretty: false) + "\n") }
                case .table: Terminal.write(records.isEmpty ? "the library is empty\n" : TableReport.packages(records))
                }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }

    /// approve / reject share the package reference and the note.
    struct Decision: ParsableArguments {
        @Argument(help: ArgumentHelp("NAME@VERSION (or NAME when the library holds one version).", valueName: "package"))
        var package: PackageVersion

        @Option(help: "Why (change ticket...).")
        var note: String?

        @OptionGroup var library: LibraryOptions

        func apply(_ state: PackageRecord.State) throws {
            do {
                let user = LocalUser.current(environment: ProcessInfo.processInfo.environment)
                for record in try library.repository().decide(name: package.name, version: package.version, state: state, by: user, note: note, at: Date()) {
                    Terminal.write(line: "\(state.rawValue) \(record.reference) (\(record.platform.rawValue), \(record.architecture))\n")
                }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a library package for production rings and `patchctl install`.")
        @OptionGroup var decision: Decision
        func run() async throws { try decision.apply(.approved) }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a library package: never installed; removed by prune.")
        @OptionGroup var decision: Decision
        func run() async throws { try decision.apply(.rejected) }
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

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            do {
                let referenced = PatchCore.Policy.installReferences(directories: PatchCore.Policy.searchDirectories(
                    environment: environment, currentDirectory: FileManager.default.currentDirectoryPath))
                let items = try library.repository().prune(keep: keep, pendingDays: pendingDays, referenced: referenced, now: Date(), dryRun: dryRun)
                switch library.outputOptions.output {
                case .json: Terminal.writeDocument(JSONOutput.encode(items, pretty: true) + "\n")
                case .ndjson: for item in items { Terminal.writeDocument(JSONOutput.encode(item, pretty: false) + "\n") }
                case .table:
                    if items.isEmpty { Terminal.write("nothing to prune\n") }
                    for item in items { Terminal.write(line: "\(dryRun ? "would remove" : "removed") \(item.package ?? item.file ?? "?"): \(item.reason)\n") }
                }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }
}

extension Patchctl {
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install an approved library package on the targeted hosts (pushed over SFTP, checksum-verified).")

        @Argument(help: ArgumentHelp("NAME@VERSION from the library.", valueName: "package"))
        var package: PackageVersion

        @OptionGroup var target: InventoryOptions
        @OptionGroup var connection: ConnectionFlags
        @OptionGroup var outputOptions: OutputOptions

        @Flag(help: "Show what would happen; change nothing.")
        var dryRun = false

        @OptionGroup var retry: RetryOptions

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let repository: PackageRepository
            let records: [PackageRecord]
            do {
                repository = PackageRepository(store: try HistoryStore(path: outputOptions.databasePath(environment: environment)))
                records = try repository.find(name: package.name, version: package.version).filter { $0.state == .approved }
                guard !records.isEmpty else {
                    let any = try repository.find(name: package.name, version: package.version)
                    throw PatchError.repository(file: nil, message: any.isEmpty ? "no \(package.name)\(package.version.map { "@\($0)" } ?? "") in the library"
                        : "\(any.map { "\($0.reference) is \($0.state.rawValue)" }.joined(separator: ", ")): only approved packages install")
                }
                guard Set(records.map(\.version)).count == 1 else {
                    throw PatchError.repository(file: nil, message: "\(package.name) has several approved versions: name one as \(package.name)@VERSION")
                }
            } catch {
                throw ExitCodes.fail(error)
            }
            guard let prepared = try await RunSetup.prepare(
                kind: dryRun ? "install-plan" : "install", target: target, output: outputOptions, environment: environment,
                options: "\(records[0].reference) dry_run=\(dryRun)", as: DeployHost.self, defaultUser: connection.user,
                sshConfig: connection.connectionOptions(environment: environment).sshConfig, retry: (.install, retry))
            else { return }
            let engine = Engine(options: connection.connectionOptions(environment: environment))
            // On a terminal, one self-erasing line shows the uploads in flight.
            var progress: (@Sendable (String, Int64, Int64) -> Void)?
            if Terminal.stderrIsTerminal && outputOptions.output == .table {
                progress = { host, sent, total in
                    let line = "\r\u{1B}[K\(TerminalText.neutralised(host)): \(sent >> 20) of \(total >> 20) MiB uploaded"
                    Terminal.writeControl(sent >= total ? "\r\u{1B}[K" : line)
                }
            }
            // Hosts behind a relay get the file from it (its inventory entry may be outside --limit).
            var relays: [String: Host] = [:]
            if let inventory = try? Inventory.load(paths: target.inventoryPaths(environment: environment)) {
                relays = PackageInstaller.relays(for: prepared.hosts, in: inventory)
            }
            let installer = PackageInstaller(engine: engine, repository: repository, dryRun: dryRun, uploadProgress: progress, relays: relays)
            let (results, finished, historyFailure) = await RunSetup.execute(prepared, format: outputOptions.output) { onFinished in
                // One build per platform: each host gets the entry for its own family.
                await installer.install(records, on: prepared.hosts, forks: connection.forks, onHostFinished: onFinished)
            }
            let run = DeployRun(runId: prepared.recorder.runId, policy: "install \(records[0].reference)", outcome: dryRun ? .planned : .finished,
                                dryRun: dryRun, startedAt: prepared.started, finishedAt: finished, rings: [], notes: [], hosts: results)
            Terminal.write(run: run, hosts: run.hosts, format: outputOptions.output, hostsStreamed: true) { TableReport.deploy(run, details: dryRun) }
            try RunSetup.conclude(historyFailure)
            if run.summary.failed > 0 { throw ExitCodes.hostsFailed }
        }
    }
}
