import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Approvals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Package versions waiting for (or given) approval under a policy.",
            subcommands: [List.self], defaultSubcommand: List.self)
    }
}

extension Patchctl.Approvals {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pending approvals (with --all, every decision too).")

        @Option(help: ArgumentHelp("Only this policy (name or file).", valueName: "policy"))
        var policy: String?

        @Flag(help: "Include approved and rejected versions.")
        var all = false

        @OptionGroup var outputOptions: OutputOptions

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let name = try policy.map { try PolicyOption.load($0, environment: environment).name }
            let records = try await HistoryStore.open(reading: outputOptions.databasePath(environment: environment), environment: environment)
                .approvals(policy: name, all: all)
            try Output.print(list: records, as: outputOptions.output) { records.isEmpty ? "nothing awaits approval\n" : TableReport.approvals(records) }
        }
    }
}
