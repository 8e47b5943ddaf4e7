import Foundation
import Testing
@testable import PatchCore

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

    static func host(_ name: String = "lab", address: String = "127.0.0.1", portKey: String = "LAB_PORT", keyKey: String = "LAB_KEY") throws -> Host {
        Host(name: name, address: address, port: try port(portKey), user: "root", privateKeyFile: try value(keyKey))
    }

    static func options(knownHosts: String? = nil, acceptNew: Bool = false, commandTimeout: Double = 120,
                        environment: [String: String] = [:]) throws -> ConnectionOptions {
        var env = environment
        env["HOME"] = env["HOME"] ?? NSTemporaryDirectory()  // never pick up the operator's own ~/.ssh keys
        return ConnectionOptions(knownHostsPath: try knownHosts ?? value("LAB_KNOWN_HOSTS"), acceptNewHostKeys: acceptNew,
                                 connectTimeout: 10, commandTimeout: commandTimeout, environment: env)
    }

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
