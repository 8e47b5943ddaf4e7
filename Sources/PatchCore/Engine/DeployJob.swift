import Foundation
import Logging

/// One `patchctl deploy`: which policy, inventory and hosts, resolved and validated before
/// anything is contacted; then the locked, recorded run.
public struct DeployJob: Sendable {
    /// How the deployment was asked for; stored with the run so `--resume` repeats it exactly.
    public struct Request: Codable, Sendable, Equatable {
        /// Absolute path of the policy file.
        public var policy: String
        /// The first inventory source (`-i`); `moreInventories` the others, merged in order.
        public var inventory: String
        public var moreInventories: [String]?
        public var limit: String?
        public var ring: String?
        public var ignoreWindow: Bool
        public var forks: Int
        public var dryRun: Bool
        public var reason: String?
        /// Only these hosts (inventory names) within the policy's targets and `limit`: the hosts
        /// that failed in run `retryOf` (`--retry-failed`). Nil: no such restriction.
        public var hosts: [String]?
        public var retryOf: String?
        /// `--shard K/N`: this controller's share of the targeted hosts (before rings are assigned).
        public var shard: Shard?

        public init(policy: String, inventory: String, limit: String? = nil, ring: String? = nil, ignoreWindow: Bool = false,
                    forks: Int = 50, dryRun: Bool = false, reason: String? = nil, hosts: [String]? = nil, retryOf: String? = nil) {
            self.policy = policy
            self.inventory = inventory
            self.limit = limit
            self.ring = ring
            self.ignoreWindow = ignoreWindow
            self.forks = forks
            self.dryRun = dryRun
            self.reason = reason
            self.hosts = hosts
            self.retryOf = retryOf
        }

        public var inventoryPaths: [String] { [inventory] + (moreInventories ?? []) }

        enum CodingKeys: String, CodingKey {
            case policy, inventory, limit, ring
            case moreInventories = "more_inventories"
            case ignoreWindow = "ignore_window"
            case forks
            case dryRun = "dry_run"
            case reason, hosts
            case retryOf = "retry_of"
            case shard
        }
    }

    public let request: Request
    public let policy: Policy
    /// The policy's targets (within `--limit`), in inventory order.
    public let hosts: [Host]
    /// `hosts` split into the policy's rings.
    public let rings: [[Host]]
    /// Targeted hosts that no ring takes (only when every ring names its targets).
    public let unassigned: [Host]
    /// Relay hosts the targeted hosts name (for `install:` bundles).
    public let relays: [String: Host]
    /// Names in the policy's `targets` this inventory has no host or group for (left out, noted).
    public let ignoredTargets: [String]

    public init(request: Request, policy: Policy) throws {
        self.request = request
        self.policy = policy
        let inventory = try Inventory.load(paths: request.inventoryPaths)
        var hosts: [Host]
        do {
            (hosts, ignoredTargets) = try inventory.selectTargets(policy.targets)
        } catch {
            // The pattern is the policy's: name the file it came from.
            throw PatchError.policy(file: policy.file, line: nil, column: nil, message: "'targets': \(error)")
        }
        if let limit = request.limit {
            let limited = Set(try inventory.select(limit).map(\.name))
            hosts = hosts.filter { limited.contains($0.name) }
        }
        if let shard = request.shard {
            hosts = shard.select(hosts)
        }
        if let only = request.hosts {
            let retried = Set(only)
            hosts = hosts.filter { retried.contains($0.name) }
        }
        if let ring = request.ring, !policy.rings.contains(where: { $0.name == ring }) {
            throw PatchError.deploy(message: "policy \(policy.name) has no ring '\(ring)' (rings: \(policy.rings.map(\.name).joined(separator: ", ")))")
        }
        self.hosts = hosts
        do {
            (rings, unassigned) = try DeployRunner.assignRings(policy: policy, inventory: inventory, hosts: hosts)
        } catch let error as PatchError {
            guard case .pattern = error else { throw error }
            throw PatchError.policy(file: policy.file, line: nil, column: nil, message: "a ring's 'targets': \(error)")
        }
        relays = PackageInstaller.relays(for: hosts, in: inventory)
    }

