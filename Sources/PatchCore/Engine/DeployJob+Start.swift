import Foundation

extension DeployJob {
    /// How `patchctl deploy` was asked to start: a new deployment of a policy, or `--resume RUN`
    /// repeating a recorded one; either may be narrowed to the hosts that failed in an earlier run.
    public struct Start: Sendable {
        public enum Source: Sendable {
            /// `policy` is a name (looked up in the policy directories) or a file.
            case policy(String, inventories: [String], limit: String?, ring: String?, ignoreWindow: Bool, dryRun: Bool, reason: String?,
                        shard: Shard? = nil)
            /// The run's recorded request is repeated; only `forks` is taken from this start.
            case resume(run: String)
        }

        public var source: Source
        public var forks: Int
        /// `--retry-failed`: whether asked, and which run (nil: the policy's latest).
        public var retryFailed: Bool
        public var retryRun: String?
        /// Where relative policy names and files are looked up.
        public var environment: [String: String]
        public var currentDirectory: String

        public init(source: Source, forks: Int, retryFailed: Bool = false, retryRun: String? = nil,
                    environment: [String: String], currentDirectory: String) {
            self.source = source
            self.forks = forks
            self.retryFailed = retryFailed
            self.retryRun = retryRun
            self.environment = environment
            self.currentDirectory = currentDirectory
        }
    }

    /// A deployment ready to execute, with the run it continues or the failed run it retries.
    public struct Started: Sendable {
        public var deployment: DeployJob
        /// Set for `--resume`: `execute(resume:)` continues it.
        public var resuming: ResumableRun?
        /// Set for `--retry-failed`.
        public var retried: FailedRun?
    }

    /// Resolves a start against history and the policy directories; nothing is contacted. A run
    /// that ended (finished, halted, waiting) or has no recorded request cannot be resumed.
    public static func start(_ start: Start, store: HistoryStore) throws -> Started {
        var request: Request
        var resuming: ResumableRun?
        switch start.source {
        case let .resume(run):
            let recorded = try store.deployRun(id: run)
            guard ![.finished, .halted, .waiting].contains(recorded.state) else {
                throw PatchError.deploy(message: "run \(recorded.runId) is \(recorded.state.rawValue): nothing to resume")
            }
            guard let options = recorded.options, let decoded = try? StoreCodec.decode(Request.self, from: options) else {
                throw PatchError.deploy(message: "run \(recorded.runId) has no recorded deploy request")
            }
            request = decoded
            request.forks = start.forks
            resuming = recorded
        case let .policy(name, inventories, limit, ring, ignoreWindow, dryRun, reason, shard):
            let cwd = start.currentDirectory
            let found = try Policy.find(name, directories: Policy.searchDirectories(environment: start.environment, currentDirectory: cwd))
            // Recorded absolute: `--resume` may run from another directory.
            let absolute = found.file.hasPrefix("/") ? found.file : cwd + "/" + found.file
            // Inventories too: the recorded request is repeated from wherever --resume is run.
            let inventories = inventories.map { $0.hasPrefix("/") ? $0 : URL(fileURLWithPath: $0, relativeTo: URL(fileURLWithPath: cwd, isDirectory: true)).standardizedFileURL.path }
            request = Request(policy: absolute, inventory: inventories.first ?? "", limit: limit,
                              ring: ring, ignoreWindow: ignoreWindow, forks: start.forks, dryRun: dryRun, reason: reason)
            request.moreInventories = inventories.count > 1 ? Array(inventories.dropFirst()) : nil
            request.shard = shard
        }
        let policy = try Policy.load(path: request.policy)
        var retried: FailedRun?
        if start.retryFailed {
            let failed = try store.failedRun(retrying: .deploy, run: start.retryRun, policy: policy.name)
            (request.hosts, request.retryOf, retried) = (failed.hosts, failed.runId, failed)
        }
        return Started(deployment: try DeployJob(request: request, policy: policy), resuming: resuming, retried: retried)
    }
}
