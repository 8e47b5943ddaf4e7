import Foundation

/// `patchctl ping`, Ansible's `-m ping`: connect, check the host key, log in, run `true` on a
/// session channel (escalated through sudo when the host has `become`). Nothing is changed or recorded.
public struct PingRunner: Sendable {
    public let engine: HostFanOut

    public init(engine: HostFanOut) {
        self.engine = engine
    }

    /// `--become` is the engine's (`ConnectionOptions.become`), as for every command.
    public func ping(_ hosts: [Host], forks: Int,
                     onHostFinished: @escaping @Sendable (PingResult) -> Void = { _ in }) async -> [PingResult] {
        let options = engine.options
        return await engine.run(
            hosts: hosts, forks: forks,
            work: { connection in
                let started = Date()
                let host = connection.host
                // A login that cannot run a command (ForceCommand, a disabled shell) is not reachable for patchctl.
                let result = try await connection.run("true")
                let escalating = HostConnection.escalates(host: host, loginUser: connection.session.loginUser)
                var error: String?
                if result.exitStatus != 0 || result.exitSignal != nil {
                    let what = escalating ? "sudo -u \(host.becomeUser) true" : "true"
                    error = "\(what) " + (result.exitSignal.map { "was killed by signal \($0)" } ?? "exited \(result.exitStatus)")
                        + (result.stderr.trimmed.isEmpty ? "" : ": " + String(result.stderr.trimmed.prefix(500)))
                }
                let finished = Date()
                return PingResult(name: host.name, address: host.address, port: host.port, user: connection.session.loginUser,
                                  via: host.proxyJump.map(\.description), become: escalating, status: error == nil ? .ok : .failed,
                                  error: error, durationMs: Int(finished.timeIntervalSince(started) * 1000), startedAt: started, finishedAt: finished)
            },
            failed: { host, failure, started in
                let finished = Date()
                return PingResult(name: host.name, address: host.address, port: host.port,
                                  user: host.user ?? options.defaultUser ?? options.environment["USER"] ?? "root",
                                  via: host.proxyJump.map(\.description), become: host.become && !host.isWindows, status: failure.status,
                                  error: failure.message, durationMs: Int(finished.timeIntervalSince(started) * 1000), startedAt: started, finishedAt: finished)
            },
            onFinished: onHostFinished)
    }
}
