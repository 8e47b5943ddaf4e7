import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Scan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Discover pending updates on every targeted host and record them in history.")

        @OptionGroup var target: InventoryOptions
        @OptionGroup var connection: ConnectionFlags
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var controller: ControllerOption
        @OptionGroup var retry: RetryOptions
        @OptionGroup var metrics: MetricsOptions
        @OptionGroup var notify: NotifyOptions

        @Flag(help: "Refresh package metadata first (apt-get update; needs root or become).")
        var refresh = false

        @Flag(help: "In table output, list every pending update per host.")
        var details = false

        /// A scan's (and ping's) own command timeout unless --command-timeout is given.
        func fanOutOptions(environment: [String: String]) -> ConnectionOptions {
            connection.connectionOptions(environment: environment, defaultCommandTimeout: ConnectionFlags.scanCommandTimeout)
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            var options = ScanOptions(forks: connection.forks, refresh: refresh)
            // Built once: its logger opens --log-file and --syslog.
            var connectionOptions = fanOutOptions(environment: environment)
            guard let prepared = try await RunSetup.prepare(
                kind: .scan, target: target, output: outputOptions, environment: environment,
                options: "forks=\(options.forks) refresh=\(refresh)", as: HostScan.self, controller: try controller.identity(environment: environment), defaultUser: connection.user,
                sshConfig: connectionOptions.sshConfig, retry: (.scan, retry))
            else { return }
            // Matched against the feeds synced into the run's own history database.
            options.advisories = try AdvisoryIndex.open(prepared.recorder.store)
            let scanOptions = options
            connectionOptions.logger[metadataKey: "run_id"] = "\(prepared.recorder.runId)"
            connectionOptions.logger[metadataKey: "command"] = "scan"
            connectionOptions.onPhase = prepared.progress.phase
            let engine = ScanRunner(engine: HostFanOut(options: connectionOptions))
            let (results, finished, historyFailure) = await RunSetup.execute(prepared, format: outputOptions.output, logger: connectionOptions.logger) { onFinished in
                await engine.scan(prepared.hosts, options: scanOptions, onHostFinished: onFinished)
            }
            let run = ScanRun(runId: prepared.recorder.runId, startedAt: prepared.started, finishedAt: finished, hosts: results)
            metrics.write(run.metricsRun, target: target, output: outputOptions, store: prepared.recorder.store)
            let store = prepared.recorder.store
            try await RunSetup.conclude(run, hosts: run.hosts, failed: run.summary.failed, historyFailure: historyFailure, format: outputOptions.output,
                                        announce: { code in
                await notify.announce(RunEnd(
                    command: "scan", runId: run.runId, exitCode: code,
                    detail: "\(run.summary.updates) pending updates (\(run.summary.securityUpdates) security)", hosts: run.hosts,
                    document: run, finishedAt: finished, changed: { Self.changedSinceLastScan(run, store: store) }), store: store)
            }) {
                TableReport.scan(run, details: details)
            }
        }
    
        /// For `--notify-on changes`: findings new or gone, or versions changed, since each host's
        /// previous scan; a first scan changed something when it found anything.
        static func changedSinceLastScan(_ run: ScanRun, store: HistoryStore) -> Bool {
            guard let diff = try? FindingsDiff.build(store: store, since: "last", to: run.runId) else { return run.summary.updates > 0 }
            return diff.summary.added + diff.summary.removed + diff.summary.changed + diff.summary.newHosts > 0
        }
    }
}
