import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Discover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find the endpoints of a network: open SSH and WinRM ports, SSH banners and host keys, optionally the OS; record them and write an inventory.",
            discussion: """
                Sweeps only the networks given (CIDR, range a.b.c.d-e.f.g.h or a.b.c.d-h, address, or a file of them) with TCP \
                connects, at most --rate attempts in flight; no raw sockets, no root. On SSH ports it collects every host key type \
                the server offers, as ssh-keyscan does (key exchange only); on 5985/5986 it asks whether WS-Management answers and \
                which authentication schemes it offers. It never logs in unless --login is given. Every run is recorded in history: \
                hosts new since earlier sweeps, hosts gone, and host keys that changed (exit code 4) are reported. Public ranges wider \
                than a /16 are refused without --i-own-this-network; above 4,096 addresses a terminal asks first and a script must \
                pass --yes.
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case table, json, ndjson, yaml, ini
        }

        @Argument(help: ArgumentHelp("Networks, ranges, addresses, or files listing them.", valueName: "target"))
        var targets: [String]

        @Option(help: ArgumentHelp("Ports to probe: 5985 is WinRM over HTTP, 5986 over HTTPS, any other SSH (default 22,5985,5986).", valueName: "ports"))
        var ports = "22,5985,5986"

        @Option(help: ArgumentHelp("Connection attempts in flight at most (default 100; never more than --max-connecting).", valueName: "n"))
        var rate = 100

        @Option(help: ArgumentHelp("Seconds for each connection attempt, key exchange or WinRM probe (default 3).", valueName: "seconds"))
        var timeout = 3.0

        @Flag(help: "Log in to each SSH host found (credentials as for scan: --user, --private-key, ssh-agent) and detect its OS; host keys are checked against the ones just collected.")
        var login = false

        @Flag(name: .customLong("ports-only"), help: "Only find which ports accept a connection (as nmap -sT): no banner, no host keys, no WS-Management probe.")
        var portsOnly = false

        @Flag(name: .customLong("no-dns"), help: "Do not look up reverse DNS names (nor resolve --against's host names).")
        var noDNS = false

        @Option(help: ArgumentHelp("table, json, ndjson, yaml or ini (an Ansible inventory); default table.", valueName: "format"))
        var format: Format = .table

        @Option(name: [.customShort("o"), .customLong("output-file")], help: ArgumentHelp("Write the result to this file instead of stdout.", valueName: "file"))
        var outputFile: String?

        @Option(name: .customLong("known-hosts-out"), help: ArgumentHelp(
            "Write the collected host keys as known_hosts lines to this separate file (never into your known_hosts).", valueName: "file"))
        var knownHostsOut: String?

        @Flag(help: "Hash the host names in --known-hosts-out (as HashKnownHosts and ssh-keygen -H do).")
        var hash = false

        @Option(help: ArgumentHelp("Compare with this inventory: found hosts it lacks, and its hosts that were not found.", valueName: "inventory"))
        var against: String?

        @Flag(name: .customLong("i-own-this-network"), help: "Allow public ranges wider than a /16.")
        var iOwnThisNetwork = false

        @Flag(name: [.customShort("y"), .long], help: "Do not ask before sweeping more than 4,096 addresses.")
        var yes = false

        @OptionGroup var connection: ConnectionFlags
        @OptionGroup var database: DatabaseOption
        @OptionGroup var controller: ControllerOption

        var portList: [Int] {
            var seen = Set<Int>()
            return ports.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { seen.insert($0).inserted }
        }

        func validate() throws {
            let parts = ports.split(separator: ",", omittingEmptySubsequences: false)
            guard !parts.isEmpty, parts.allSatisfy({ Int($0.trimmingCharacters(in: .whitespaces)).map { (1...65535).contains($0) } ?? false }) else {
                throw ValidationError("--ports: a comma-separated list of port numbers 1-65535, not '\(ports)'")
            }
            guard (1...10_000).contains(rate) else { throw ValidationError("--rate must be 1-10000, not \(rate)") }
            guard timeout > 0, timeout <= 300 else { throw ValidationError("--timeout must be above 0 and at most 300 seconds") }
            if hash && knownHostsOut == nil { throw ValidationError("--hash applies to --known-hosts-out FILE") }
            if portsOnly && (login || knownHostsOut != nil) { throw ValidationError("--ports-only collects no host keys: it cannot --login or write --known-hosts-out") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let swept: DiscoveryTargets
            do {
                swept = try DiscoveryTargets.parse(targets, allowWidePublic: iOwnThisNetwork)
            } catch let error as DiscoveryTargetError {
                // What to sweep is the command line's: a usage error (64), before anything is touched.
                throw ValidationError(error.description)
            }
            let inFlight = min(rate, connection.maxConnecting, DiscoveryRunner.descriptorBudget())
            guard try confirm(swept, inFlight: inFlight) else { return }
            var request = DiscoveryRequest(targets: swept, ports: portList, rate: inFlight, timeout: timeout, reverseDNS: !noDNS, forks: connection.forks,
                                           portsOnly: portsOnly)
            if login {
                var options = connection.connectionOptions(environment: environment, defaultCommandTimeout: ConnectionFlags.scanCommandTimeout)
                options.logger[metadataKey: "command"] = "discover"
                request.login = options
            }
            // Loaded before anything is touched: a broken inventory must not cost a sweep.
            let inventory = try against.map { try Inventory.load(path: $0, environment: environment) }
            let store = try await HistoryStore.open(recording: database.path(environment: environment), controller: controller.identity(environment: environment),
                                                    environment: environment)
            let started = Date()
            let runId = try store.beginRun(kind: .discover, startedAt: started, inventory: against, hostPattern: nil,
                                           options: nil, version: PatchctlVersion.current)
            let progress = SweepProgress(total: swept.count, enabled: format == .table && outputFile == nil && Terminal.stderrIsTerminal)
            let outcome = await DiscoveryRunner(request: request).run(onProgress: progress.update)
            progress.clear()
            var run = DiscoveryRun(runId: runId, startedAt: started, finishedAt: Date(), targets: swept.labels, ports: portList,
                                   addressesSwept: swept.count, hosts: outcome.hosts)
            run.localErrors = outcome.localErrors
            run = try store.recordDiscovery(runId: runId, run, swept: swept, state: outcome.localErrors > 0 ? .incomplete : .finished)
            if let inventory, let against {
                run.against = InventoryComparison.build(inventory: inventory, label: against, found: run.hosts, swept: swept, resolveNames: !noDNS)
            }
            if let knownHostsOut {
                try KnownHostsExport.write(run.hosts, to: knownHostsOut, hashed: hash, runId: runId, date: run.finishedAt)
            }
            try write(run)
            for change in run.changes?.changedKeys ?? [] {
                Terminal.writeErrorLine("HOST KEY CHANGED: \(change.address) port \(change.port) \(change.type) was \(change.previousFingerprint) (run \(change.previousRun)), now \(change.fingerprint)")
            }
            if !(run.changes?.changedKeys.isEmpty ?? true) { throw ExitCodes.hostKeyChanged }
            if let first = outcome.firstLocalError {
                Terminal.writeErrorLine("\(outcome.localErrors) probe\(outcome.localErrors == 1 ? "" : "s") failed on this machine, so the sweep is incomplete (first: \(first))")
                throw ExitCodes.hostsFailed
            }
        }

        /// On a terminal, says what is about to happen; above the threshold, asks (or needs --yes).
        private func confirm(_ swept: DiscoveryTargets, inFlight: Int) throws -> Bool {
            let plan = "discover: \(swept.count) address\(swept.count == 1 ? "" : "es") × \(portList.count) port\(portList.count == 1 ? "" : "s"), "
                + "at most \(inFlight) connection attempts in flight, \(timeout.formatted()) s each"
            if Terminal.stderrIsTerminal { Terminal.writeError(plan + "\n") }
            guard swept.count > DiscoveryTargets.confirmationThreshold, !yes else { return true }
            guard Terminal.isInteractive else {
                throw ValidationError("\(swept.count) addresses is more than \(DiscoveryTargets.confirmationThreshold): pass --yes to sweep them without a question")
            }
            Terminal.writeError("Sweep \(swept.count) addresses? [y/N] ")
            let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
            if answer == "y" || answer == "yes" { return true }
            Terminal.writeError("patchctl: nothing swept\n")
            return false
        }

        private func write(_ run: DiscoveryRun) throws {
            let text: String
            switch format {
            case .table: text = TableReport.discovery(run)
            case .json: text = try JSONOutput.encode(run, pretty: true) + "\n"
            case .ndjson: text = try run.hosts.map { try JSONOutput.encode(RunLine(runId: run.runId ?? "", item: $0), pretty: false) + "\n" }.joined()
            case .yaml: text = DiscoveryInventory(run.hosts).yaml
            case .ini: text = DiscoveryInventory(run.hosts).ini
            }
            if let outputFile {
                try text.write(toFile: outputFile, atomically: true, encoding: .utf8)
            } else if format == .table {
                Terminal.write(text)
            } else {
                Terminal.writeDocument(text)
            }
        }
    }
}

/// `swept 300/1022 addresses · 12 found`, on stderr while the sweep runs; redrawn at most every 100 ms.
final class SweepProgress: @unchecked Sendable {
    private let total: Int
    private let enabled: Bool
    private let sink = Terminal.sink
    private let lock = NSLock()
    private var drawn = Date.distantPast

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func update(swept: Int, found: Int) {
        guard enabled else { return }
        let now = Date()
        lock.withLock {
            guard swept == total || now.timeIntervalSince(drawn) >= 0.1 else { return }
            drawn = now
            sink.write(Data("\r\u{1B}[Kswept \(swept)/\(total) addresses · \(found) found".utf8), to: .stderr)
        }
    }

    func clear() {
        guard enabled else { return }
        lock.withLock { sink.write(Data("\r\u{1B}[K".utf8), to: .stderr) }
    }
}

