import ArgumentParser
import Foundation
import Logging
import PatchCore

/// What every host-touching subcommand does before the first connection: read and validate the
/// inventory and pattern (nothing is contacted if they are wrong), open history, record the run.
enum RunSetup {
    struct Prepared<Record: HistoryRecord> {
        var hosts: [Host]
        var recorder: RunRecorder<Record>
        var started: Date
        /// The status line on a terminal (table output): the engine tells it each host's phase
        /// through `ConnectionOptions.onPhase`.
        var progress: Progress
    }

    /// Runs the engine, streaming each finished host to history, NDJSON and the progress line;
    /// returns the results in inventory order once history has them all. When history could not
    /// be written the results are still returned, with the failure: `conclude` prints them.
    /// `logger` (with the run's `run_id`) gets the run's start, each host's end and the run's end,
    /// for --log-file and --syslog.
    static func execute<Record: HistoryRecord & Encodable & HostOutcome>(
        _ prepared: Prepared<Record>, format: OutputFormat, logger: Logger,
        work: (@escaping @Sendable (Record) -> Void) async -> [Record]
    ) async -> (results: [Record], finished: Date, historyFailure: HistoryWriteFailure?) {
        let recorder = prepared.recorder
        let progress = prepared.progress
        progress.start()
        logger.info("run started", metadata: ["hosts": "\(prepared.hosts.count)"])
        let results = await work { record in
            recorder.add(record)
            if format == .ndjson { Output.line(record, runId: recorder.runId) }
            progress.finished(record.name, ok: record.status == .ok)
            RunSetup.log(record, to: logger)
        }
        progress.clear()
        let finished = Date()
        let failed = results.filter(\.status.isFailure).count
        logger.log(level: failed > 0 ? .notice : .info, "run finished",
                   metadata: ["hosts": "\(results.count)", "failed": "\(failed)", "duration_s": "\(Int(finished.timeIntervalSince(prepared.started).rounded()))"])
        do {
            try recorder.finish(at: finished)
            return (results, finished, nil)
        } catch let failure as HistoryWriteFailure {
            return (results, finished, failure)
        } catch {
            return (results, finished, HistoryWriteFailure(database: recorder.databasePath, journal: recorder.journal.path, cause: "\(error)", journaled: 0))
        }
    }

    /// Prints a finished run (its hosts were streamed as NDJSON already), then ends as it went:
    /// a history failure is the command's error (exit 1; stdout is the record of what was done),
    /// else any failed host exits 2.
    /// `announce` gets the exit code before it is taken, for the notifiers.
    static func conclude<Run: Encodable, Record: Encodable & HostOutcome>(
        _ run: Run, hosts: [Record], failed: Int, historyFailure: HistoryWriteFailure?, format: OutputFormat,
        announce: (Int32) async -> Void = { _ in }, table: () -> String
    ) async throws {
        try Output.print(run: run, hosts: hosts, as: format, streamed: true, table: table)
        if historyFailure != nil || failed > 0 { reportFailures(hosts) }
        await announce(historyFailure != nil ? ExitCode.failure.rawValue : failed > 0 ? ExitCodes.hostsFailed.rawValue : 0)
        if let historyFailure { throw historyFailure }
        if failed > 0 { throw ExitCodes.hostsFailed }
    }

    /// One host's end, as the log destinations keep it (a failure at notice, with its reason: below
    /// stderr's warning level, where the failure summary says it already).
    static func log(_ host: some HostOutcome, to logger: Logger) {
        var metadata: Logger.Metadata = ["host": "\(host.name)", "address": "\(host.address)", "status": "\(host.status.rawValue)"]
        if let reason = host.failureReason { metadata["error"] = "\(reason)" }
        logger.log(level: host.status.isFailure ? .notice : .info, "host finished", metadata: metadata)
    }

    /// Before a non-zero exit: one line per failed host on stderr, whatever the format on stdout,
    /// so `--output json > file` from cron still mails who failed and why.
    static func reportFailures(_ hosts: [some HostOutcome]) {
        let failed = hosts.filter(\.status.isFailure)
        guard !failed.isEmpty else { return }
        Terminal.writeErrorLine("\(failed.count) of \(hosts.count) host\(hosts.count == 1 ? "" : "s") failed:")
        for host in failed { Terminal.writeErrorLine("  " + host.failureLine) }
    }

