import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Past runs from the history database.",
            subcommands: [List.self, Show.self, Events.self],
            defaultSubcommand: List.self)

        /// Documented range of `--last`.
        static let lastRange = 1...100_000
    }
}

extension Patchctl.History {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs, newest first.")

        @OptionGroup var outputOptions: OutputOptions

        @Option(help: "How many runs to list.")
        var last: Int = 20

        func validate() throws {
            try ConnectionFlags.check(last, in: Patchctl.History.lastRange, flag: "--last")
        }

        func run() async throws {
            let store = try HistoryStore(readOnly: outputOptions.databasePath(environment: ProcessInfo.processInfo.environment))
            let runs = try store.runs(limit: last)
            if let journal = store.pendingJournal {
                Terminal.writeError("patchctl: \(journal) holds records history could not take yet; the next recording command imports them\n")
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

        func run() async throws {
            let store = try HistoryStore(readOnly: outputOptions.databasePath(environment: ProcessInfo.processInfo.environment))
            let (id, kind) = try store.resolveRun(runId)
            let format = outputOptions.output
            if kind == .exec {
                let run = try store.execRun(id: id)
                try Output.print(run: run, hosts: run.hosts, as: format, streamed: false) { TableReport.exec(run) }
            } else if kind.isDeployment {
                let run = try store.deployRunReport(id: id)
                try Output.print(run: run, hosts: run.hosts, as: format, streamed: false) { TableReport.deploy(run, details: details) }
            } else {
                let run = try store.run(id: id)
                try Output.print(run: run, hosts: run.hosts, as: format, streamed: false) { TableReport.scan(run, details: details) }
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

        func run() async throws {
            let store = try HistoryStore(readOnly: outputOptions.databasePath(environment: ProcessInfo.processInfo.environment))
            let events = try store.events(limit: last, host: host, policy: policy)
            try Output.print(list: events, as: outputOptions.output) { events.isEmpty ? "no events recorded yet\n" : TableReport.events(events) }
        }
    }
}
