import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one command on every targeted host and record the outputs in history.",
            discussion: """
                Everything after `--` is the command, joined with spaces and interpreted by the remote \
                shell, exactly as `ssh host COMMAND` does. Exit code 2 when any host failed or the \
                command exited non-zero there.
                """)

        @OptionGroup var target: InventoryOptions
        @OptionGroup var connection: ConnectionFlags
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var controller: ControllerOption
        @OptionGroup var retry: RetryOptions
        @OptionGroup var metrics: MetricsOptions
        @OptionGroup var notify: NotifyOptions

        @Argument(parsing: .postTerminator, help: "The command, after `--`.")
        var command: [String] = []

        func validate() throws {
            guard !command.isEmpty || target.listHosts else { throw ValidationError("give the command after `--`, e.g. patchctl exec -i inv.yml -- uptime") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let line = command.joined(separator: " ")
            let options = ExecOptions(forks: connection.forks)
            // Built once: its logger opens --log-file and --syslog.
            var connectionOptions = connection.connectionOptions(environment: environment)
            guard let prepared = try await RunSetup.prepare(
                kind: .exec, target: target, output: outputOptions, environment: environment, options: line, as: ExecResult.self,
                controller: try controller.identity(environment: environment), defaultUser: connection.user, sshConfig: connectionOptions.sshConfig, retry: (.exec, retry))
            else { return }
            connectionOptions.logger[metadataKey: "run_id"] = "\(prepared.recorder.runId)"
            connectionOptions.logger[metadataKey: "command"] = "exec"
            connectionOptions.onPhase = prepared.progress.phase
            let engine = ExecRunner(engine: HostFanOut(options: connectionOptions))
            let (results, finished, historyFailure) = await RunSetup.execute(prepared, format: outputOptions.output, logger: connectionOptions.logger) { onFinished in
                await engine.exec(line, on: prepared.hosts, options: options, onHostFinished: onFinished)
            }
            let run = ExecRun(runId: prepared.recorder.runId, command: line, startedAt: prepared.started, finishedAt: finished, hosts: results)
            metrics.write(run.metricsRun, target: target, output: outputOptions, store: prepared.recorder.store)
            // patchctl cannot tell what a command changed: `changes` never fires for exec.
            try await RunSetup.conclude(run, hosts: run.hosts, failed: run.summary.failed, historyFailure: historyFailure, format: outputOptions.output,
                                        announce: { code in
                await notify.announce(RunEnd(command: "exec", runId: run.runId, exitCode: code, detail: "", hosts: run.hosts, document: run,
                                             finishedAt: finished, changed: { false }), store: prepared.recorder.store)
            }) {
                TableReport.exec(run)
            }
        }
    }
}
