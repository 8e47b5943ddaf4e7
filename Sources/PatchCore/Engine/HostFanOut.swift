import Foundation
import PatchSSH
#if canImport(Glibc)
import Glibc
private let RLIMIT_NOFILE_VALUE = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
#else
private let RLIMIT_NOFILE_VALUE = RLIMIT_NOFILE
#endif

/// Runs work on many hosts at once: one SSH connection per host, at most `forks` hosts in
/// flight, each host's outcome reported the moment it is known. One host's failure never
/// touches another's.
public struct HostFanOut: Sendable {
    public let options: ConnectionOptions

    public init(options: ConnectionOptions) {
        self.options = options
    }

    /// How a host's work ended when it did not produce a result.
    public struct Failure: Error, Sendable {
        public var status: HostStatus
        public var message: String
    }

    /// Calls `work` for each host with a logged-in connection. Results come back in `hosts` order;
    /// `onFinished` sees them in completion order (for streaming output and history). Once
    /// `shouldStart` says no (an interrupt), no further host starts; hosts in flight finish and
    /// the hosts never started are absent from the results.
    public func run<Outcome: Sendable>(
        hosts: [Host], forks: Int,
        work: @escaping @Sendable (HostConnection) async throws -> Outcome,
        failed: @escaping @Sendable (Host, Failure, Date) -> Outcome,
        onFinished: @escaping @Sendable (Outcome) -> Void,
        shouldStart: @escaping @Sendable () -> Bool = { true }
    ) async -> [Outcome] {
        // --become overrides the inventory; Windows hosts have no sudo (their account is the admin).
        var hosts = options.become ? hosts.map { host in
            var escalated = host
            escalated.become = !host.isWindows || host.become
            return escalated
        } : hosts
        // ssh_config first: it may change a host's address, user, keys and known_hosts file.
        var configured = [Failure?](repeating: nil, count: hosts.count)
        if let sshConfig = options.sshConfig {
            let resolution = await sshConfig.resolve(hosts, flagUser: options.defaultUser, flagPrivateKey: options.defaultPrivateKey)
            for (index, result) in resolution.hosts.enumerated() {
                switch result {
                case let .success(host):
                    hosts[index] = host
                    if host.connection == .ssh {
                        options.logger.debug("ssh_config applied", metadata: [
                            "host": "\(host.name)", "reader": "\(sshConfig.reader.rawValue)", "file": "\(sshConfig.path)",
                            "address": "\(host.address):\(host.port)", "user": "\(host.user ?? "-")",
                            "via": "\(host.proxyJump.map(\.description).joined(separator: ","))",
                        ])
                    }
                case let .failure(error):
                    configured[index] = Failure(status: .error, message: "\(hosts[index].name): \(error)")
                }
            }
            for warning in resolution.warnings { options.logger.warning("\(warning)") }
        }
        // Secrets are resolved up front and in order: prompts must not interleave with progress.
        let credentials = Credentials(options: options)
        var resolved: [Result<Credentials.Resolved, Failure>] = []
        for (index, host) in hosts.enumerated() {
            if let failure = configured[index] {
                resolved.append(.failure(failure))
                continue
            }
            do {
                resolved.append(.success(try await credentials.resolve(host)))
            } catch {
                resolved.append(.failure(Self.classify(error)))
            }
        }
        // Each known_hosts file once: the run's, and any a host's inventory or ssh_config names.
        var knownHostsFiles: [String: Result<KnownHosts, Failure>] = [:]
        func knownHostsFile(_ path: String) -> Result<KnownHosts, Failure> {
            if let loaded = knownHostsFiles[path] { return loaded }
            let result: Result<KnownHosts, Failure>
            do {
                let loaded = try KnownHosts(path: path)
                // e.g. @cert-authority, wildcard or security-key lines: not checked, so say so once, with why.
                for (reason, lines) in Dictionary(grouping: loaded.skipped, by: \.reason).sorted(by: { $0.value[0].line < $1.value[0].line }) {
                    options.logger.warning("known_hosts lines not used", metadata: [
                        "file": "\(loaded.path)", "lines": "\(lines.map { String($0.line) }.joined(separator: ","))", "reason": "\(reason)",
                    ])
                }
                result = .success(loaded)
            } catch {
                result = .failure(Self.classify(error))
            }
            knownHostsFiles[path] = result
            return result
        }
        // Flag > inventory: --known-hosts and --accept-new-host-keys beat a host's own settings.
        let hostKeys = hosts.map { host -> (known: Result<KnownHosts, Failure>, policy: HostKeyPolicy) in
            let path = options.knownHostsPathIsExplicit ? options.knownHostsPath : host.knownHostsFile ?? options.knownHostsPath
            var policy = HostKeyPolicy.strict
            if options.acceptNewHostKeys {
                policy = .acceptNew
            } else if let checking = host.hostKeyChecking {
                switch checking {
                case .strict: policy = .strict
                case .acceptNew: policy = .acceptNew
                case .off:
                    policy = .off
                    options.logger.warning("host key checking is off for this host, as its inventory or ssh_config asks: an unknown key is accepted unverified",
                                           metadata: ["host": "\(host.name)"])
                }
            }
            return (knownHostsFile(path), policy)
        }
        // The OpenSSH transport's ControlMaster sockets: one private folder per run, removed after it.
        let controlDirectory: Result<String, Failure> = hosts.contains { $0.connection == .openssh }
            ? Result { try OpenSSHSession.makeControlDirectory() }.mapError(Self.classify) : .success("")
        defer { if case let .success(folder) = controlDirectory, !folder.isEmpty { try? FileManager.default.removeItem(atPath: folder) } }
        // Jump hosts: resolved up front like the targets' secrets, shared through one pool per run.
        // The OpenSSH client transport passes its chain to ssh (-J) instead.
        var chains: [Result<[SSHConfig], Failure>] = []
        for host in hosts {
            if host.connection == .openssh {
                chains.append(.success([]))
                continue
            }
            do {
                chains.append(.success(try await Self.jumpChain(host, credentials)))
            } catch {
                chains.append(.failure(Self.classify(error)))
            }
        }
        let logger = options.logger
        // Bastions are checked against the run's known_hosts file with the run's policy (a target's
        // own known_hosts settings are its own).
        let runPolicy: HostKeyPolicy = options.acceptNewHostKeys ? .acceptNew : .strict
        let pool: BastionPool? = chains.contains(where: { (try? $0.get())?.isEmpty == false })
            ? (try? knownHostsFile(options.knownHostsPath).get()).map { known in
                BastionPool(knownHosts: known, policy: runPolicy) { hop, bastion in
                    logger.debug("bastion connected", metadata: ["hop": "\(hop)", "identity": "\(bastion.session.hostKeyFingerprint)"])
                }
            } : nil
        // A host behind a bastion holds both ends of a socketpair instead of one socket.
        Self.raiseOpenFileLimit(toAtLeast: min(forks, hosts.count) * (pool == nil ? 1 : 2) + 64)
        let commandTimeout = options.commandTimeout
        let outputLimit = options.maxOutputBytes
        let gate = AsyncGate(limit: options.maxConnecting)
        let fallback = options.winRMFallback
        let onPhase = options.onPhase
        logger.debug("starting run", metadata: ["hosts": "\(hosts.count)", "forks": "\(forks)", "known_hosts": "\(options.knownHostsPath)"])

        let outcomes = await withTaskGroup(of: (Int, Outcome).self) { group in
            var results = [Outcome?](repeating: nil, count: hosts.count)
            var next = 0
            func startNext() {
                guard next < hosts.count, shouldStart() else { return }
                let index = next
                next += 1
                let host = hosts[index]
                let credential = resolved[index]
                let (knownHosts, policy) = hostKeys[index]
                let chain = chains[index]
                // Every host's task runs on the reactor thread that also watches its socket.
                group.addTask(executorPreference: Reactor.shared) {
                    let started = Date()
                    onPhase?(host.name, .connecting)
                    do {
                        let prepared = try credential.get()
                        let hops = try chain.get()
                        // Which transport and path each host takes, so a verbose log tells a bastion problem from a target's.
                        let via = host.connection == .openssh
                            ? (host.proxyJump.isEmpty ? "direct" : "ssh -J " + host.proxyJump.map(\.description).joined(separator: ","))
                            : (hops.isEmpty ? "direct" : hops.map(BastionPool.describe).joined(separator: ","))
                        logger.debug("connecting", metadata: ["host": "\(host.name)", "address": "\(host.address):\(host.port)", "via": "\(via)",
                                                              "transport": "\(host.connection == .openssh ? "openssh (system ssh client)" : host.connection.rawValue)"])
                        let connect: @Sendable () async throws -> any RemoteSession
                        if host.connection == .winrm {
                            let configuration = try WinRMSession.configuration(for: host, user: prepared.config.user, password: prepared.password,
                                                                               connectTimeout: prepared.config.connectTimeout)
                            connect = { WinRMSession(client: try WinRMClient(configuration)) }
                        } else if host.connection == .openssh {
                            let controlDirectory = try controlDirectory.get()
                            let knownHostsPath = try knownHosts.get().path
                            connect = {
                                try await gate.pass {
                                    try await OpenSSHSession.connect(host: host, config: prepared.config, knownHostsPath: knownHostsPath,
                                                                     policy: policy, controlDirectory: controlDirectory,
                                                                     explicitUser: host.user ?? options.defaultUser,
                                                                     configFile: options.sshConfigDisabled ? "none" : options.sshConfig?.path)
                                }
                            }
                        } else {
                            let known = try knownHosts.get()
                            let ssh: @Sendable () async throws -> any RemoteSession = {
                                try await gate.pass {
                                    // Behind a bastion: a channel of its one shared connection, never a direct attempt.
                                    var via: Bastion?
                                    if !hops.isEmpty {
                                        guard let pool else { throw Failure(status: .error, message: "\(host.name): jump hosts need known_hosts") }
                                        via = try await pool.bastion(for: hops, target: host.name)
                                    }
                                    let session = try await SSHSession.connect(prepared.config, via: via, knownHosts: known, policy: policy)
                                    if session.addedHostKey {
                                        // Trust on first use is a decision the operator must see: which key, for what, where.
                                        logger.warning("added a new host key to known_hosts", metadata: [
                                            "host": "\(host.name)", "address": "\(host.address):\(host.port)",
                                            "fingerprint": "\(session.hostKeyFingerprint)", "known_hosts": "\(known.path)",
                                        ])
                                    }
                                    return session
                                }
                            }
                            // A host behind a bastion is never tried over WinRM: that would bypass the bastion.
                            if host.isWindows, hops.isEmpty, fallback || host.vars["winrm_fallback"] == .bool(true) {
                                // Windows without (reachable) OpenSSH: the same host over WinRM, same password.
                                connect = {
                                    do {
                                        return try await ssh()
                                    } catch let error as SSHError {
                                        switch error {
                                        case .connect, .resolve:
                                            logger.info("OpenSSH unreachable, trying WinRM", metadata: ["host": "\(host.name)", "reason": "\(error)"])
                                            let configuration = try WinRMSession.configuration(
                                                for: host, user: prepared.config.user, password: prepared.password,
                                                connectTimeout: prepared.config.connectTimeout, fallingBackFromOpenSSH: true)
                                            return WinRMSession(client: try WinRMClient(configuration))
                                        default:
                                            throw error
                                        }
                                    }
                                }
                            } else {
                                connect = ssh
                            }
                        }
                        let session = try await connect()
                        logger.debug("logged in", metadata: ["host": "\(host.name)", "user": "\(prepared.config.user)", "identity": "\(session.identity)"])
                        let connection = HostConnection(host: host, session: session, becomePassword: prepared.becomePassword,
                                                        commandTimeout: commandTimeout, outputLimit: outputLimit, connect: connect,
                                                        onPhase: onPhase)
                        do {
                            let outcome = try await work(connection)
                            await session.close()
                            return (index, outcome)
                        } catch {
                            await session.close()
                            throw error
                        }
                    } catch {
                        let failure = Self.classify(error)
                        logger.info("host failed", metadata: ["host": "\(host.name)", "status": "\(failure.status.rawValue)", "reason": "\(failure.message)"])
                        return (index, failed(host, failure, started))
                    }
                }
            }
            for _ in 0..<max(1, forks) { startNext() }
            while let (index, outcome) = await group.next() {
                results[index] = outcome
                onFinished(outcome)
                startNext()
            }
            return results.compactMap { $0 }
        }
        if let pool {
            await pool.closeAll()
            logger.debug("bastions closed")
        }
        return outcomes
    }

