import Foundation
import PatchSSH

public struct ScanOptions: Sendable {
    public var forks: Int
    /// Refresh package metadata first (`apt-get update`); needs root or become.
    public var refresh: Bool

    public init(forks: Int = 50, refresh: Bool = false) {
        self.forks = forks
        self.refresh = refresh
    }
}

/// Patch discovery: detect each host's platform, optionally refresh its metadata, and read
/// what its own package manager would install.
public struct ScanEngine: Sendable {
    public let engine: Engine

    public init(engine: Engine) {
        self.engine = engine
    }

    public func scan(_ hosts: [Host], options: ScanOptions, onHostFinished: @escaping @Sendable (HostScan) -> Void = { _ in }) async -> [HostScan] {
        await engine.run(
            hosts: hosts, forks: options.forks,
            work: { connection in try await Self.scan(connection, refresh: options.refresh) },
            failed: { host, failure, started in
                HostScan(name: host.name, address: host.address, port: host.port, status: failure.status,
                         error: failure.message, startedAt: started, finishedAt: Date())
            },
            onFinished: onHostFinished)
    }

    static func scan(_ connection: HostConnection, refresh: Bool) async throws -> HostScan {
        let host = connection.host
        let started = Date()
        var scan = HostScan(name: host.name, address: host.address, port: host.port, status: .ok, startedAt: started, finishedAt: started)
        let factsOutput = try await connection.session.run(Platforms.factsCommand, timeout: connection.commandTimeout)
        let facts = try parsing(host, "facts") { try Platforms.parseFacts(factsOutput.stdout) }
        guard let platform = Platforms.detect(facts) else {
            let id = facts.osRelease["PRETTY_NAME"] ?? facts.osRelease["ID"] ?? facts.kernelName
            scan.os = OSInfo(family: .unknown, id: facts.osRelease["ID"] ?? facts.kernelName.lowercased(),
                             name: facts.osRelease["NAME"] ?? facts.kernelName, version: facts.osRelease["VERSION_ID"] ?? "",
                             kernel: facts.kernelRelease, architecture: facts.machine)
            throw Engine.Failure(status: .error, message: "\(host.name): unsupported platform (\(id))")
        }
        scan.os = platform.os
        if refresh, let command = platform.refreshCommand() {
            let result = try await connection.run(command)
            guard result.exitStatus == 0 else {
                throw Engine.Failure(status: .error, message: "\(host.name): metadata refresh failed (exit \(result.exitStatus)): \(Self.firstErrorLine(result))")
            }
        }
        let output = try await connection.run(platform.scanCommand())
        let findings = try parsing(host, "scan") { try platform.parseScan(output.stdout) }
        scan.updates = findings.updates
        scan.installedCount = findings.installedCount
        scan.rebootRequired = findings.rebootRequired
        scan.rebootPackages = findings.rebootPackages
        scan.finishedAt = Date()
        return scan
    }

    private static func parsing<T>(_ host: Host, _ what: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as ParseFailure {
            throw Engine.Failure(status: .error, message: "\(host.name): \(what): \(failure.description)")
        }
    }

    static func firstErrorLine(_ result: CommandResult) -> String {
        let lines = (result.stderr + "\n" + result.stdout).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.first { $0.hasPrefix("E:") || $0.hasPrefix("sudo:") || $0.lowercased().contains("error") }
            ?? lines.first { !$0.isEmpty } ?? "no output"
    }
}
