import Foundation
import PatchSSH

/// Runs commands on a Windows host over WinRM (WS-Management, MS-WSMV), for hosts without
/// OpenSSH. Each `run` is one remote shell's whole life: Create, Command, Receive until done,
/// Signal terminate, Delete, the last two also after errors, timeouts and cancellation, so no
/// shell is left behind on the host. HTTP connections are kept alive and reused between runs.
public final class WinRMClient: Sendable {
    public let configuration: Configuration
    private let pool: ConnectionPool
    /// Extra time a request may take beyond what the server was allowed to hold it.
    static let replyGrace: Double = 10

    public init(_ configuration: Configuration) throws(WinRMError) {
        try configuration.validate()
        self.configuration = configuration
        // A reply is at most one envelope; anything much larger is not a WS-Man reply.
        pool = ConnectionPool(configuration: configuration, maxResponseBytes: max(1 << 20, configuration.maxEnvelopeSize * 2))
    }

    /// Runs `command` (a cmd.exe command line; `arguments` are appended with spaces, as winrs does)
    /// and collects its output. `timeout` bounds everything up to the exit code; a non-zero exit
    /// is returned, not thrown. Throws `WinRMError` (or `CancellationError`).
    public func run(_ command: String, arguments: [String] = [], timeout: Double,
                    outputLimit: Int = OutputLimit.defaultBytes) async throws -> CommandResult {
        let label = configuration.label
        guard WSManRequest.representable(command), arguments.allSatisfy(WSManRequest.representable) else {
            throw WinRMError.configuration(host: label, message: "the command contains control characters XML cannot carry")
        }
        let started = Date()
        let deadline = started.addingTimeInterval(timeout)
        let connection = pool.take()
        defer { pool.give(connection) }

        let created = try await send(.create(codePage: configuration.codePage), on: connection, holding: configuration.operationTimeout,
                                     within: min(timeout, configuration.operationTimeout) + Self.replyGrace)
        guard let shellID = WSManResponse.shellID(in: created) else {
            throw WinRMError.malformedResponse(host: label, operation: "Create shell", message: "no ShellId")
        }
        var commandID: String?
        do {
            let launched = try await send(.command(shellID: shellID, command: command, arguments: arguments), on: connection,
                                         holding: configuration.operationTimeout, within: configuration.operationTimeout + Self.replyGrace)
            guard let id = WSManResponse.commandID(in: launched) else {
                throw WinRMError.malformedResponse(host: label, operation: "Command", message: "no CommandId")
            }
            commandID = id
            var output = WSManResponse.Output()
            while !output.done {
                let remaining = deadline.timeIntervalSinceNow
                if remaining <= 0 { throw WinRMError.timeout(host: label, phase: "command", seconds: timeout) }
                // The server holds a Receive until output arrives or this much time passes.
                let hold = min(configuration.operationTimeout, max(1, remaining))
                do {
                    let reply = try await send(.receive(shellID: shellID, commandID: id), on: connection, holding: hold,
                                               within: hold + Self.replyGrace)
                    let part: WSManResponse.Output
                    do {
                        part = try WSManResponse.output(in: reply, commandID: id)
                    } catch {
                        throw WinRMError.malformedResponse(host: label, operation: "Receive", message: error.message)
                    }
                    output.stdout += part.stdout
                    output.stderr += part.stderr
                    for (name, stream) in [("stdout", output.stdout.count), ("stderr", output.stderr.count)] where stream > outputLimit {
                        throw WinRMError.outputLimit(host: label, stream: name, limit: outputLimit)
                    }
                    output.done = part.done
                    output.exitCode = part.exitCode
                } catch let WinRMError.fault(_, _, fault) where fault.isOperationTimeout {
                    continue  // no output within the hold time: the command still runs
                }
            }
            await cleanUp(connection, shellID: shellID, commandID: id)
            return CommandResult(
                exitStatus: Int32(truncatingIfNeeded: output.exitCode ?? -1),
                stdout: EndpointText.decode(output.stdout), stderr: EndpointText.decode(output.stderr),
                duration: Date().timeIntervalSince(started))
        } catch {
            await cleanUp(connection, shellID: shellID, commandID: commandID)
            throw error
        }
    }

    /// Closes the idle kept-alive connections (WinRM has no session to log out of: every shell
    /// was already deleted). Runs after this still work, on new connections.
    public func close() async {
        for connection in pool.drain() { await connection.close() }
    }

    /// Signal terminate (stops a command still running and releases it), then Delete the shell.
    /// Runs detached so that a cancelled caller still cleans up; failures here are not reported
    /// (the command's own outcome is), and the host's idle timeout would reap the shell anyway.
    private func cleanUp(_ connection: HTTPConnection, shellID: String, commandID: String?) async {
        let budget = configuration.connectTimeout + Self.replyGrace
        let hold = min(configuration.operationTimeout, budget)
        await Task.detached { [self] in
            if let commandID {
                _ = try? await send(.signal(shellID: shellID, commandID: commandID), on: connection, holding: hold, within: budget)
            }
            _ = try? await send(.delete(shellID: shellID), on: connection, holding: hold, within: budget)
        }.value
    }
}

/// Idle keep-alive connections of one client; a run takes one, or a new one, and gives it back.
private final class ConnectionPool: @unchecked Sendable {
    // @unchecked: `idle` is only touched under `lock`.
    private let lock = NSLock()
    private var idle: [HTTPConnection] = []
    private let configuration: WinRMClient.Configuration
    private let maxResponseBytes: Int

    init(configuration: WinRMClient.Configuration, maxResponseBytes: Int) {
        self.configuration = configuration
        self.maxResponseBytes = maxResponseBytes
    }

    func take() -> HTTPConnection {
        lock.withLock { idle.popLast() } ?? HTTPConnection(
            url: configuration.endpoint, label: configuration.label, verification: configuration.certificateVerification,
            connectTimeout: configuration.connectTimeout, maxResponseBytes: maxResponseBytes)
    }

    /// Dropped connections close their sockets as their HTTP clients shut down.
    func drain() -> [HTTPConnection] {
        lock.withLock {
            defer { idle.removeAll() }
            return idle
        }
    }

    func give(_ connection: HTTPConnection) {
        lock.withLock { if idle.count < 4 { idle.append(connection) } }
    }
}
