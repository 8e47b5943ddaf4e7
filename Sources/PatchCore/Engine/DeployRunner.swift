import Foundation

public struct DeployOptions: Sendable {
    public var policy: Policy
    /// Hosts in flight at once (a ring's `max_parallel` can lower it).
    public var forks: Int
    /// Plan only: scan, decide, print the exact commands; change nothing on any host.
    public var dryRun: Bool
    /// `--now`: ignore the maintenance window.
    public var ignoreWindow: Bool
    /// `--ring NAME`: deploy only this ring (its gate is the operator's call).
    public var onlyRing: String?
    /// The local user, for the audit trail.
    public var user: String
    /// Relay hosts by inventory name, for bundles installed on hosts behind one.
    public var relays: [String: Host] = [:]
    public var now: @Sendable () -> Date
    /// Where audit events raised while a host is worked on (deferred, forced) go: the run's
    /// recorder, so that when history cannot be written they reach its journal like the hosts.
    /// Without one they are written to the store directly.
    public var recordEvent: (@Sendable (EventRecord) -> Void)?
    /// The synced advisory feeds the plan's scans are matched against (nil: none synced).
    public var advisories: AdvisoryIndex?

    public init(policy: Policy, forks: Int = 50, dryRun: Bool = false, ignoreWindow: Bool = false, onlyRing: String? = nil,
                user: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.policy = policy
        self.forks = forks
        self.dryRun = dryRun
        self.ignoreWindow = ignoreWindow
        self.onlyRing = onlyRing
        self.user = user
        self.now = now
    }
}

/// Policy-driven deployment: rings in order, each in rolling batches; per host a fresh scan,
/// the policy's selection and approvals, pre checks, the platform's own install of exact
/// versions, verification, post checks and a reboot that is waited for.
public struct DeployRunner: Sendable {
    public let engine: HostFanOut
    public let store: HistoryStore
    public let options: DeployOptions
    public let stop: StopFlag

    public init(engine: HostFanOut, store: HistoryStore, options: DeployOptions, stop: StopFlag = StopFlag()) {
        self.engine = engine
        self.store = store
        self.options = options
        self.stop = stop
    }

    var policy: Policy { options.policy }

    /// Splits the policy's hosts into its rings, in inventory order. A ring without targets takes
    /// every host no earlier ring took; hosts matched by no ring are returned apart.
    public static func assignRings(policy: Policy, inventory: Inventory, hosts: [Host]) throws -> (rings: [[Host]], unassigned: [Host]) {
        var taken = Set<String>()
        var rings: [[Host]] = []
        let policyHosts = Set(hosts.map(\.name))
        for ring in policy.rings {
            var members: [Host]
            if let targets = ring.targets {
                let chosen = Set(try inventory.select(targets).map(\.name))
                members = hosts.filter { chosen.contains($0.name) && !taken.contains($0.name) }
            } else {
                members = hosts.filter { !taken.contains($0.name) }
            }
            members = members.filter { policyHosts.contains($0.name) }
            taken.formUnion(members.map(\.name))
            rings.append(members)
        }
        return (rings, hosts.filter { !taken.contains($0.name) })
    }

    /// The zone a host's window is read in: its inventory `timezone`, else the policy's.
    public static func timeZone(of host: Host) throws -> TimeZone? {
        guard let value = host.vars["timezone"] else { return nil }
        guard case let .string(name) = value, let zone = TimeZone(identifier: name) else {
            throw PatchError.deploy(message: "\(host.name): inventory timezone \(value) is not an IANA time zone name (e.g. Europe/Berlin)")
        }
        return zone
    }

    /// Nil when the host may be worked on now; otherwise why not.
    public func windowClosed(for host: Host, at date: Date) -> String? {
        // A dry run plans regardless of the window (the plan says when the window opens).
        guard !options.ignoreWindow, !options.dryRun, let window = policy.window else { return nil }
        let zone: TimeZone?
        do {
            zone = try Self.timeZone(of: host)
        } catch {
            return "\(error)"
        }
        if window.contains(date, in: zone) { return nil }
        var reason = "outside the maintenance window"
        if let next = window.nextOpening(after: date, in: zone) { reason += " (next opens \(JSONOutput.timestamp(next.start)))" }
        return reason
    }

