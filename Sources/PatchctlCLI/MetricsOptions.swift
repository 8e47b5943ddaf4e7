import ArgumentParser
import Foundation
import PatchCore

/// `--metrics-file` on the commands that record runs: after the run, whatever its exit code, the
/// fleet's state from history and this run's outcome as Prometheus metrics, for node_exporter's
/// textfile collector (docs/configuration.md "Metrics").
struct MetricsOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "After the run, write Prometheus metrics (the fleet's pending updates and compliance from history, this run's hosts by status) "
            + "to this file, atomically, for node_exporter's textfile collector (default PATCHCTL_METRICS_FILE). A failure to write it is a warning.",
        valueName: "file"))
    var metricsFile: String?

    func validate() throws {
        if metricsFile?.isEmpty == true { throw ValidationError("--metrics-file needs a file name") }
    }

    /// Writes the file when one was asked for. The fleet is the run's inventory (with several
    /// `-i`, every host in history), judged by the default standard. Nothing here changes the
    /// command's exit code: a failure is a warning on stderr.
    /// `store`: the run's own history (a PostgreSQL one is read through it).
    func write(_ run: MetricsReport.Run, target: InventoryOptions, output: OutputOptions, store: HistoryStore? = nil) {
        guard let metricsFile = metricsFile ?? Settings.string("PATCHCTL_METRICS_FILE") else { return }
        let environment = Settings.environment
        let inventories = (try? target.inventoryPaths(environment: environment)) ?? []
        let request = MetricsRequest(database: output.databasePath(environment: environment),
                                     inventory: inventories.count == 1 ? inventories[0] : nil, environment: environment)
        let report: MetricsReport
        do {
            report = try MetricsReport.build(request, current: run, store: store)
        } catch {
            // This run's failures still reach the file; the fleet's gauges are left out until history reads again.
            Terminal.writeErrorLine("warning: metrics: the fleet's state could not be read from history: \(error)")
            report = .runOnly(run, standard: request.standard, at: request.at, problem: "\(error)")
        }
        do {
            try MetricsFile.write(report.exposition(), to: metricsFile)
        } catch {
            Terminal.writeErrorLine("warning: \(error)")
        }
    }
}
