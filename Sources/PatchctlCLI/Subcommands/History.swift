import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Past runs from the history database.",
            subcommands: [List.self, Show.self, Events.self, Prune.self, Migrate.self, Export.self],
            defaultSubcommand: List.self)

        /// Documented range of `--last`.
        static let lastRange = 1...100_000

        /// Opens a history that exists for writing: pruning or migrating nothing must not create an empty database.
        static func existing(_ path: String) async throws -> HistoryStore {
            // A PostgreSQL history is brought up to date by connecting; it need not have runs.
            if PostgresLocation.isURL(path) { return try await HistoryStore.open(recording: path, environment: Settings.environment) }
            guard FileManager.default.fileExists(atPath: path) else {
                throw PatchError.store(path: path, message: "no history database here: nothing has been recorded yet (run `patchctl scan` first, or pass --db)")
            }
            return try HistoryStore(path: path)
        }

        /// `history`, `history show` and `history events` read a SQLite history (read-only) or a
        /// PostgreSQL one, through the same queries.
        static func reading<T>(_ location: String, _ body: (HistoryView) throws -> T) async throws -> T {
            let store = try await HistoryStore.open(reading: location, environment: Settings.environment)
            if let journal = store.pendingJournal {
                Terminal.writeError("patchctl: \(journal) holds records history could not take yet; the next recording command imports them\n")
            }
            return try store.withView(body)
        }
    }
}

extension Patchctl.History {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs, newest first.")

        @OptionGroup var outputOptions: OutputOptions

        @OptionGroup var controllers: ControllerFilter

        @Option(help: "How many runs to list.")
        var last: Int = 20

        func validate() throws {
            try ConnectionFlags.check(last, in: Patchctl.History.lastRange, flag: "--last")
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let (last, controller) = (last, controllers.controller)
            let runs = try await Patchctl.History.reading(outputOptions.databasePath(environment: Settings.environment)) { view in
                try view.runs(limit: last, controller: controller)
            }
            try Output.print(list: runs, as: outputOptions.output) { runs.isEmpty ? "no runs recorded yet\n" : TableReport.history(runs) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run with every host and finding.")

        @OptionGroup var outputOptions: OutputOptions

        @Argument(help: "Run id, or a unique prefix of one.")
        var runId: String

        @Flag(inversion: .prefixedNo, help: "In table output, list every pending update per host.")
        var details = true

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let (runId, format, details) = (runId, outputOptions.output, details)
            // Printed while the history is open: a scan run is read and printed a batch of hosts at a time.
            try await Patchctl.History.reading(outputOptions.databasePath(environment: Settings.environment)) { view in
                let (id, kind) = try view.resolveRun(runId)
                switch kind {
                case .discover:
                    let run = try view.discoveryRun(id: id)
                    try Output.print(run: run, hosts: run.hosts.map { RunLine(runId: run.runId ?? id, item: $0) }, as: format, streamed: false) {
                        TableReport.discovery(run)
                    }
                case .exec:
                    let run = try view.execRun(id: id)
                    try Output.print(run: run, hosts: run.hosts.map { RunLine(runId: run.runId, item: $0) }, as: format, streamed: false) { TableReport.exec(run) }
                case _ where kind.isDeployment:
                    let run = try view.deployRunReport(id: id)
                    try Output.print(run: run, hosts: run.hosts.map { RunLine(runId: run.runId, item: $0) }, as: format, streamed: false) {
                        TableReport.deploy(run, details: details)
                    }
                default:
                    try Output.print(streaming: ScanRunStream(view, id: id), as: format, details: details)
                }
            }
        }
    }

    struct Events: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The audit trail: approvals, rejections, deferrals, forced installs; newest first.")

        @OptionGroup var outputOptions: OutputOptions

        @Option(help: "Only this host.")
        var host: String?

        @Option(help: "Only this policy (name).")
        var policy: String?

        @Option(help: "How many events to list.")
        var last: Int = 50

