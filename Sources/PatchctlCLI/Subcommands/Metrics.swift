import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Metrics: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print Prometheus metrics from history: pending updates per host and severity, scan times, compliance, each kind's last run.",
            discussion: """
                Nothing is contacted: the metrics are read from the history database, as `--metrics-file` writes them after \
                a run. --metrics-file FILE writes them to FILE atomically instead of stdout (a timer refreshing \
                node_exporter's textfile folder); there, a failure to write is the command's error (exit 1).
                """)

        @OptionGroup var database: DatabaseOption

        @Option(name: [.short, .long], help: ArgumentHelp(
            "Inventory: the fleet is its hosts, never scanned ones included (default PATCHCTL_INVENTORY; without one, every host in history).",
            valueName: "file"))
        var inventory: String?

        @Option(name: [.customShort("l"), .long], help: ArgumentHelp("Host pattern, as for scan.", valueName: "pattern"))
        var limit: String?

        @Option(help: ArgumentHelp("The compliance figures' standard: pci-dss, hipaa, sox, or a rule set file.", valueName: "standard"))
        var standard: String = ComplianceRequest.defaultStandard

        @Option(help: ArgumentHelp("Write the metrics to this file, atomically (a temporary file renamed over it), instead of stdout.",
                                   valueName: "file"))
        var metricsFile: String?

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let request = MetricsRequest(database: database.path(environment: environment), standard: standard,
                                         inventory: inventory ?? InventoryOptions.single(environment: environment),
                                         limit: limit, environment: environment)
            let store = PostgresLocation.isURL(request.database) ? try await HistoryStore.open(reading: request.database, environment: environment) : nil
            let text = try MetricsReport.build(request, store: store).exposition()
            // The exposition format escapes its label values itself (quote, backslash, newline): byte for byte.
            if let file = metricsFile { try MetricsFile.write(text, to: file) } else { Terminal.writeDocument(text) }
        }
    }
}
