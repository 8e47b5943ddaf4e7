import Foundation
import PatchSSH

public struct ScanOptions: Sendable {
    public var forks: Int
    /// Refresh package metadata first (`apt-get update`); needs root or become.
    public var refresh: Bool
    /// The run's synced advisory feeds: each update's CVEs and the host's unfixed ones are matched
    /// against them. Nil when none are synced (nothing is matched).
    public var advisories: AdvisoryIndex?

    public init(forks: Int = 50, refresh: Bool = false, advisories: AdvisoryIndex? = nil) {
        self.forks = forks
        self.refresh = refresh
        self.advisories = advisories
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
            work: { connection in try await Self.scan(connection, refresh: options.refresh, advisories: options.advisories) },
            failed: { host, failure, started in
                HostScan(name: host.name, address: host.address, port: host.port, user: host.user, via: host.via, status: failure.status,
                         error: failure.message, startedAt: started, finishedAt: Date())
            },
            onFinished: onHostFinished)
    }

    static func scan(_ connection: HostConnection, refresh: Bool, advisories: AdvisoryIndex?) async throws -> HostScan {
        let host = connection.host
        let started = Date()
        connection.entering(.scanning)
        var scan = HostScan(name: host.name, address: host.address, port: host.port, user: host.user, via: host.via, status: .ok, startedAt: started, finishedAt: started)
        let (platform, findings) = try await detectAndScan(connection, refresh: refresh, advisories: advisories)
        scan.os = platform.os
        scan.updates = findings.updates
        scan.rejectedUpdates = findings.rejected
        scan.installedCount = findings.installedCount
        scan.rebootRequired = findings.rebootRequired
        scan.rebootPackages = findings.rebootPackages
        scan.unfixedCVEs = findings.unfixedCVEs
        scan.finishedAt = Date()
        return scan
    }

    /// Facts and scan in one command (escalated when the host has `become`), read by whichever
    /// platform the facts describe. Scan and deploy both start here, so both see each update's
    /// CVEs (policies select on them) when the run has advisories.
    static func detectAndScan(_ connection: HostConnection, refresh: Bool, advisories: AdvisoryIndex? = nil) async throws -> (any Platform, ScanFindings) {
        let (script, _, output) = try await runScanCommand(connection, refresh: refresh)
        return try await read(output, of: script, host: connection.host, advisories: advisories)
    }

    /// The one command a scan sends (`ScanScript`, escalated when the host has `become`), and what it
    /// printed. `record-fixtures` saves this output: it must be the scan's own, not a copy.
    static func runScanCommand(_ connection: HostConnection, refresh: Bool) async throws -> (script: ScanScript, command: String, output: CommandResult) {
        let script = ScanScript(for: connection.host)
        let command = script.command(refresh: refresh)
        return (script, command, try await connection.run(command))
    }

    /// A scan command's output read as a scan reads it: facts, the platform they describe, its
    /// findings and the Linux third-party sections (and advisories when the run has them).
    static func read(_ output: CommandResult, of script: ScanScript, host: Host, advisories: AdvisoryIndex? = nil) async throws -> (any Platform, ScanFindings) {
        let facts = try await parsing(host, "facts") { try script.facts(from: output) }
        guard let platform = Platforms.detect(facts) else {
            let id = facts.osRelease["PRETTY_NAME"] ?? facts.osRelease["ID"] ?? facts.kernelName
            throw HostFanOut.Failure(status: .error, message: "\(host.name): unsupported platform (\(id))")
        }
        var findings = try await parsing(host, "scan") { try platform.parseScan(output.stdout) }
        findings.updates += try await parsing(host, "snap/flatpak") { try script.thirdPartyFindings(output.stdout) }
        findings.rejected = findings.rejectInvalid(family: platform.family)
        if let advisories {
            let matched = findings, os = platform.os
            findings = try await OffReactor.run {
                var copy = matched
                do {
                    try advisories.match(&copy, os: os)
                } catch {
                    throw HostFanOut.Failure(status: .error, message: "\(host.name): advisories: \(error)")
                }
                return copy
            }
        }
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
