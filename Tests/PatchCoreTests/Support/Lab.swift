import Foundation
import Testing
@testable import PatchCore
import PatchSSH

/// The real endpoints `make lab` starts (lab/start.sh): OpenSSH's sshd on loopback, each session
/// chrooted into a debootstrapped Debian 12 tree. Settings come from `.lab/lab.env`.
enum Lab {
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let env: [String: String] = {
        guard let text = try? String(contentsOf: repository.appendingPathComponent(".lab/lab.env"), encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            values[String(line[..<equals])] = value
        }
        return values
    }()

    /// Lab tests run when the lab is up; under `make test` (PATCHCTL_REQUIRE_LAB=1) a missing lab fails them instead.
    static var enabled: Bool {
        !env.isEmpty || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    static func value(_ key: String) throws -> String {
        try #require(env[key], "lab not running: \(key) missing from .lab/lab.env (run `make lab`)")
    }

    static func port(_ key: String = "LAB_PORT") throws -> Int {
        try #require(Int(try value(key)))
    }

    static func host(_ name: String = "lab", address: String = "127.0.0.1", portKey: String = "LAB_PORT", keyKey: String = "LAB_KEY",
                     user: String = "root") throws -> Host {
        Host(name: name, address: address, port: try port(portKey), user: user, privateKeyFile: try value(keyKey))
    }

    /// A lab host logging in as a non-root account of the lab trees (LAB_SUDO_USER: sudo asks for
    /// LAB_SUDO_PASSWORD; LAB_NOPASSWD_USER: sudo NOPASSWD), escalating with `become`.
    static func becomeHost(_ name: String = "become", userKey: String = "LAB_SUDO_USER", portKey: String = "LAB_PORT",
                           becomeUser: String = "root", passwordEnv: String? = nil, passwordCommand: String? = nil) throws -> Host {
        var host = try self.host(name, portKey: portKey, user: try value(userKey))
        host.become = true
        host.becomeUser = becomeUser
        host.becomePasswordEnv = passwordEnv
        host.becomePasswordCommand = passwordCommand
        return host
    }

    /// What one command did on each host through `Engine.run`: its result, or how the host failed.
    enum Ran: Sendable {
        case result(CommandResult)
        case failure(HostStatus, String)

        var result: CommandResult? { if case let .result(result) = self { return result } else { return nil } }
        var status: HostStatus? { if case let .failure(status, _) = self { return status } else { return nil } }
        var message: String { if case let .failure(_, message) = self { return message } else { return "" } }
        /// Everything the run produced that a user or a log could see.
        var visibleText: String {
            switch self {
            case let .result(result): return result.stdout + "\n" + result.stderr
            case let .failure(_, message): return message
            }
        }
    }

    /// Runs `commands` in order on one connection per host (as patchctl does), escalated as each host says.
    static func run(_ commands: [String], on hosts: [Host], _ options: ConnectionOptions) async -> [[Ran]] {
        await Engine(options: options).run(
            hosts: hosts, forks: 8,
            work: { connection in
                var outcomes: [Ran] = []
                for command in commands { outcomes.append(.result(try await connection.run(command))) }
                return outcomes
            },
            failed: { _, failure, _ in [.failure(failure.status, failure.message)] }, onFinished: { _ in })
    }

    static func run(_ command: String, on host: Host, _ options: ConnectionOptions) async throws -> Ran {
        try #require(await run([command], on: [host], options).first?.first)
    }

    static func options(knownHosts: String? = nil, acceptNew: Bool = false, commandTimeout: Double = 120,
                        environment: [String: String] = [:]) throws -> ConnectionOptions {
        var env = environment
        env["HOME"] = env["HOME"] ?? NSTemporaryDirectory()  // never pick up the operator's own ~/.ssh keys
        return ConnectionOptions(knownHostsPath: try knownHosts ?? value("LAB_KNOWN_HOSTS"), acceptNewHostKeys: acceptNew,
                                 connectTimeout: 10, commandTimeout: commandTimeout, environment: env)
    }

    /// Tests that run `apt-get update` in the writable tree (or reset its lists lock) take turns across
    /// suites: apt refuses a second update while the lists lock is held.
    static let aptUpdateTurn = AsyncGate(limit: 1)

    static func scan(_ hosts: [Host], _ options: ConnectionOptions, refresh: Bool = false) async -> [HostScan] {
        await ScanEngine(engine: Engine(options: options)).scan(hosts, options: ScanOptions(forks: 8, refresh: refresh))
    }

    /// Runs a command directly in a lab tree (no SSH, no patchctl): the independent answer.
    static func inChroot(_ root: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        process.arguments = [root] + arguments
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": "/root"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