    /// Runs the rings. `previous` are hosts already done in this run (resume): they are not redone
    /// and count toward their ring's failures.
    public func run(rings: [[Host]], runId: String, previous: [DeployHostRecord] = [],
                    onHostFinished: @escaping @Sendable (DeployHostRecord) -> Void,
                    flush: () throws -> Void) async throws -> DeployRunner.Result {
        let gate = ApprovalGate(store: store, policy: policy, runId: runId, recordRequests: true, now: options.now)
        let done = Set(previous.filter { !$0.status.isLeftForResume }.map(\.name))
        var results = previous.filter { done.contains($0.name) }
        var reports: [RingReport] = []
        var notes: [String] = []
        var outcome: DeployOutcome = options.dryRun ? .planned : .finished
        var blocked = false
        for (index, ring) in policy.rings.enumerated() {
            let members = index < rings.count ? rings[index] : []
            let earlier = results.filter { $0.ring == ring.name }
            if let only = options.onlyRing, only != ring.name {
                reports.append(RingReport(name: ring.name, hosts: members.count, failed: 0, state: .skipped, note: "not selected (--ring \(only))"))
                continue
            }
            if blocked {
                reports.append(RingReport(name: ring.name, hosts: members.count, failed: 0, state: .notStarted))
                continue
            }
            let previousMembers = index > 0 && index - 1 < rings.count ? rings[index - 1].count : 0
            if index > 0, previousMembers > 0, options.onlyRing == nil, !options.dryRun, let wait = try ringGate(index: index) {
                reports.append(RingReport(name: ring.name, hosts: members.count, failed: 0, state: .waiting, note: wait))
                notes.append("ring \(ring.name) waits: \(wait)")
                if outcome == .finished { outcome = .waiting }
                blocked = true
                continue
            }
            var failures = earlier.filter(\.countsAsFailure).count
            var halted = false
            let todo = members.filter { !done.contains($0.name) }
            let forks = max(1, min(options.forks, ring.maxParallel ?? options.forks))
            for (batchIndex, batch) in ring.batches(of: todo).enumerated() {
                if stop.isStopped { break }
                let now = options.now()
                var runnable: [Host] = []
                for host in batch {
                    if let reason = windowClosed(for: host, at: now) {
                        var record = DeployHostRecord(host: host, status: .skipped, ring: ring.name, batch: batchIndex + 1, error: reason, startedAt: now, finishedAt: now)
                        record.steps = []
                        onHostFinished(record)
                        results.append(record)
                    } else if let deferral = try store.activeDeferral(host: host.name, policy: policy.name, at: now) {
                        var record = DeployHostRecord(host: host, status: .deferred, ring: ring.name, batch: batchIndex + 1, startedAt: now, finishedAt: now)
                        record.deferral = "deferred by \(deferral.createdBy) until \(JSONOutput.timestamp(deferral.until)): \(deferral.reason)"
                        onHostFinished(record)
                        results.append(record)
                    } else {
                        runnable.append(host)
                    }
                }
                let ringIndex = index
                let batchNumber = batchIndex + 1
                let outcomes = await engine.run(
                    hosts: runnable, forks: forks,
                    work: { connection in await deployHost(connection, ringIndex: ringIndex, batch: batchNumber, gate: gate, runId: runId) },
                    failed: { host, failure, started in
                        DeployHostRecord(host: host, status: failure.status, ring: ring.name, batch: batchNumber, error: failure.message,
                                   startedAt: started, finishedAt: Date())
                    },
                    onFinished: onHostFinished,
                    shouldStart: { !stop.isStopped })
                results += outcomes
                failures += outcomes.filter(\.countsAsFailure).count
                if stop.isStopped { break }
                // The share of the whole ring that may fail; exceeding it stops this ring and all later ones.
                if ring.shouldHalt(failures: failures, hosts: members.count) {
                    let percent = Double(failures) * 100 / Double(max(1, members.count))
                    halted = true
                    notes.append("ring \(ring.name) halted: \(failures) of \(members.count) hosts failed (" + String(format: "%.0f%%", percent)
                                 + ", max_fail_percent \(Self.number(ring.maxFailPercent)))")
                    break
                }
            }
            try flush()
            if stop.isStopped {
                reports.append(RingReport(name: ring.name, hosts: members.count, failed: failures, state: .interrupted))
                outcome = .interrupted
                blocked = true
                continue
            }
            reports.append(RingReport(name: ring.name, hosts: members.count, failed: failures, state: halted ? .halted : .ran))
            if halted {
                outcome = options.dryRun ? .planned : .halted
                blocked = true
            }
        }
        return DeployRunner.Result(outcome: outcome, rings: reports, notes: notes, hosts: results)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// Why ring `index` may not follow its predecessor yet (automatic progression only):
    /// the previous ring's last deployment halted, or its last change is still soaking.
    func ringGate(index: Int) throws -> String? {
        let ring = policy.rings[index]
        let previous = policy.rings[index - 1]
        if let health = try store.ringHealth(policy: policy.name, ring: previous.name) {
            if health.halted {
                return "ring \(previous.name) halted in run \(health.runId) (\(health.failed) of \(health.hosts) hosts failed)"
            }
        } else {
            return "ring \(previous.name) has not been deployed yet"
        }
        guard ring.soak > 0, let last = try store.lastInstall(policy: policy.name, ring: previous.name) else { return nil }
        let ends = last.addingTimeInterval(ring.soak)
        if options.now() < ends {
            return "ring \(previous.name) last changed \(JSONOutput.timestamp(last)); soak until \(JSONOutput.timestamp(ends))"
        }
        return nil
    }
}

extension DeployRunner {
    /// What a deploy run did as a whole (its hosts went to history one by one as they finished).
    public struct Result: Sendable {
        public var outcome: DeployOutcome
        public var rings: [RingReport]
        public var notes: [String]
        public var hosts: [DeployHostRecord]
    }
}
