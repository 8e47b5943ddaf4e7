import Foundation
import PatchSSH

/// Installs one library package on many hosts: checks the platform, skips hosts already at the
/// version, pushes the file over SFTP into a private temporary folder, verifies its SHA-256
/// there, installs with the platform's tool, removes the folder, and reads the installed version
/// back. Each host's outcome is a `DeployHostRecord` record (kind `install` in history).
public struct PackageInstaller: Sendable {
    public let engine: HostFanOut
    public let repository: PackageRepository
    public let dryRun: Bool
    public let installTimeout: Double
    /// Sees (host, bytes sent, file size) while a file uploads, for a progress line on a terminal.
    public let uploadProgress: (@Sendable (String, Int64, Int64) -> Void)?
    /// Relay hosts by inventory name, for hosts whose `relay` variable names one.
    public let relays: [String: Host]
    let relayStages = RelayStages()

    public init(engine: HostFanOut, repository: PackageRepository, dryRun: Bool = false, installTimeout: Double = 3600,
                uploadProgress: (@Sendable (String, Int64, Int64) -> Void)? = nil, relays: [String: Host] = [:]) {
        self.engine = engine
        self.repository = repository
        self.dryRun = dryRun
        self.installTimeout = installTimeout
        self.uploadProgress = uploadProgress
        self.relays = relays
    }

    /// The relay hosts the given hosts name (`relay` variable), looked up in the inventory.
    public static func relays(for hosts: [Host], in inventory: Inventory) -> [String: Host] {
        var relays: [String: Host] = [:]
        for host in hosts {
            if case let .string(name)? = host.vars["relay"], let relay = inventory.host(named: name) { relays[name] = relay }
        }
        return relays
    }

    /// `builds`: the library entries of one name@version (one per platform/architecture); each
    /// host gets the one for its own platform.
    public func install(_ builds: [PackageRecord], on hosts: [Host], forks: Int, stop: StopFlag = StopFlag(),
                        onHostFinished: @escaping @Sendable (DeployHostRecord) -> Void = { _ in }) async -> [DeployHostRecord] {
        await engine.run(
            hosts: hosts, forks: forks,
            work: { connection in await install(builds, on: connection) },
            failed: { host, failure, started in
                DeployHostRecord(host: host, status: failure.status, ring: "install", batch: 1, error: failure.message, startedAt: started, finishedAt: Date())
            },
            onFinished: onHostFinished,
            shouldStart: { !stop.isStopped })
    }

    func install(_ builds: [PackageRecord], on connection: HostConnection) async -> DeployHostRecord {
        var record = DeployHostRecord(host: connection.host, status: .ok, ring: "install", batch: 1, startedAt: Date(), finishedAt: Date())
        do {
            try await install(builds, on: connection, into: &record)
        } catch {
            let failure = HostFanOut.classify(error)
            record.status = failure.status
            record.error = failure.message
        }
        record.finishedAt = Date()
        return record
    }