    /// `--list-hosts`: the targeted hosts as patchctl would reach them; nothing is contacted.
    /// With ssh_config on, its answer (address, port, user, jump chain) is what is listed; a host
    /// it refuses is listed as the inventory has it, with the reason on stderr.
    static func listHosts(_ hosts: [Host], format: OutputFormat, environment: [String: String], defaultUser: String? = nil,
                          sshConfig: SSHClientConfig? = nil) async throws {
        var hosts = hosts
        if let sshConfig {
            let resolution = await sshConfig.resolve(hosts, flagUser: defaultUser, flagPrivateKey: nil)
            for (index, result) in resolution.hosts.enumerated() {
                switch result {
                case let .success(host): hosts[index] = host
                case let .failure(error): Terminal.writeError("patchctl: \(hosts[index].name): \(error)\n")
                }
            }
        }
        let listing = HostListing.of(hosts, defaultUser: defaultUser, environment: environment)
        try Output.print(HostListing.Document(hosts: listing), items: listing, as: format) { TableReport.hostListing(listing) }
    }

    /// The inventory sources and the hosts --limit selects; nil when it selects none (a warning is
    /// printed). An invalid inventory or pattern exits 65.
    static func targets(_ target: InventoryOptions, environment: [String: String]) throws -> (inventory: String, hosts: [Host])? {
        let sources = try target.inventoryPaths(environment: environment)
        let inventory = sources.joined(separator: ", ")
        let selected = try Inventory.load(paths: sources).select(target.limit)
        if selected.isEmpty {
            // An inventory without hosts fails to load; here --limit selected none of them.
            Terminal.writeError("patchctl: --limit '\(target.limit ?? "")' selects no host of the inventory\n")
            return nil
        }
        let hosts = target.shardValue.map { $0.select(selected) } ?? selected
        if hosts.isEmpty, let shard = target.shardValue {
            // Not an error: with more controllers than hosts some shards are empty.
            Terminal.writeError("patchctl: shard \(shard) holds none of the \(selected.count) targeted hosts\n")
            return nil
        }
        return (inventory, hosts)
    }

    /// Nil when --limit selects no host, --retry-failed leaves none, or with --list-hosts after
    /// listing them (a message is printed; nothing is recorded).
    static func prepare<Record: HistoryRecord>(
        kind: RunKind, target: InventoryOptions, output: OutputOptions, environment: [String: String],
        options: String, as: Record.Type, controller: RunController, defaultUser: String? = nil, sshConfig: SSHClientConfig? = nil,
        retry: (kind: RetryKind, options: RetryOptions)? = nil
    ) async throws -> Prepared<Record>? {
        guard let selected = try targets(target, environment: environment) else { return nil }
        let inventory = selected.inventory
        var hosts = selected.hosts
        var store: HistoryStore?
        if let retry, retry.options.requested {
            let opened = try await HistoryStore.open(recording: output.databasePath(environment: environment), controller: controller,
                                                     environment: environment)
            store = opened
            let failed = try opened.failedRun(retrying: retry.kind, run: retry.options.run)
            hosts = failed.select(hosts)
            if hosts.isEmpty {
                Terminal.writeError("patchctl: \(failed.nothingToRetry(limit: target.limit))\n")
                return nil
            }
        }
        if target.listHosts {
            try await listHosts(hosts, format: output.output, environment: environment, defaultUser: defaultUser, sshConfig: sshConfig)
            return nil
        }
        let history: HistoryStore
        if let store {
            history = store
        } else {
            history = try await HistoryStore.open(recording: output.databasePath(environment: environment), controller: controller,
                                                  environment: environment)
        }
        let started = Date()
        let runId = try history.beginRun(kind: kind, startedAt: started, inventory: inventory, hostPattern: target.limit,
                                         options: options, version: PatchctlVersion.current)
        return Prepared(hosts: hosts, recorder: RunRecorder(store: history, runId: runId), started: started,
                        progress: Progress(total: hosts.count, enabled: output.output == .table && Terminal.stderrIsTerminal))
    }
}
