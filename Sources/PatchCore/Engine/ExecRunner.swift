import Foundation

/// (`--become` is the connection's, `ConnectionOptions.become`: every command escalates alike.)
public struct ExecOptions: Sendable {
    public var forks: Int

    public init(forks: Int = 50) {
        self.forks = forks
    }
}

/// Ad-hoc commands: the same command on every host, for pre/post checks.
public struct ExecRunner: Sendable {
    public let engine: HostFanOut

    public init(engine: HostFanOut) {
        self.engine = engine
    }

    /// `command` is sent as written (like `ssh host COMMAND`): the remote shell interprets it.
    public func exec(_ command: String, on hosts: [Host], options: ExecOptions,
                     onHostFinished: @escaping @Sendable (ExecResult) -> Void = { _ in }) async -> [ExecResult] {
        return await engine.run(
            hosts: hosts, forks: options.forks,
            work: { connection in
                let started = Date()
                connection.entering(.running)
                let result = try await connection.run(command)
                let failed = result.exitStatus != 0 || result.exitSignal != nil
                return ExecResult(
                    name: connection.host.name, address: connection.host.address, port: connection.host.port,
                    user: connection.host.user, via: connection.host.via,
                    status: failed ? .failed : .ok,
                    error: result.exitSignal.map { "killed by signal \($0)" } ?? (failed ? "exit code \(result.exitStatus)" : nil),
                    exitCode: result.exitSignal == nil ? Int(result.exitStatus) : nil,
                    stdout: result.stdout, stderr: result.stderr, durationMs: Int(result.duration * 1000),
                    startedAt: started, finishedAt: Date())
            },
            failed: { host, failure, started in
                let finished = Date()
                return ExecResult(name: host.name, address: host.address, port: host.port, user: host.user, via: host.via, status: failure.status,
                                  error: failure.message, durationMs: Int(finished.timeIntervalSince(started) * 1000),
                                  startedAt: started, finishedAt: finished)
            },
            onFinished: onHostFinished)
    }
}
