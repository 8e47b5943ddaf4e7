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

        @Option(name: [.customLong("format"), .customLong("output")], help: ArgumentHelp("table, json, ndjson or csv.", valueName: "format"))
        var format: ReportFormat = .table

        func validate() throws {
            if format == .html { throw ValidationError("diff prints table, json, ndjson or csv") }
        }

        func run() async throws {
            let store = try HistoryStore(readOnly: database.path(environment: ProcessInfo.processInfo.environment))
            let diff = try FindingsDiff.build(store: store, since: since, to: to)
            // The JSON document carries its warnings; the other formats leave them to stderr.
            if format != .json { for warning in diff.warnings { Terminal.writeErrorLine("warning: " + warning) } }
            // CSV is the one format beside the usual three (html is refused above).
            guard let output = OutputFormat(rawValue: format.rawValue) else { return Terminal.writeDocument(CSVReport.diff(diff)) }
            try Output.print(diff, items: diff.hosts, as: output) { TableReport.diff(diff) }
        }
    }
}
