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
public struct ScanRunner: Sendable {
    public let engine: HostFanOut

    public init(engine: HostFanOut) {
        self.engine = engine
    }

    public func scan(_ hosts: [Host], options: ScanOptions, onHostFinished: @escaping @Sendable (HostScan) -> Void = { _ in }) async -> [HostScan] {
        await engine.run(
            hosts: hosts, forks: options.forks,
            work: { connection in try await Self.scan(connection, refresh: options.refresh) },
            failed: { host, failure, started in
                HostScan(name: host.name, address: host.address, port: host.port, user: host.user, via: host.via, status: failure.status,
                         error: failure.message, startedAt: started, finishedAt: Date())
            },
            onFinished: onHostFinished)
    }

    static func scan(_ connection: HostConnection, refresh: Bool) async throws -> HostScan {
        let host = connection.host
        let started = Date()
        var scan = HostScan(name: host.name, address: host.address, port: host.port, user: host.user, via: host.via, status: .ok, startedAt: started, finishedAt: started)
        let (platform, findings) = try await detectAndScan(connection, refresh: refresh)
        scan.os = platform.os
        scan.updates = findings.updates
        scan.rejectedUpdates = findings.rejected
        scan.installedCount = findings.installedCount
        scan.rebootRequired = findings.rebootRequired
        scan.rebootPackages = findings.rebootPackages
        scan.finishedAt = Date()
        return scan
    }

    /// Facts and scan in one command (escalated when the host has `become`), read by whichever
    /// platform the facts describe. Scan and deploy both start here.
    static func detectAndScan(_ connection: HostConnection, refresh: Bool) async throws -> (any Platform, ScanFindings) {
        let host = connection.host
        let script = ScanScript(for: host)
        let output = try await connection.run(script.command(refresh: refresh))
        let facts = try await parsing(host, "facts") { try script.facts(from: output) }
        guard let platform = Platforms.detect(facts) else {
            let id = facts.osRelease["PRETTY_NAME"] ?? facts.osRelease["ID"] ?? facts.kernelName
            throw HostFanOut.Failure(status: .error, message: "\(host.name): unsupported platform (\(id))")
        }
        var findings = try await parsing(host, "scan") { try platform.parseScan(output.stdout) }
        findings.updates += try await parsing(host, "snap/flatpak") { try script.thirdPartyFindings(output.stdout) }
        findings.rejected = findings.rejectInvalid(family: platform.family)
        return (platform, findings)
    }

    /// Parses off the reactor thread: a scan's output may be megabytes, and every host's I/O
    /// waits while the reactor thread is busy.
    private static func parsing<T: Sendable>(_ host: Host, _ what: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await OffReactor.run(body)
        } catch let failure as ParseFailure {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): \(what): \(failure.description)")
        }
    }
}