    private func install(_ builds: [PackageRecord], on connection: HostConnection, into record: inout DeployHostRecord) async throws {
        let host = connection.host
        guard let first = builds.first else { return }
        if host.isWindows {
            connection.entering(.installing)
            try await installWindows(builds, on: connection, into: &record)
            return
        }
        let factsOutput = try await connection.run(Platforms.factsCommand)
        let facts: OSFacts
        do {
            facts = try Platforms.parseFacts(factsOutput.stdout)
        } catch let failure as ParseFailure {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): facts: \(failure.description)")
        }
        guard let platform = Platforms.detect(facts) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): unsupported platform (\(facts.osRelease["PRETTY_NAME"] ?? facts.kernelName))")
        }
        record.os = platform.os
        let machine = platform.os.architecture
        let package = builds.first { build in
            build.platform == platform.family && (build.architecture == "all" || machine.map { Self.architecture(build.architecture, fits: $0) } ?? true)
        } ?? builds.first { $0.platform == platform.family } ?? first
        guard platform.family == package.platform else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): \(package.reference) is a \(package.platform.rawValue) package; this host runs \(platform.os.name) (\(platform.family.rawValue))")
        }
        if package.architecture != "all", let machine = platform.os.architecture, !Self.architecture(package.architecture, fits: machine) {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): \(package.reference) is built for \(package.architecture); this host is \(machine)")
        }
        guard let versionQuery = platform.packageVersionCommand(package) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): installing \(package.format.rawValue) packages is not supported yet")
        }
        let before = platform.parsePackageVersion(try await connection.run(versionQuery).stdout, of: package)
        if Self.plan(package, installed: before, into: &record) { return }
        let folderPattern = "/tmp/patchctl-install.XXXXXXXXXX"
        let remoteFile = package.fileName.map { "\(folderPattern)/\($0)" }
        guard let preview = platform.packageInstallCommand(package, path: remoteFile) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): installing \(package.format.rawValue) packages is not supported yet")
        }
        record.commands = (package.format.hasFile ? ["mktemp -d \(folderPattern)", "sftp put \(package.fileName ?? "") (sha256 \(package.sha256 ?? ""))",
                                                     "sha256sum -- FILE"] : []) + [preview] + (package.format.hasFile ? ["rm -rf -- FOLDER"] : [])
        if dryRun { return }

        var installPath: String?
        var folder: String?
        if package.format.hasFile, package.sha256 != nil, let fileName = package.fileName {
            let made = try await connection.run("umask 077; mktemp -d " + folderPattern, escalate: false)
            guard made.exitStatus == 0, case let path = made.stdout.trimmed, path.hasPrefix("/tmp/patchctl-install.") else {
                throw HostFanOut.Failure(status: .error, message: "\(host.name): cannot make a temporary folder: \(made.stderr.trimmed)")
            }
            folder = path
            installPath = path + "/" + fileName
        }
        do {
            if let installPath, let digest = package.sha256 {
                connection.entering(.uploading)
                if let relay = try relay(for: connection.host) {
                    try await pushViaRelay(package, digest: digest, relay: relay, to: installPath, on: connection, record: &record)
                    try await verifyUpload(installPath, digest: digest, on: connection)
                } else {
                    try await push(package, to: installPath, digest: digest, on: connection, record: &record)
                }
            }
            guard let command = platform.packageInstallCommand(package, path: installPath) else { return }
            connection.entering(.installing)
            let started = Date()
            let result = try await connection.run(command, timeout: installTimeout)
            record.steps.append(DeployStep(phase: "install", command: command, exitCode: Int(result.exitStatus),
                                           output: DeployRunner.tail(result.stdout + result.stderr), durationMs: Int(Date().timeIntervalSince(started) * 1000)))
            let after = platform.parsePackageVersion(try await connection.run(versionQuery).stdout, of: package)
            if after == package.version {
                record.installed = [InstalledPackage(name: package.name, fromVersion: before ?? "", toVersion: package.version)]
                if result.exitStatus != 0 { record.error = "installer exited \(result.exitStatus) but the package is at \(package.version)" }
            } else {
                let reason = result.exitStatus != 0 ? "installer exited \(result.exitStatus): \(DeployRunner.errorLines(result.stdout + result.stderr))"
                    : "installed version is \(after ?? "none") after a successful install"
                record.failed = [FailedPackage(name: package.name, fromVersion: before ?? "", targetVersion: package.version, actualVersion: after, reason: reason)]
                record.status = .failed
                record.error = reason
                if case let .broken(detail, repair) = platform.parseHealth(try await connection.run(platform.healthCommand()).stdout) {
                    record.repair = repair
                    record.error = reason + "; package manager left broken: \(detail)"
                }
            }
        } catch {
            if let folder { _ = try? await connection.run("rm -rf -- " + Shell.quote(folder), escalate: false) }
            throw error
        }
        if let folder { _ = try? await connection.run("rm -rf -- " + Shell.quote(folder), escalate: false) }
    }

    /// Uploads (one retry on a broken transfer) and proves the bytes on the endpoint are the library's.
    private func push(_ package: PackageRecord, to remotePath: String, digest: String, on connection: HostConnection, record: inout DeployHostRecord) async throws {
        let local = try await OffReactor.run { [repository] in try repository.localFile(package) }
        guard FileManager.default.fileExists(atPath: local) else {
            throw HostFanOut.Failure(status: .error, message: "library file for \(package.reference) is missing (\(local)); re-add the package")
        }
        let started = Date()
        var attempt = 0
        while true {
            attempt += 1
            do {
                let total = package.size ?? 0
                let name = connection.host.name
                var onProgress: (@Sendable (Int64) -> Void)?
                if let report = uploadProgress {
                    onProgress = { sent in report(name, sent, total) }
                }
                let sent = try await send(local, to: remotePath, on: connection, progress: onProgress)
                record.steps.append(DeployStep(phase: "upload", command: "\(sent.method.label) \(remotePath)", exitCode: 0,
                                               output: "\(sent.bytes) bytes, attempt \(attempt)", durationMs: Int(Date().timeIntervalSince(started) * 1000)))
                break
            } catch let error as SSHError {
                if case .transfer = error { throw error }
                if attempt >= 2 { throw error }
            }
        }
        try await verifyUpload(remotePath, digest: digest, on: connection)
    }

    /// Uploads over SFTP, or over an exec channel where the host refuses SFTP (said at -v; the
    /// record's step names the channel). Every caller checks the SHA-256 on the endpoint after.
    func send(_ local: String, to remotePath: String, on connection: HostConnection,
              progress: (@Sendable (Int64) -> Void)? = nil) async throws -> HostConnection.Upload {
        let sent = try await connection.send(local, to: remotePath, progress: progress)
        if sent.method != .sftp {
            engine.options.logger.info("SFTP subsystem refused: file streamed over an exec channel, checksum verified next", metadata: [
                "host": "\(connection.host.name)", "path": "\(remotePath)", "bytes": "\(sent.bytes)",
            ])
        }
        return sent
    }

    /// The bytes on the endpoint must be the library's, whoever sent them.
    func verifyUpload(_ remotePath: String, digest: String, on connection: HostConnection) async throws {
        // coreutils' sha256sum, or macOS's shasum: both print the digest first.
        let check = try await connection.run("sha256sum -- \(Shell.quote(remotePath)) 2>/dev/null || shasum -a 256 \(Shell.quote(remotePath))", escalate: false)
        let remoteDigest = check.stdout.split(separator: " ").first.map(String.init) ?? ""
        guard check.exitStatus == 0, remoteDigest == digest else {
            throw HostFanOut.Failure(status: .error, message: "\(connection.host.name): checksum mismatch after upload (library \(digest), endpoint \(remoteDigest.isEmpty ? check.stderr.trimmed : remoteDigest)); nothing installed")
        }
    }

    /// Records the plan; true when the host is already at the version (nothing to do).
    static func plan(_ package: PackageRecord, installed before: String?, into record: inout DeployHostRecord) -> Bool {
        guard before != package.version else {
            record.planned = []
            record.skipped = [SkippedUpdate(name: package.name, version: package.version, reason: "already installed at this version")]
            return true
        }
        record.planned = [PlannedUpdate(PendingUpdate(name: package.name, installedVersion: before ?? "", availableVersion: package.version,
                                                      source: "library: \(package.format.rawValue)", security: false))]
        return false
    }

    /// Debian/rpm architecture names against `uname -m`.
    static func architecture(_ package: String, fits machine: String) -> Bool {
        let aliases: [String: Set<String>] = [
            "x86_64": ["amd64", "x86_64", "noarch", "all"], "aarch64": ["arm64", "aarch64", "noarch", "all"],
            "armv7l": ["armhf", "armv7hl", "noarch", "all"], "i686": ["i386", "i686", "noarch", "all"],
        ]
        return aliases[machine]?.contains(package) ?? (package == machine || package == "noarch")
    }
}