    /// The hosts this run would work on (`--ring` narrows it).
    public var targetedHosts: [Host] {
        guard let ring = request.ring, let index = policy.rings.firstIndex(where: { $0.name == ring }) else { return rings.flatMap { $0 } }
        return rings[index]
    }

    /// Nil when at least one targeted host's window is open (or the window is ignored); otherwise
    /// the message for the operator: nothing is contacted or recorded then.
    public func closedWindowMessage(at date: Date) -> String? {
        guard !request.ignoreWindow, let window = policy.window else { return nil }
        var next: Date?
        for host in targetedHosts {
            let zone = try? DeployRunner.timeZone(of: host)
            if window.contains(date, in: zone) { return nil }
            if let opening = window.nextOpening(after: date, in: zone)?.start { next = min(next ?? opening, opening) }
        }
        var message = "policy \(policy.name): outside its maintenance window; nothing done"
        if let next { message += " (next opens \(JSONOutput.timestamp(next)))" }
        return message
    }

    /// Runs (or, with `resume`, continues) the deployment and records it. Holds the policy's lock
    /// for the whole run, except for a dry run, which changes nothing.
    public func execute(store: HistoryStore, connection: ConnectionOptions, user: String, version: String,
                        stop: StopFlag = StopFlag(), resume: ResumableRun? = nil, now: @escaping @Sendable () -> Date = { Date() },
                        onHostFinished: @escaping @Sendable (_ host: DeployHostRecord, _ runId: String) -> Void = { _, _ in }) async throws -> DeployRunRecord {
        let started = now()
        var lock: PolicyLock?
        if !request.dryRun {
            // Shards of one policy are separate deployments: on one machine they must not block each other.
            lock = try PolicyLock(policy: policy.name + (request.shard.map { ".shard-\($0.index)-of-\($0.count)" } ?? ""), store: store,
                                  runDescription: "pid \(ProcessInfo.processInfo.processIdentifier), user \(user), since \(JSONOutput.timestamp(started))")
        }
        defer { withExtendedLifetime(lock) {} }
        let runId: String
        if let resume {
            runId = resume.runId
            try store.reopenRun(id: runId)
        } else {
            runId = try store.beginRun(kind: request.dryRun ? .plan : .deploy, startedAt: started, inventory: request.inventory,
                                       hostPattern: request.limit, options: StoreCodec.encode(request), version: version,
                                       policy: policy.name, user: user)
        }
        let recorder = RunRecorder<DeployHostRecord>(store: store, runId: runId, batchSize: 16)
        // The first write history refuses stops new hosts from starting: what is not recorded must not grow.
        store.onWriteFailure { _ in stop.stop() }
        var options = DeployOptions(policy: policy, forks: request.forks, dryRun: request.dryRun, ignoreWindow: request.ignoreWindow,
                                    onlyRing: request.ring, user: user, now: now)
        options.relays = relays
        options.recordEvent = { recorder.record(event: $0) }
        options.advisories = try AdvisoryIndex.open(store)
        var connection = connection
        connection.winRMFallback = connection.winRMFallback || policy.winrmFallback
        connection.logger[metadataKey: "run_id"] = "\(runId)"
        connection.logger[metadataKey: "command"] = "deploy"
        connection.logger[metadataKey: "policy"] = "\(policy.name)"
        let logger = connection.logger
        logger.info(resume == nil ? "run started" : "run resumed", metadata: ["hosts": "\(hosts.count)", "dry_run": "\(request.dryRun)"])
        let engine = DeployRunner(engine: HostFanOut(options: connection), store: store, options: options, stop: stop)
        var notes: [String] = []
        if !ignoredTargets.isEmpty {
            notes.append("targets: \(ignoredTargets.map { "'\($0)'" }.joined(separator: ", ")) matches no host or group of this inventory: left out")
        }
        if !unassigned.isEmpty {
            notes.append("\(unassigned.count) targeted host(s) belong to no ring and were left alone: \(unassigned.prefix(10).map(\.name).joined(separator: ", "))")
        }
        if request.dryRun, let closed = closedWindowMessage(at: started) {
            notes.append(closed.replacingOccurrences(of: "nothing done", with: "a real run now would change nothing"))
        }
        if let resume, resume.state != .interrupted {
            notes.append("resumed a run recorded as \(resume.state.rawValue)")
        }
        let result = try await engine.run(rings: rings, runId: runId, previous: resume?.hosts ?? [],
                                          onHostFinished: { host in
                                              recorder.add(host)
                                              onHostFinished(host, runId)
                                              var metadata: Logger.Metadata = ["host": "\(host.name)", "address": "\(host.address)", "status": "\(host.status.rawValue)",
                                                                               "installed": "\(host.installed.count)"]
                                              if let reason = host.failureReason { metadata["error"] = "\(reason)" }
                                              logger.log(level: host.status.isFailure ? .notice : .info, "host finished", metadata: metadata)
                                          },
                                          flush: { try recorder.flush() })
        notes += result.notes
        let finished = now()
        var results = result.hosts
        if result.outcome == .interrupted {
            // The targeted hosts never started are part of the run: listed (and recorded, so
            // `history show` lists them too) as not_started, which --resume starts.
            for host in notStarted(after: results, at: finished) {
                recorder.add(host)
                onHostFinished(host, runId)
                results.append(host)
            }
        }
        var run = DeployRunRecord(runId: runId, policy: policy.name, outcome: result.outcome, dryRun: request.dryRun, startedAt: started,
                            finishedAt: finished, rings: result.rings, notes: notes, hosts: Self.ordered(results, like: hosts))
        run.reason = request.reason
        logger.log(level: run.summary.failed > 0 || run.outcome == .halted ? .notice : .info, "run finished", metadata: [
            "outcome": "\(run.outcome.rawValue)", "hosts": "\(run.summary.hosts)", "failed": "\(run.summary.failed)", "installed": "\(run.summary.installed)",
        ])
        if !request.dryRun {
            let s = run.summary
            var detail = "\(run.outcome.rawValue): \(s.hosts) hosts, \(s.installed) packages installed, \(s.failedPackages) failed, \(s.failed) hosts failed"
            if let reason = request.reason { detail += "; reason: \(reason)" }
            recorder.record(event: EventRecord(at: finished, user: user, action: resume == nil ? .deploy : .resume,
                                               policy: policy.name, runId: runId, detail: detail))
        }
        do {
            let report = DeployRunSummary(outcome: run.outcome, dryRun: run.dryRun, rings: run.rings, notes: run.notes)
            try recorder.finish(at: finished, state: RunState(run.outcome), report: StoreCodec.encode(report))
        } catch let failure as HistoryWriteFailure {
            run.notes.append("history could not be written: no new host was started after the first failed write")
            run.historyError = failure
        }
        return run
    }

