/// The commands `--retry-failed` works for, and the recorded run kinds each one retries.
public enum RetryKind: String, Sendable, CaseIterable {
    case scan, exec, deploy, install

    /// Run kinds in history this command's `--retry-failed RUN` accepts (a deploy or install
    /// dry run, kinds `plan` and `install-plan`, may be named too).
    public var acceptedRunKinds: [RunKind] {
        switch self {
        case .scan: return [.scan]
        case .exec: return [.exec]
        case .deploy: return [.deploy, .plan]
        case .install: return [.install, .installPlan]
        }
    }

    /// The kind whose latest run `--retry-failed` without RUN retries.
    public var defaultRunKind: RunKind {
        switch self {
        case .scan: return .scan
        case .exec: return .exec
        case .deploy: return .deploy
        case .install: return .install
        }
    }
}

/// What `--retry-failed` retries: a recorded run and the hosts whose status in it was a failure
/// (`HostStatus.isFailure`: unreachable, auth_failed, host_key_mismatch, host_key_unknown, host_key_revoked, timeout,
/// failed, error; never ok, skipped, deferred or interrupted).
public struct FailedRun: Sendable, Equatable {
    public var runId: String
    public var kind: RunKind
    /// Inventory names, in the order history recorded them.
    public var hosts: [String]

    public init(runId: String, kind: RunKind, hosts: [String]) {
        self.runId = runId
        self.kind = kind
        self.hosts = hosts
    }

    /// The hosts of `candidates` (the inventory's, already narrowed by `--limit`) that failed in
    /// this run, in the candidates' order: a host gone from the inventory is not retried.
    public func select(_ candidates: [Host]) -> [Host] {
        let failed = Set(hosts)
        return candidates.filter { failed.contains($0.name) }
    }

    /// What to tell the operator when nothing is left to retry (exit 0).
    public func nothingToRetry(limit: String?) -> String {
        if hosts.isEmpty { return "run \(runId) (\(kind.rawValue)): no host failed; nothing to retry" }
        return "run \(runId) (\(kind.rawValue)): none of its \(hosts.count) failed host\(hosts.count == 1 ? "" : "s") is in the inventory"
            + (limit.map { " within --limit '\($0)'" } ?? "") + "; nothing to retry"
    }
}