        func validate() throws {
            try ConnectionFlags.check(last, in: Patchctl.History.lastRange, flag: "--last")
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let (last, host, policy) = (last, host, policy)
            let events = try await Patchctl.History.reading(outputOptions.databasePath(environment: Settings.environment)) { view in
                try view.events(limit: last, host: host, policy: policy)
            }
            try Output.print(list: events, as: outputOptions.output) { events.isEmpty ? "no events recorded yet\n" : TableReport.events(events) }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete runs, findings and events older than a retention period.",
            discussion: """
                Runs that started before the cut are deleted with their hosts, output and deployment records, as are
                findings last seen before it and older audit events. Approvals, deferrals, exceptions and advisory data
                are kept. The prune is itself recorded as an event, and reports whose period reaches before the cut say
                that its data is gone. The default keeps 13 months (PCI DSS asks for a year of audit trail).
                """)

        @OptionGroup var outputOptions: OutputOptions

        @Option(name: .customLong("older-than"), help: "Retention: a duration such as 400d, 56w or 9000h, or a date (YYYY-MM-DD).")
        var olderThan = "\(HistoryStore.defaultRetentionDays)d"

        @Flag(help: "Only count what would be deleted.")
        var dryRun = false

        func validate() throws {
            guard ReportDate.parseStart(olderThan, end: Date()) != nil else {
                throw ValidationError("--older-than '\(olderThan)' is neither a duration (400d, 56w) nor a date (2025-11-01)")
            }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let now = Date()
            let cutoff = ReportDate.parseStart(olderThan, end: now) ?? now
            let store = try await Patchctl.History.existing(outputOptions.databasePath(environment: environment))
            let result = try store.prune(before: cutoff, dryRun: dryRun, user: LocalUser.current(environment: environment), now: now)
            try Output.print(one: result, as: outputOptions.output) { TableReport.prune(result) }
        }
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upgrade the history database to this version's schema now.",
            discussion: """
                Any recording command upgrades an older history when it first opens it; this does it on purpose, for
                example before a maintenance window. A history from before findings were stored as intervals is
                converted host by host in batches that each commit: an interrupted conversion resumes where it stopped.
                """)

        @OptionGroup var database: DatabaseOption

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let path = database.path(environment: Settings.environment)
            let started = Date()
            let store = try await Patchctl.History.existing(path)
            let migration = try store.schemaVersion() ?? "?"
            Terminal.write("\(store.path): schema '\(migration)' (\(String(format: "%.1f", Date().timeIntervalSince(started))) s)\n")
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy this SQLite history into an empty PostgreSQL history (or, with --merge, one holding another's), verified.",
            discussion: """
                --to postgres://USER@HOST[:PORT]/DATABASE[?sslmode=verify-full&sslrootcert=FILE] (verify-full is the \
                default; require, verify-ca and disable may be named). The password is never in the URL: it comes from \
                db_password_command (PATCHCTL_DB_PASSWORD_COMMAND), else PGPASSFILE or ~/.pgpass. The schema is created \
                (under an advisory lock), every table is copied in one transaction from one snapshot of the SQLite file, \
                read back and compared row for row; only then is it committed. The target must hold no runs yet, unless \
                --merge: then this history's runs are added to another controller's (no run, and no scanned or retired \
                host, may be in both; integer ids move past the target's; library entries and approvals both hold alike \
                are kept once; the target's own advisory feeds stay). Controllers recording into the target wait until it commits.
                """)

        @OptionGroup var outputOptions: OutputOptions

        @Option(help: ArgumentHelp("The PostgreSQL history: postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…].", valueName: "url"))
        var to: String

        @Flag(help: "Add this history to a PostgreSQL history that already holds another controller's.")
        var merge = false

        func validate() throws {
            do { _ = try PostgresLocation(url: to) } catch { throw ValidationError("--to: \(error)") }
        }

        @Sendable static func showProgress(_ table: String, _ index: Int, _ count: Int) async throws {
            Terminal.writeControl("\r\u{1B}[Kexporting \(table) (\(index)/\(count) tables)")
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let path = outputOptions.databasePath(environment: environment)
            let summary = try await PostgresHistory.with(try PostgresLocation(url: to), environment: environment) { history in
                // A year of a large fleet takes a while: a terminal sees which table is being copied.
                let progress: (@Sendable (String, Int, Int) async throws -> Void)? = Terminal.stderrIsTerminal ? Self.showProgress : nil
                defer { if Terminal.stderrIsTerminal { Terminal.writeControl("\r\u{1B}[K") } }
                return try await HistoryExport.run(source: path, to: history, user: LocalUser.current(environment: environment), merge: merge, stage: progress)
            }
            try Output.print(summary, items: summary.tables, as: outputOptions.output) { TableReport.export(summary) }
        }
    }
}
