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

        @Option(help: ArgumentHelp("History database (default $XDG_STATE_HOME/patchctl/patchctl.db, or PATCHCTL_DB).", valueName: "file"))
        var db: String?

        @Option(name: [.customLong("format"), .customLong("output")], help: ArgumentHelp("table, json, ndjson or csv.", valueName: "format"))
        var format: ReportFormat = .table

        func validate() throws {
            if format == .html { throw ValidationError("diff prints table, json, ndjson or csv") }
        }

        func run() async throws {
            do {
                let store = try HistoryStore(readOnly: db ?? HistoryStore.defaultPath(environment: ProcessInfo.processInfo.environment))
                let diff = try FindingsDiff.build(store: store, since: since, to: to)
                switch format {
                case .table, .html: Terminal.write(TableReport.diff(diff))
                case .json: Terminal.writeDocument(try JSONOutput.encode(diff, pretty: true) + "\n")
                case .ndjson: for host in diff.hosts { Terminal.writeDocument(try JSONOutput.encode(host, pretty: false) + "\n") }
                case .csv: Terminal.writeDocument(CSVReport.diff(diff))
                }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }
}
