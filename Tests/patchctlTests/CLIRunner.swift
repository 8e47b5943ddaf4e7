import Foundation
import LabSupport
import Testing

/// Runs the real `patchctl` binary, as a sysadmin or a cron job would.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The signal that ended the process, nil when it exited.
        var signal: Int32? = nil
    }

    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary SwiftPM built next to this test bundle.
    static var binary: URL {
        let folder = Bundle.main.executableURL?.deletingLastPathComponent()
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return folder.appendingPathComponent("patchctl")
    }

    static func run(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil,
                    launcher: [String]? = nil) throws -> Result {
        finish(try start(arguments, environment: environment, currentDirectory: currentDirectory, launcher: launcher))
    }

    /// A started binary, for tests that signal it or overlap it with another run.
    struct Running {
        var process: Process
        var out: Pipe
        var err: Pipe
    }

    /// `launcher`: a command line to run instead of the binary, in the binary's environment (a
    /// pseudo-terminal driver that starts the binary itself).
    static func start(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil,
                      launcher: [String]? = nil) throws -> Running {
        let process = Process()
        process.executableURL = launcher.map { URL(fileURLWithPath: $0[0]) } ?? binary
        process.arguments = launcher.map { Array($0.dropFirst()) } ?? arguments
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = FileManager.default.temporaryDirectory.path
        // As root the default history is the machine's (/var/lib/patchctl): tests keep theirs in
        // the temporary HOME, as systemd's StateDirectory= would place it. No configuration file
        // of this machine's or this user's applies unless a test writes one.
        env["STATE_DIRECTORY"] = FileManager.default.temporaryDirectory.path + "/.local/state/patchctl"
        env["PATCHCTL_SYSTEM_CONFIG"] = "/nonexistent/patchctl-system-config.yml"
        env["PATCHCTL_CONFIG"] = "/nonexistent/patchctl-user-config.yml"
        env.removeValue(forKey: "SSH_AUTH_SOCK")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.currentDirectoryURL = currentDirectory ?? repository
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Running(process: process, out: out, err: err)
    }

    static func finish(_ running: Running) -> Result {
        // Read both pipes concurrently so neither fills up and blocks the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = running.err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = running.out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let ended = running.process.waitForTermination()
        return Result(status: ended.status, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), signal: ended.signaled ? ended.status : nil)
    }

    /// `run`, waited for on a thread of its own: a test that waits minutes for processes must not
    /// hold one of Swift Testing's few shared threads, or async tests elsewhere (WinRM's deadlines)
    /// stall behind it on a 2-core machine.
    static func runWaiting(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil) async throws -> Result {
        await finished(try start(arguments, environment: environment, currentDirectory: currentDirectory))
    }

    /// `finish`, waited for on a thread of its own (see `runWaiting`).
    static func finished(_ running: Running) async -> Result {
        nonisolated(unsafe) let running = running
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: finish(running)) }
        }
    }

    static let labEnv: [String: String] = {
        guard let text = try? String(contentsOf: repository.appendingPathComponent(".lab/lab.env"), encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return values
    }()

    static var labEnabled: Bool {
        !labEnv.isEmpty || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    static func lab(_ key: String) throws -> String {
        try #require(labEnv[key], "lab not running: \(key) missing from .lab/lab.env (run `make lab`)")
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
}

extension CLI {
    /// Takes turns with every other suite on the lab's deploy endpoints (slots and the reboot
    /// endpoint): the same flock on `.lab/deploy-endpoints.lock` as the PatchCore lab tests.
    static func withDeployEndpoints<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await withLabLock("deploy-endpoints.lock", body)
    }

    /// Holds `.lab/NAME` (flock), as the PatchCore lab tests do for the endpoint it names.
    static func withLabLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let path = try lab("LAB_DIR") + "/" + name
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0, "cannot open \(path)")
        defer { close(fd) }
        let deadline = Date().addingTimeInterval(900)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            try #require(Date() < deadline, "\(name) stayed held for 900 s")
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return try await body()
    }
}
