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
        @OptionGroup var retry: RetryOptions

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
            if resume != nil && (policy != nil || ring != nil || dryRun || target.limit != nil || target.listHosts || retry.requested) {
                throw ValidationError("--resume repeats the recorded run: it takes no --policy, --ring, --limit, --dry-run, --list-hosts or --retry-failed")
            }
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let user = LocalUser.current(environment: environment)
            let store: HistoryStore
            let deployment: Deployment
            var resumable: ResumableRun?
            var retried: FailedRun?
            do {
                store = try HistoryStore(path: outputOptions.databasePath(environment: environment))
                var request: Deployment.Request
                if let resume {
                    let recorded = try store.deployRun(id: resume)
                    guard ![.finished, .halted, .waiting].contains(recorded.state) else {
                        throw PatchError.deploy(message: "run \(recorded.runId) is \(recorded.state.rawValue): nothing to resume")
                    }
                    guard let options = recorded.options, let decoded = try? StoreCodec.decode(Deployment.Request.self, from: options) else {
                        throw PatchError.deploy(message: "run \(recorded.runId) has no recorded deploy request")
                    }
                    request = decoded
                    request.forks = connection.forks
                    resumable = recorded
                } else {
                    let cwd = FileManager.default.currentDirectoryPath
                    let found = try PatchCore.Policy.find(policy ?? "", directories: PatchCore.Policy.searchDirectories(environment: environment, currentDirectory: cwd))
                    let absolute = found.file.hasPrefix("/") ? found.file : cwd + "/" + found.file
                    let sources = try target.inventoryPaths(environment: environment)
                    request = Deployment.Request(policy: absolute, inventory: sources[0], limit: target.limit,
                                                 ring: ring, ignoreWindow: now, forks: connection.forks, dryRun: dryRun, reason: reason)
                    request.moreInventories = sources.count > 1 ? Array(sources.dropFirst()) : nil
                }
                let loaded = try PatchCore.Policy.load(path: request.policy)
                if retry.requested {
                    let failed = try store.failedRun(retrying: .deploy, run: retry.run, policy: loaded.name)
                    (request.hosts, request.retryOf, retried) = (failed.hosts, failed.runId, failed)
                }
                deployment = try Deployment(request: request, policy: loaded)
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ExitCodes.fail(error)
            }
            if deployment.targetedHosts.isEmpty, let retried {
                if !quiet { Terminal.writeError("patchctl: \(retried.nothingToRetry(limit: target.limit))\n") }
                return
            }
            if target.listHosts {
                try await RunSetup.listHosts(deployment.targetedHosts, format: outputOptions.output, environment: environment, defaultUser: connection.user,
                                         sshConfig: connection.connectionOptions(environment: environment).sshConfig)
                return
            }
            if deployment.targetedHosts.isEmpty {
                if !quiet { Terminal.writeError("patchctl: policy \(deployment.policy.name) targets no hosts in this inventory\n") }
                return
            }
            if resumable == nil, !dryRun, let closed = deployment.closedWindowMessage(at: Date()) {
                if !quiet { Terminal.write(closed + "\n") }
                return
            }

            let format = outputOptions.output
            let stop = StopFlag()
            Self.watchSignals(stop: stop, quiet: quiet)
            let progress = Progress(total: deployment.targetedHosts.count, enabled: format == .table && !quiet && Terminal.stderrIsTerminal)
            let run: DeployRun
            do {
                run = try await deployment.execute(
                    store: store, connection: connection.connectionOptions(environment: environment), user: user,
                    version: PatchctlVersion.current, stop: stop, resume: resumable,
                    onHostFinished: { host in
                        if format == .ndjson { Terminal.streamDocument(host) }
                        progress.finished(host.name, ok: !host.countsAsFailure)
                    })
            } catch let PatchError.locked(policy, holder) {
                progress.clear()
                Terminal.writeErrorLine("\(PatchError.locked(policy: policy, holder: holder))")
                throw ExitCodes.locked
            } catch {
                progress.clear()
                throw ExitCodes.fail(error)
            }
            progress.clear()
            let changed = run.summary.installed > 0 || run.summary.rebooted > 0 || run.summary.failed > 0 || run.outcome == .halted || run.outcome == .interrupted
            if !quiet || changed || format != .table {
                try Terminal.write(run: run, hosts: run.hosts, format: format, hostsStreamed: true) { TableReport.deploy(run, details: details) }
            }
            // Results are printed first: when history failed, stdout is the record of what was done.
            if let historyError = run.historyError { throw ExitCodes.fail(historyError) }
            switch run.outcome {
            case .halted: throw ExitCodes.halted
            case .interrupted: throw ExitCodes.interrupted
            default: if run.summary.failed > 0 { throw ExitCodes.hostsFailed }
            }
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
