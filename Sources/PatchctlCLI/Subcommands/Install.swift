import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install an approved library package on the targeted hosts (pushed over SFTP, checksum-verified).")

        @Argument(help: ArgumentHelp("NAME@VERSION from the library.", valueName: "package"))
        var package: PackageVersion

        @OptionGroup var target: InventoryOptions
        @OptionGroup var connection: ConnectionFlags
        @OptionGroup var outputOptions: OutputOptions
        @OptionGroup var controller: ControllerOption

        @Flag(help: "Show what would happen; change nothing.")
        var dryRun = false

        @OptionGroup var retry: RetryOptions
        @OptionGroup var metrics: MetricsOptions
        @OptionGroup var notify: NotifyOptions

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let repository = try await LibraryOptions.repository(outputOptions)
            let records = try approvedRecords(in: repository)
            var connectionOptions = connection.connectionOptions(environment: environment)
            guard let prepared = try await RunSetup.prepare(
                kind: dryRun ? .installPlan : .install, target: target, output: outputOptions, environment: environment,
                options: "\(records[0].reference) dry_run=\(dryRun)", as: DeployHostRecord.self, controller: try controller.identity(environment: environment), defaultUser: connection.user,
                sshConfig: connectionOptions.sshConfig, retry: (.install, retry))
            else { return }
            connectionOptions.logger[metadataKey: "run_id"] = "\(prepared.recorder.runId)"
            connectionOptions.logger[metadataKey: "command"] = "install"
            connectionOptions.onPhase = prepared.progress.phase
            // Hosts behind a relay get the file from it (its inventory entry may be outside --limit).
            let relays = (try? Inventory.load(paths: target.inventoryPaths(environment: environment))).map { PackageInstaller.relays(for: prepared.hosts, in: $0) }
            let installer = PackageInstaller(engine: HostFanOut(options: connectionOptions), repository: repository, dryRun: dryRun,
                                             uploadProgress: { host, sent, size in prepared.progress.uploaded(host, sent: sent, size: size) },
                                             relays: relays ?? [:])
            let (results, finished, historyFailure) = await RunSetup.execute(prepared, format: outputOptions.output, logger: connectionOptions.logger) { onFinished in
                // One build per platform: each host gets the entry for its own family.
                await installer.install(records, on: prepared.hosts, forks: connection.forks, onHostFinished: onFinished)
            }
            let run = DeployRunRecord(runId: prepared.recorder.runId, policy: "install \(records[0].reference)", outcome: dryRun ? .planned : .finished,
                                dryRun: dryRun, startedAt: prepared.started, finishedAt: finished, rings: [], notes: [], hosts: results)
            metrics.write(run.metricsRun(as: dryRun ? .installPlan : .install), target: target, output: outputOptions)
            try await RunSetup.conclude(run, hosts: run.hosts, failed: run.summary.failed, historyFailure: historyFailure, format: outputOptions.output,
                                        announce: { code in
                await notify.announce(RunEnd(command: "install", runId: run.runId, policy: run.policy, exitCode: code,
                                             detail: run.noticeDetail, hosts: run.hosts, document: run, finishedAt: finished,
                                             changed: { run.changedHosts }), store: prepared.recorder.store)
            }) {
                TableReport.deploy(run, details: dryRun)
            }
        }

        /// The library's approved builds of one version of the package (one per platform).
        func approvedRecords(in repository: PackageRepository) throws -> [PackageRecord] {
            let any = try repository.find(name: package.name, version: package.version)
            let records = any.filter { $0.state == .approved }
            guard !records.isEmpty else {
                throw PatchError.repository(file: nil, message: any.isEmpty ? "no \(package.name)\(package.version.map { "@\($0)" } ?? "") in the library"
                    : "\(any.map { "\($0.reference) is \($0.state.rawValue)" }.joined(separator: ", ")): only approved packages install")
            }
            guard Set(records.map(\.version)).count == 1 else {
                throw PatchError.repository(file: nil, message: "\(package.name) has several approved versions: name one as \(package.name)@VERSION")
            }
            return records
        }
    }
}
