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
public struct Engine: Sendable {
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
        // ssh_config first: it may change a host's address, user, keys and known_hosts file.
        var hosts = hosts
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
                resolved.append(.success(try credentials.resolve(host)))
            } catch {
                resolved.append(.failure(Self.classify(error)))
            }
        }
        let knownHosts: Result<KnownHosts, Failure>
        do {
            let loaded = try KnownHosts(path: options.knownHostsPath)
            // e.g. @cert-authority, wildcard or security-key lines: not checked, so say so once, with why.
            for (reason, lines) in Dictionary(grouping: loaded.skipped, by: \.reason).sorted(by: { $0.value[0].line < $1.value[0].line }) {
                options.logger.warning("known_hosts lines not used", metadata: [
                    "file": "\(loaded.path)", "lines": "\(lines.map { String($0.line) }.joined(separator: ","))", "reason": "\(reason)",
                ])
            }
            knownHosts = .success(loaded)
        } catch {
            knownHosts = .failure(Self.classify(error))
        }
        let policy: HostKeyPolicy = options.acceptNewHostKeys ? .acceptNew : .strict
        Self.raiseOpenFileLimit(toAtLeast: min(forks, hosts.count) + 64)
        let commandTimeout = options.commandTimeout
        let outputLimit = options.maxOutputBytes
        let gate = AsyncGate(limit: options.maxConnecting)
        let fallback = options.winRMFallback
        let logger = options.logger
        logger.debug("starting run", metadata: ["hosts": "\(hosts.count)", "forks": "\(forks)", "known_hosts": "\(options.knownHostsPath)"])

        return await withTaskGroup(of: (Int, Outcome).self) { group in
            var results = [Outcome?](repeating: nil, count: hosts.count)
            var next = 0
            func startNext() {
                guard next < hosts.count, shouldStart() else { return }
                let index = next
                next += 1
                let host = hosts[index]
                let credential = resolved[index]
                // Every host's task runs on the reactor thread that also watches its socket.
                group.addTask(executorPreference: Reactor.shared) {
                    let started = Date()
                    do {
                        let prepared = try credential.get()
                        logger.debug("connecting", metadata: ["host": "\(host.name)", "address": "\(host.address):\(host.port)"])
                        let connect: @Sendable () async throws -> any RemoteSession
                        if host.connection == .winrm {
                            let configuration = try WinRMSession.configuration(for: host, user: prepared.config.user, password: prepared.password,
                                                                               connectTimeout: prepared.config.connectTimeout)
                            connect = { WinRMSession(client: try WinRMClient(configuration)) }
                        } else {
                            let known = try knownHosts.get()
                            let ssh: @Sendable () async throws -> any RemoteSession = {
                                try await gate.pass { try await SSHSession.connect(prepared.config, knownHosts: known, policy: policy) }
                            }
                            if host.isWindows, fallback || host.vars["winrm_fallback"] == .bool(true) {
                                // Windows without (reachable) OpenSSH: the same host over WinRM, same password.
                                connect = {
                                    do {
                                        return try await ssh()
                                    } catch let error as SSHError {
                                        switch error {
                                        case .connect, .resolve:
                                            logger.info("OpenSSH unreachable, trying WinRM", metadata: ["host": "\(host.name)", "reason": "\(error)"])
                                            var winrmHost = host
                                            winrmHost.port = 22  // OpenSSH's port is not WinRM's
                                            let configuration = try WinRMSession.configuration(for: winrmHost, user: prepared.config.user,
                                                                                               password: prepared.password, connectTimeout: prepared.config.connectTimeout)
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
                                                        commandTimeout: commandTimeout, outputLimit: outputLimit, connect: connect)
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
            case .hostKeyUnknown, .hostKeyMismatch: status = .hostKeyMismatch
            case .hostKeyRevoked: status = .hostKeyRevoked
            case .authentication, .keyFile, .become: status = .authFailed
            case .knownHosts, .session, .transfer, .outputLimit: status = .error
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
