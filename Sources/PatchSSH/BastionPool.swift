import CLibSSH2
import Foundation

/// The jump hosts of one run: each bastion (each distinct chain of hops) is connected once, the
/// first time a target behind it needs it, shared by every target behind it, and closed by
/// `closeAll()` at the end of the run. A bastion that failed stays failed for the run: every
/// target behind it gets the same error, and none of them is contacted.
public actor BastionPool {
    /// One hop as the pool tells chains apart.
    public struct HopKey: Hashable, Sendable {
        public var user: String
        public var address: String
        public var port: Int
    }

    private final class Entry: Sendable {
        let task: Task<Bastion, any Error>
        init(_ task: Task<Bastion, any Error>) { self.task = task }
    }

    private let knownHosts: KnownHosts
    private let policy: HostKeyPolicy
    private let reactor: Reactor
    private let onConnect: @Sendable (String, Bastion) -> Void
    private var entries: [[HopKey]: Entry] = [:]
    private var closed = false

    /// `onConnect` sees each bastion once it is logged in (for the verbose log).
    public init(knownHosts: KnownHosts, policy: HostKeyPolicy, reactor: Reactor = .shared,
                onConnect: @escaping @Sendable (String, Bastion) -> Void = { _, _ in }) {
        self.knownHosts = knownHosts
        self.policy = policy
        self.reactor = reactor
        self.onConnect = onConnect
    }

    /// How errors and logs name a hop: `user@address:port`.
    public static func describe(_ config: SSHConfig) -> String {
        let host = config.address.contains(":") ? "[\(config.address)]" : config.address
        return "\(config.user)@\(host):\(config.port)"
    }

    /// The last bastion of `chain` (controller side first), connecting each hop not yet connected.
    /// Errors are `SSHError.jump` told for `target`.
    public func bastion(for chain: [SSHConfig], target: String) async throws -> Bastion {
        do {
            return try await bastion(for: chain)
        } catch let error as SSHError {
            throw error.behind(target)
        }
    }

    private func bastion(for chain: [SSHConfig]) async throws -> Bastion {
        precondition(!chain.isEmpty, "a jump chain has at least one hop")
        let key = chain.map { HopKey(user: $0.user, address: $0.address, port: $0.port) }
        if let entry = entries[key] {
            let bastion = try await entry.task.value
            // A bastion whose connection broke during the run is replaced once it is found dead.
            guard bastion.lostConnection != nil, !closed else { return bastion }
            if entries[key] === entry { entries[key] = nil }
            return try await self.bastion(for: chain)
        }
        if closed {
            throw SSHError.jump(host: "", hop: Self.describe(chain[chain.count - 1]), .session(
                host: chain[chain.count - 1].label, LibSSH2Error(code: LIBSSH2_ERROR_SOCKET_DISCONNECT, message: "the run is over", function: "bastion")))
        }
        let parent = Array(chain.dropLast())
        let config = chain[chain.count - 1]
        let (knownHosts, policy, reactor, onConnect) = (self.knownHosts, self.policy, self.reactor, self.onConnect)
        let task = Task(executorPreference: reactor) { () async throws -> Bastion in
            let via = parent.isEmpty ? nil : try await self.bastion(for: parent)
            let hop = Self.describe(config)
            let bastion = try await Bastion.connect(config, hop: hop, via: via, knownHosts: knownHosts, policy: policy, reactor: reactor)
            onConnect(hop, bastion)
            return bastion
        }
        let entry = Entry(task)
        entries[key] = entry
        return try await task.value
    }

    /// Closes every bastion (the deepest first, since their connections run through the others)
    /// and waits for them. Later requests fail.
    public func closeAll() async {
        closed = true
        for (_, entry) in entries.sorted(by: { $0.key.count > $1.key.count }) {
            if let bastion = try? await entry.task.value { await bastion.close() }
        }
    }
}