    /// The SSH logins of a host's jump hosts, controller side first; empty when it is reached directly.
    static func jumpChain(_ host: Host, _ credentials: Credentials) async throws -> [SSHConfig] {
        guard !host.proxyJump.isEmpty else { return [] }
        guard host.connection == .ssh else {
            throw Failure(status: .error, message: "\(host.name): jump hosts (proxy_jump) work over SSH only, not \(host.connection.rawValue)")
        }
        var chain: [SSHConfig] = []
        for hop in host.proxyJump { chain.append(try await credentials.resolve(hop: hop)) }
        return chain
    }

    /// One socket per host in flight: the usual soft limit of 1024 descriptors would cap `--forks`.
    static func raiseOpenFileLimit(toAtLeast needed: Int) {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0, limit.rlim_cur < rlim_t(needed) else { return }
        limit.rlim_cur = min(limit.rlim_max, max(rlim_t(needed), limit.rlim_cur))
        _ = setrlimit(RLIMIT_NOFILE_VALUE, &limit)
    }

    /// Maps any error to the host status a sysadmin filters on, with a one-line reason.
    static func classify(_ error: any Error) -> Failure {
        if let failure = error as? Failure { return failure }
        if let ssh = error as? SSHError {
            let status: HostStatus
            switch ssh {
            case .resolve, .connect, .handshake: status = .unreachable
            case .timeout: status = .timeout
            case .hostKeyUnknown: status = .hostKeyUnknown
            // Only a CA vouches for it, and patchctl does not check certificates: refused like a changed key.
            case .hostKeyMismatch, .hostKeyCertificateOnly: status = .hostKeyMismatch
            case .hostKeyRevoked: status = .hostKeyRevoked
            case .authentication, .keyFile, .become: status = .authFailed
            case .knownHosts, .session, .transfer, .outputLimit: status = .error
            case .tunnel: status = .unreachable
            // A bastion's failure is the target's, with the bastion named: its key, its login, its reach.
            case let .jump(_, _, inner): status = classify(inner).status
            }
            return Failure(status: status, message: ssh.description)
        }
        if let winrm = error as? WinRMError {
            switch winrm {
            case .connect: return Failure(status: .unreachable, message: winrm.description)
            case .timeout: return Failure(status: .timeout, message: winrm.description)
            case .authentication: return Failure(status: .authFailed, message: winrm.description)
            case let .fault(_, _, fault) where fault.subcode?.contains("AccessDenied") == true:
                return Failure(status: .authFailed, message: winrm.description)
            // A certificate that does not verify is WinRM's host-key mismatch: nothing was sent.
            case .tls: return Failure(status: .hostKeyMismatch, message: winrm.description)
            case .outputLimit: return Failure(status: .error, message: winrm.description)
            default: return Failure(status: .error, message: winrm.description)
            }
        }
        if let patch = error as? PatchError {
            if case .credential = patch { return Failure(status: .authFailed, message: patch.description) }
            return Failure(status: .error, message: patch.description)
        }
        return Failure(status: .error, message: String(describing: error))
    }
}
