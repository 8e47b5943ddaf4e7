import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Ping: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every targeted host: connect, verify its host key, log in, run `true` (through sudo with become).",
            discussion: """
                Ansible's `-m ping`. Each host is `ok` or has the precise failure (unreachable, \
                host_key_mismatch, host_key_unknown, auth_failed with sudo's refusal, timeout, failed). Changes nothing and \
                records nothing in history. Exit codes as for exec: 0 all ok, 2 some host failed.
                """)

        @OptionGroup var target: InventoryOptions
        @OptionGroup var connection: ConnectionFlags

        @Option(help: "Output format: table, json or ndjson.")
        var output: OutputFormat = .table

        /// A scan's (and ping's) own command timeout unless --command-timeout is given.
        func fanOutOptions(environment: [String: String]) -> ConnectionOptions {
            connection.connectionOptions(environment: environment, defaultCommandTimeout: ConnectionFlags.scanCommandTimeout)
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            guard let (_, hosts) = try RunSetup.targets(target, environment: environment) else { return }
            let format = output
            // --list-hosts contacts nothing, here as on every other command.
            if target.listHosts {
                try await RunSetup.listHosts(hosts, format: format, environment: environment, defaultUser: connection.user,
                                             sshConfig: connection.connectionOptions(environment: environment).sshConfig)
                return
            }
            let started = Date()
            let progress = Progress(total: hosts.count, enabled: format == .table && Terminal.stderrIsTerminal)
            var options = fanOutOptions(environment: environment)
            options.onPhase = progress.phase
            progress.start()
            let engine = PingRunner(engine: HostFanOut(options: options))
            let results = await engine.ping(hosts, forks: connection.forks) { result in
                if format == .ndjson { Output.line(result) }
                progress.finished(result.name, ok: result.status == .ok)
            }
            progress.clear()
            let run = PingRun(startedAt: started, finishedAt: Date(), hosts: results)
            // Ping records nothing: no history to fail.
            try await RunSetup.conclude(run, hosts: run.hosts, failed: run.summary.failed, historyFailure: nil, format: format) { TableReport.ping(run) }
        }
    }
}
