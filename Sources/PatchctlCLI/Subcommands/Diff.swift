import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changed between two scans: new findings, findings gone, new versions (from history; nothing is contacted).")

        @Option(help: ArgumentHelp("'last' (the scan before the target) or a scan run id (unique prefix).", valueName: "last|run"))
        var since: String = "last"

        @Option(help: ArgumentHelp("The scan to compare (default: the newest).", valueName: "run"))
        var to: String?

        @OptionGroup var database: DatabaseOption

        @Option(name: [.short, .long], help: ArgumentHelp(
            "Only this inventory's hosts (default PATCHCTL_INVENTORY; without one, every host in history).", valueName: "file"))
        var inventory: String?

        @Option(name: [.customShort("l"), .long], help: ArgumentHelp("Host pattern, as for scan.", valueName: "pattern"))
        var limit: String?

        @Option(name: [.customLong("format"), .customLong("output")], help: ArgumentHelp("Output format.", valueName: "format"))
        var format: Format = .table

        /// The report formats but HTML, which a diff does not have: so --help lists only these.
        enum Format: String, CaseIterable, ExpressibleByArgument {
            case table, json, ndjson, csv
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let store = try await HistoryStore.open(reading: database.path(environment: environment), environment: environment)
            let scope = inventory ?? InventoryOptions.single(environment: environment)
            let diff = try FindingsDiff.build(store: store, since: since, to: to, inventory: scope, limit: limit, environment: environment)
            // The JSON document carries its warnings; the other formats leave them to stderr.
            if format != .json { for warning in diff.warnings { Terminal.writeErrorLine("warning: " + warning) } }
            // CSV is the one format beside the usual three.
            guard let output = OutputFormat(rawValue: format.rawValue) else { return Terminal.writeDocument(CSVReport.diff(diff)) }
            try Output.print(diff, items: diff.hosts, as: output) { TableReport.diff(diff) }
        }
    }
}
