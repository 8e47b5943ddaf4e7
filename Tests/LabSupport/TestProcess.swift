import Foundation
import Subprocess
#if canImport(Glibc)
import Glibc
#endif

/// Runs a local program to completion for a test, on swift-subprocess: stdout and stderr are
/// collected at the same time (no pipe can fill up and stall the child), the wait is awaited
/// rather than blocking a thread of the shared pool, and what is kept is bounded.
public enum TestProcess {
    public struct Output: Sendable {
        /// The exit code, or 128 + the signal that killed the program (as a shell reports it).
        public var status: Int32
        public var stdout: String
        public var stderr: String

        /// stdout then stderr, for failure messages.
        public var combined: String { stdout + stderr }
    }

    /// `executable` is a path, or a name looked up in PATH. `environment` adds to (or overrides,
    /// or with nil removes from) this process's environment. `input` is written to stdin (else stdin is /dev/null).
    /// `timeout`: the program is killed, and `Failure` thrown, when it runs longer.
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String?] = [:],
                           workingDirectory: String? = nil, input: String? = nil, limit: Int = 64 << 20,
                           timeout: Duration? = nil) async throws -> Output {
        guard let timeout else {
            return try await collect(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: input, limit: limit)
        }
        let deadline = Deadline()
        let output = try await collect(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: input,
                                       limit: limit) { deadline.watch($0, for: timeout) }
        guard !deadline.end() else {
            throw HostileEndpoint.Failure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
        return output
    }

    /// Kills a program that outlives its time, judged on a thread of its own. Raced on the test
    /// process's shared threads (two on a 2-core machine, and hundreds of tests waiting for them),
    /// a timeout could win although the program had ended in time: the test CA's `openssl` was
    /// reported as "did not finish within 60 s" while those threads were held elsewhere.
    public final class Deadline: @unchecked Sendable {
        private let condition = NSCondition()
        private var ended = false
        private var killed = false
        /// The watch has decided: the program ended first, or the time ran out (and it was killed if it still ran).
        private var decided = false

        public init() {}

        /// Watches `pid`, a child of this process, for `timeout` from now.
        public func watch(_ pid: pid_t, for timeout: Duration) {
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            let until = Date(timeIntervalSinceNow: seconds)
            let thread = Thread { [self] in
                condition.lock()
                defer {
                    decided = true
                    condition.broadcast()
                    condition.unlock()
                }
                while !ended, condition.wait(until: until) {}
                guard !ended, Self.running(pid) else { return }
                killed = true
                kill(pid, SIGKILL)
            }
            thread.stackSize = 1 << 16
            thread.start()
        }

        /// The program's end was seen (its output is collected): the watch stops. Whether it was killed for overrunning.
        public func end() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            ended = true
            condition.broadcast()
            return killed
        }

        /// Blocks until the watch has decided; whether it killed the program. For tests of the watch itself.
        public func decision() -> Bool {
            condition.lock()
            defer { condition.unlock() }
            while !decided { condition.wait() }
            return killed
        }

        /// Whether `pid` (a child of this process) has not ended. Looked at without reaping it
        /// (swift-subprocess reaps it); once reaped, it is no child any more (ECHILD).
        static func running(_ pid: pid_t) -> Bool {
            var info = siginfo_t()
            guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return false }
            return info._sifields._sigchld.si_pid == 0
        }
    }

    private static func collect(_ executable: String, _ arguments: [String], environment: [String: String?],
                                workingDirectory: String?, input: String?, limit: Int,
                                started: @escaping @Sendable (pid_t) -> Void = { _ in }) async throws -> Output {
        let program: Executable = executable.contains("/") ? .path(.init(executable)) : .name(executable)
        let updates = Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) })
        let result = try await Subprocess.run(
            program, arguments: .init(arguments), environment: .inherit.updating(updates),
            workingDirectory: workingDirectory.map { .init($0) }, input: .string(input ?? ""),
            output: .bytes(limit: limit), error: .bytes(limit: limit)) { execution in started(execution.processIdentifier.value) }
        let status: Int32
        switch result.terminationStatus {
        case let .exited(code): status = Int32(code)
        case let .signaled(signal): status = 128 + Int32(signal)
        }
        return Output(status: status, stdout: String(decoding: result.standardOutput, as: UTF8.self),
                      stderr: String(decoding: result.standardError, as: UTF8.self))
    }

    /// `run`, failing unless the program exits 0; returns its stdout.
    @discardableResult
    public static func check(_ executable: String, _ arguments: [String] = [], environment: [String: String?] = [:],
                             workingDirectory: String? = nil, input: String? = nil, timeout: Duration? = nil) async throws -> String {
        let output = try await run(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: input,
                                   timeout: timeout)
        guard output.status == 0 else {
            throw HostileEndpoint.Failure("\(executable) \(arguments.joined(separator: " ")) exited \(output.status): \(output.combined)")
        }
        return output.stdout
    }
}
