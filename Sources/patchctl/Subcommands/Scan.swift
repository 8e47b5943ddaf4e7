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

        @Flag(help: "Refresh package metadata first (apt-get update; needs root or become).")
        var refresh = false

        @Flag(help: "In table output, list every pending update per host.")
        var details = false

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let options = ScanOptions(forks: connection.forks, refresh: refresh)
            guard let prepared = try RunSetup.prepare(
                kind: "scan", target: target, output: outputOptions, environment: environment,
                options: "forks=\(options.forks) refresh=\(refresh)", as: HostScan.self)
            else { return }
            let (hosts, recorder, started, runId) = (prepared.hosts, prepared.recorder, prepared.started, prepared.recorder.runId)
            let progress = Progress(total: hosts.count, enabled: outputOptions.output == .table && Terminal.stderrIsTerminal)
            let format = outputOptions.output
            let engine = ScanEngine(engine: Engine(options: connection.connectionOptions(environment: environment)))
            let results = await engine.scan(hosts, options: options) { host in
                recorder.add(host)
                if format == .ndjson { Terminal.write(JSONOutput.encode(host, pretty: false) + "\n") }
                progress.finished(host.name, ok: host.status == .ok)
            }
            progress.clear()
            let finished = Date()
            do {
                try recorder.finish(at: finished)
            } catch {
                throw ExitCodes.fail(error)
            }

            let run = ScanRun(runId: runId, startedAt: started, finishedAt: finished, hosts: results)
            switch format {
            case .json: Terminal.write(JSONOutput.encode(run, pretty: true) + "\n")
            case .ndjson: break
            case .table: Terminal.write(TableReport.scan(run, details: details))
            }
            if run.summary.failed > 0 { throw ExitCodes.hostsFailed }
        }
    }
}

/// One self-erasing status line on stderr while hosts are in flight.
final class Progress: @unchecked Sendable {
    typealias Outcome = (name: String, ok: Bool)

    private let total: Int
    private let enabled: Bool
    private let lock = NSLock()
    private var done = 0
    private var failed = 0

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
        if enabled { Terminal.writeError("\r\u{1B}[K0/\(total) hosts done") }
    }

    func finished(_ name: String, ok: Bool) {
        guard enabled else { return }
        lock.lock()
        done += 1
        if !ok { failed += 1 }
        let line = "\r\u{1B}[K\(done)/\(total) hosts done" + (failed > 0 ? ", \(failed) failed" : "") + " (last: \(name))"
        lock.unlock()
        Terminal.writeError(line)
    }

    func clear() {
        if enabled { Terminal.writeError("\r\u{1B}[K") }
    }
}
