import Foundation
import Subprocess

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
        return try await withThrowingTaskGroup(of: Output?.self) { group in
            group.addTask { try await collect(executable, arguments, environment: environment, workingDirectory: workingDirectory, input: input, limit: limit) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }  // a cancelled run kills its program (swift-subprocess's teardown)
            if let output = try await group.next() ?? nil { return output }
            throw HostileEndpoint.Failure("\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeout)")
        }
    }

    private static func collect(_ executable: String, _ arguments: [String], environment: [String: String?],
                                workingDirectory: String?, input: String?, limit: Int) async throws -> Output {
        let program: Executable = executable.contains("/") ? .path(.init(executable)) : .name(executable)
        let updates = Dictionary(uniqueKeysWithValues: environment.map { (Environment.Key(stringLiteral: $0.key), $0.value) })
        let result = try await Subprocess.run(
            program, arguments: .init(arguments), environment: .inherit.updating(updates),
            workingDirectory: workingDirectory.map { .init($0) }, input: .string(input ?? ""),
            output: .bytes(limit: limit), error: .bytes(limit: limit))
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