    /// The ring members (of the ring `--ring` names, or all) with no record in `results`.
    func notStarted(after results: [DeployHostRecord], at date: Date) -> [DeployHostRecord] {
        let recorded = Set(results.map(\.name))
        var left: [DeployHostRecord] = []
        for (index, members) in rings.enumerated() where index < policy.rings.count {
            let ring = policy.rings[index].name
            if let only = request.ring, only != ring { continue }
            for host in members where !recorded.contains(host.name) {
                left.append(DeployHostRecord(host: host, status: .notStarted, ring: ring, batch: 0,
                                             error: "not started: the run was interrupted first; deploy --resume starts it", startedAt: date, finishedAt: date))
            }
        }
        return left
    }

    /// Inventory order, whatever order hosts finished in.
    static func ordered(_ results: [DeployHostRecord], like hosts: [Host]) -> [DeployHostRecord] {
        let position = Dictionary(hosts.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        return results.sorted { (position[$0.name] ?? Int.max, $0.name) < (position[$1.name] ?? Int.max, $1.name) }
    }
}

/// What history keeps of a deploy run beside its hosts.
public struct DeployRunSummary: Codable, Sendable, Equatable {
    public var outcome: DeployOutcome
    public var dryRun: Bool
    public var rings: [RingReport]
    public var notes: [String]

    enum CodingKeys: String, CodingKey {
        case outcome
        case dryRun = "dry_run"
        case rings, notes
    }
}
