import ArgumentParser
import Dispatch
import Foundation
import PatchCore
#if canImport(Glibc)
import Glibc
#endif

extension Patchctl {
    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install updates by policy: fresh scan, selection, approvals, rings, window, reboot.",
            discussion: """
                Exit codes: 0 done or nothing to do (also outside the window); 2 some hosts failed; \
                3 halted by a ring's max_fail_percent; 75 another run of this policy holds its lock; \
                130 interrupted (continue with --resume RUN); 64/65/1 as for every command.
                """)

        @Option(help: ArgumentHelp("Policy name (looked up in $PATCHCTL_POLICY_DIR, ./policies, /etc/patchctl/policies) or file.", valueName: "policy"))
        var policy: String?

        @OptionGroup var target: InventoryOptions
        @OptionGroup var connection: ConnectionFlags
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var controller: ControllerOption
        @OptionGroup var retry: RetryOptions
        @OptionGroup var metrics: MetricsOptions
        @OptionGroup var notify: NotifyOptions

        @Flag(help: "Print the plan (hosts, packages, exact commands) and change nothing.")
        var dryRun = false

        @Flag(help: "Ignore the policy's maintenance window.")
        var now = false

        @Option(help: ArgumentHelp("Deploy only this ring (its soak and the previous ring's health are your call).", valueName: "name"))
        var ring: String?

        @Option(help: ArgumentHelp("Continue an interrupted deployment.", valueName: "run"))
        var resume: String?

        @Option(help: ArgumentHelp("Why (change ticket...), kept with the run.", valueName: "text"))
        var reason: String?

        @Flag(help: "Print nothing unless something was done or failed (for cron).")
        var quiet = false

        @Flag(help: "In table output, list every planned and skipped package per host.")
        var details = false

        func validate() throws {
            if resume == nil && policy == nil { throw ValidationError("give --policy NAME (or --resume RUN)") }
            if resume != nil && (policy != nil || ring != nil || dryRun || !target.inventory.isEmpty || target.limit != nil || target.shard != nil
                                 || target.listHosts || retry.requested) {
                throw ValidationError("--resume repeats the recorded run with its own inventory: it takes no -i/--inventory, --policy, --ring, --limit, --shard, --dry-run, --list-hosts or --retry-failed")
            }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment),
                                                    controller: controller.identity(environment: environment), environment: environment)
            let started = try DeployJob.start(start(environment: environment), store: store)
            guard try await !stopsBeforeContact(started, environment: environment) else { return }
            let run = try await execute(started, store: store, environment: environment)
            metrics.write(run.metricsRun(as: run.dryRun ? .plan : .deploy), target: target, output: outputOptions, store: store)
            let changed = run.summary.installed > 0 || run.summary.rebooted > 0 || run.summary.failed > 0 || run.outcome == .halted || run.outcome == .interrupted
            if !quiet || changed || outputOptions.output != .table {
                try Output.print(run: run, hosts: run.hosts, as: outputOptions.output, streamed: true) { TableReport.deploy(run, details: details) }
            }
            // Results are printed first: when history failed, stdout is the record of what was done.
            if run.historyError != nil || run.summary.failed > 0 || run.outcome == .halted || run.outcome == .interrupted {
                RunSetup.reportFailures(run.hosts)
            }
            if run.outcome == .interrupted, !run.dryRun {
                // The database too when it was named: elsewhere the run is not found.
                Terminal.writeErrorLine("resume with: patchctl deploy --resume \(run.runId)" + (outputOptions.database.db.map { " --db " + Shell.quote($0) } ?? ""))
            }
            let exit: ExitCode? = if run.historyError != nil { .failure } else {
                switch run.outcome {
                case .halted: ExitCodes.halted
                case .interrupted: ExitCodes.interrupted
                default: run.summary.failed > 0 ? ExitCodes.hostsFailed : nil
                }
            }
            await notify.announce(RunEnd(command: "deploy", runId: run.runId, policy: run.policy, exitCode: exit?.rawValue ?? 0,
                                         detail: run.noticeDetail, hosts: run.hosts, document: run, finishedAt: run.finishedAt ?? Date(),
                                         changed: { run.changedHosts }),
                                  extra: started.deployment.policy.notify, store: store)
            if let historyError = run.historyError { throw historyError }
            if let exit { throw exit }
        }

        /// The request PatchCore resolves: `--resume RUN`, or the policy on the inventory.
        func start(environment: [String: String]) throws -> DeployJob.Start {
            let source: DeployJob.Start.Source = if let resume {
                .resume(run: resume)
            } else {
                .policy(policy ?? "", inventories: try target.inventoryPaths(environment: environment), limit: target.limit, ring: ring,
                        ignoreWindow: now, dryRun: dryRun, reason: reason, shard: target.shardValue)
            }
            return DeployJob.Start(source: source, forks: connection.forks, retryFailed: retry.requested, retryRun: retry.run,
                                    environment: environment, currentDirectory: FileManager.default.currentDirectoryPath)
        }

        /// True when nothing is to be contacted: no host left to retry or targeted, `--list-hosts`
        /// (they are listed), or outside the window (a message says so, unless --quiet).
        func stopsBeforeContact(_ started: DeployJob.Started, environment: [String: String]) async throws -> Bool {
            let deployment = started.deployment
            if deployment.targetedHosts.isEmpty, let retried = started.retried {
                if !quiet { Terminal.writeError("patchctl: \(retried.nothingToRetry(limit: target.limit))\n") }
                return true
            }
            if target.listHosts {
                try await RunSetup.listHosts(deployment.targetedHosts, format: outputOptions.output, environment: environment, defaultUser: connection.user,
                                         sshConfig: connection.connectionOptions(environment: environment).sshConfig)
                return true
            }
            if deployment.targetedHosts.isEmpty {
                if !quiet { Terminal.writeError("patchctl: policy \(deployment.policy.name) targets no hosts in this inventory\n") }
                return true
            }
            if started.resuming == nil, !dryRun, let closed = deployment.closedWindowMessage(at: Date()) {
                if !quiet { Terminal.write(closed + "\n") }
                return true
            }
            return false
        }

        /// Runs the deployment with the progress line, NDJSON streaming and signal handling.
        func execute(_ started: DeployJob.Started, store: HistoryStore, environment: [String: String]) async throws -> DeployRunRecord {
            let format = outputOptions.output
            let stop = StopFlag()
            Self.watchSignals(stop: stop, quiet: quiet)
            let progress = Progress(total: started.deployment.targetedHosts.count, enabled: format == .table && !quiet && Terminal.stderrIsTerminal)
            // The progress line is erased before anything else is printed, error or results.
            defer { progress.clear() }
            var options = connection.connectionOptions(environment: environment)
            options.onPhase = progress.phase
            progress.start()
            return try await started.deployment.execute(
                store: store, connection: options, user: LocalUser.current(environment: environment),
                version: PatchctlVersion.current, stop: stop, resume: started.resuming,
                onHostFinished: { host, runId in
                    if format == .ndjson { Output.line(host, runId: runId) }
                    progress.finished(host.name, ok: !host.countsAsFailure)
                })
        }

        /// SIGINT/SIGTERM stop new hosts from starting; package operations in flight finish.
        static func watchSignals(stop: StopFlag, quiet: Bool) {
            SignalRelay.install([SIGINT, SIGTERM]) { _ in
                if stop.stop() {
                    Terminal.writeError("\npatchctl: interrupted: no new hosts start; hosts in flight finish their package operation (never killed mid-transaction)\n")
                } else {
                    Terminal.writeError("\npatchctl: still waiting for package operations in flight; they are not interrupted\n")
                }
            }
        }
    }
}
