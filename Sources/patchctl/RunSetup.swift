import Foundation
import PatchCore

/// What every host-touching subcommand does before the first connection: read and validate the
/// inventory and pattern (nothing is contacted if they are wrong), open history, record the run.
enum RunSetup {
    struct Prepared<Record: HistoryRecord> {
        var hosts: [Host]
        var recorder: RunRecorder<Record>
        var started: Date
    }

    /// Runs the engine, streaming each finished host to history, NDJSON and the progress line;
    /// returns the results in inventory order once history has them all. When history could not
    /// be written the results are still returned, with the failure: print them, then `conclude`.
    static func execute<Record: HistoryRecord & Encodable>(
        _ prepared: Prepared<Record>, format: OutputFormat,
        work: (@escaping @Sendable (Record) -> Void) async -> [Record]
    ) async -> (results: [Record], finished: Date, historyFailure: HistoryWriteFailure?) {
        let recorder = prepared.recorder
        let progress = Progress(total: prepared.hosts.count, enabled: format == .table && Terminal.stderrIsTerminal)
        let results = await work { record in
            recorder.add(record)
            if format == .ndjson { Terminal.writeDocument(JSONOutput.encode(record, pretty: false) + "\n") }
            progress.finished(record.name, ok: record.status == .ok)
        }
        progress.clear()
        let finished = Date()
        do {
            try recorder.finish(at: finished)
            return (results, finished, nil)
        } catch let failure as HistoryWriteFailure {
            return (results, finished, failure)
        } catch {
            return (results, finished, HistoryWriteFailure(database: recorder.databasePath, journal: recorder.journal.path, cause: "\(error)", journaled: 0))
        }
    }

    /// After the results are printed: a history failure is the command's error (exit 1).
    static func conclude(_ failure: HistoryWriteFailure?) throws {
        if let failure { throw ExitCodes.fail(failure) }
    }

    /// The inventory path and the hosts --limit selects; nil when it selects none (a warning is
    /// printed). An invalid inventory or pattern exits 65.
    static func targets(_ target: InventoryOptions, environment: [String: String]) throws -> (inventory: String, hosts: [Host])? {
        let hosts: [Host]
        let inventory = try target.inventoryPath(environment: environment)
        do {
            hosts = try Inventory.load(path: inventory).select(target.limit)
        } catch {
            throw ExitCodes.fail(error)
        }
        if hosts.isEmpty {
            // An inventory without hosts fails to load; here --limit selected none of them.
            Terminal.writeError("patchctl: --limit '\(target.limit ?? "")' selects no host of the inventory\n")
            return nil
        }
        return (inventory, hosts)
    }

    /// Nil when --limit selects no host, or --retry-failed leaves none (a message is printed;
    /// nothing is recorded).
    static func prepare<Record: HistoryRecord>(
        kind: String, target: InventoryOptions, output: OutputOptions, environment: [String: String],
        options: String, as: Record.Type, retry: (kind: RetryKind, options: RetryOptions)? = nil
    ) throws -> Prepared<Record>? {
        guard let selected = try targets(target, environment: environment) else { return nil }
        let inventory = selected.inventory
        var hosts = selected.hosts
        do {
            let store = try HistoryStore(path: output.databasePath(environment: environment))
            if let retry, retry.options.requested {
                let failed = try store.failedRun(retrying: retry.kind, run: retry.options.run)
                hosts = failed.select(hosts)
                if hosts.isEmpty {
                    Terminal.writeError("patchctl: \(failed.nothingToRetry(limit: target.limit))\n")
                    return nil
                }
            }
            let started = Date()
            let runId = try store.beginRun(kind: kind, startedAt: started, inventory: inventory, hostPattern: target.limit,
                                           options: options, version: PatchctlVersion.current)
            return Prepared(hosts: hosts, recorder: RunRecorder(store: store, runId: runId), started: started)
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}
