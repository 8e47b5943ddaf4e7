import Foundation

/// Decides, per package version and ring, whether a deployment may install it, following the
/// policy's approval mode and the history of earlier rings. Decisions are cached for the run
/// (a hundred hosts asking about the same openssl ask the database once).
final class ApprovalGate: @unchecked Sendable {
    enum Decision: Equatable {
        case approved(String)
        case awaiting(String)
        case rejected(String)
    }

    private let store: HistoryStore
    private let policy: Policy
    private let runId: String
    private let recordRequests: Bool
    private let now: @Sendable () -> Date
    private let lock = NSLock()
    private var cache: [String: Decision] = [:]

    init(store: HistoryStore, policy: Policy, runId: String, recordRequests: Bool, now: @escaping @Sendable () -> Date) {
        self.store = store
        self.policy = policy
        self.runId = runId
        self.recordRequests = recordRequests
        self.now = now
    }

    func decide(_ update: PendingUpdate, ringIndex: Int) async throws -> Decision {
        let key = "\(ringIndex)\u{0}\(update.name)\u{0}\(update.availableVersion)"
        if let cached = lock.withLock({ cache[key] }) { return cached }
        let decision = try await OffReactor.run { try self.evaluate(update, ringIndex: ringIndex) }
        lock.withLock { cache[key] = decision }
        return decision
    }

    private func evaluate(_ update: PendingUpdate, ringIndex: Int) throws -> Decision {
        if policy.approval == .auto { return .approved("approval: auto") }
        let ring = policy.rings[ringIndex]
        let record = try store.approval(policy: policy.name, package: update.name, version: update.availableVersion)
        switch record?.state {
        case .rejected?:
            return .rejected("rejected by \(record?.decidedBy ?? "?")" + (record?.note.map { ": \($0)" } ?? ""))
        case .approved?:
            return .approved("approved by \(record?.decidedBy ?? "?")" + (record?.note.map { ": \($0)" } ?? ""))
        case .pending?, nil:
            break
        }
        if policy.approval == .afterTest {
            // The first ring is the test ring: it needs no approval, that is its purpose.
            guard ringIndex > 0 else { return .approved("approval: after_test (test ring)") }
            let previous = policy.rings[ringIndex - 1]
            let evidence = try store.ringEvidence(policy: policy.name, ring: previous.name, package: update.name, version: update.availableVersion)
            if evidence.failedHosts > 0 {
                return try awaiting(update, ring: ring, "failed on \(evidence.failedHosts) host(s) of ring \(previous.name): approve by hand to override")
            }
            guard evidence.installedHosts > 0, let last = evidence.lastInstalledAt else {
                return try awaiting(update, ring: ring, "not yet installed by ring \(previous.name)")
            }
            let soakEnds = last.addingTimeInterval(ring.soak)
            guard now() >= soakEnds else {
                return try awaiting(update, ring: ring, "soaking in ring \(previous.name) until \(JSONOutput.timestamp(soakEnds))")
            }
            return .approved("after_test: installed on \(evidence.installedHosts) host(s) of ring \(previous.name), no failures")
        }
        return try awaiting(update, ring: ring, "awaiting manual approval (patchctl approve --policy \(policy.name) \(update.name)@\(update.availableVersion))")
    }

    private func awaiting(_ update: PendingUpdate, ring: Ring, _ reason: String) throws -> Decision {
        if recordRequests {
            try store.requestApproval(policy: policy.name, package: update.name, version: update.availableVersion,
                                      ring: ring.name, runId: runId, at: now())
        }
        return .awaiting(reason)
    }
}
