import Foundation

extension PackageInstaller {
    /// The Windows path: PowerShell for every step, SFTP (OpenSSH for Windows) for the file,
    /// Get-FileHash for the proof, msiexec/exe/winget/choco for the install, exit codes read as
    /// Windows Installer defines them, the version read back from Programs and Features.
    func installWindows(_ builds: [PackageRecord], on connection: HostConnection, into record: inout DeployHostRecord) async throws {
        let host = connection.host
        let facts = try await connection.run(WindowsPackageCommands.facts)
        guard let platform = WindowsPlatform.detect(scanOutput: facts.stdout) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): no Windows facts came back (exit \(facts.exitStatus)): \(String((facts.stderr + facts.stdout).trimmed.prefix(200)))")
        }
        record.os = platform.os
        guard let package = builds.first(where: { $0.platform == .windows }) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): \(builds.first?.reference ?? "the package") is a \(builds.first?.platform.rawValue ?? "?") package; this host runs \(platform.os.name) (windows)")
        }
        if (try? relay(for: host)) != nil, package.format.hasFile {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): relays push with scp; Windows hosts take library files from the controller (remove its relay)")
        }
        guard let query = platform.packageVersionCommand(package) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): \(package.format.rawValue) packages do not install on Windows")
        }
        let before = platform.parsePackageVersion(try await connection.run(query).stdout, of: package)
        if Self.plan(package, installed: before, into: &record) { return }
        guard let preview = platform.packageInstallCommand(package, path: package.fileName.map { "%TEMP%/patchctl-install.…/\($0)" }) else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): \(package.format.rawValue) packages do not install on Windows")
        }
        record.commands = (package.format.hasFile ? ["make a folder under %TEMP%", "sftp put \(package.fileName ?? "")", "Get-FileHash -Algorithm SHA256"] : [])
            + [preview] + (package.format.hasFile ? ["Remove-Item the folder"] : [])
        if dryRun { return }

        var folder: String?
        var path: String?
        if package.format.hasFile, let digest = package.sha256, let fileName = package.fileName {
            let made = try await connection.run(WindowsPackageCommands.makeFolder)
            guard let created = WindowsPackageCommands.section("folder", in: made.stdout) else {
                throw HostFanOut.Failure(status: .error, message: "\(host.name): cannot make a temporary folder: \((made.stderr + made.stdout).trimmed.prefix(200))")
            }
            folder = created
            path = created + "/" + fileName
            do {
                try await pushWindows(package, to: created + "/" + fileName, digest: digest, on: connection, record: &record)
            } catch {
                _ = try? await connection.run(WindowsPackageCommands.removeFolder(created))
                throw error
            }
        }
        guard let command = platform.packageInstallCommand(package, path: path) else { return }
        let started = Date()
        let result = try await connection.run(command, timeout: installTimeout)
        let code = WindowsPackageCommands.section("exit", in: result.stdout).flatMap { Int($0) }
        let exit = code.map(WindowsPackageCommands.exit)
        record.steps.append(DeployStep(phase: "install", command: command, exitCode: code, output: DeployRunner.tail(result.stdout + result.stderr),
                                       durationMs: Int(Date().timeIntervalSince(started) * 1000)))
        if let folder { _ = try? await connection.run(WindowsPackageCommands.removeFolder(folder)) }
        let after = platform.parsePackageVersion(try await connection.run(query).stdout, of: package)
        if exit?.succeeded == true, after == package.version || after == nil && package.format == .exe {
            record.installed = [InstalledPackage(name: package.name, fromVersion: before ?? "", toVersion: after ?? package.version)]
            if exit?.rebootRequired == true { record.rebootRequired = true }
            if after == nil { record.error = "installed (exit \(code ?? 0)); the installer registers no version under \(package.name) to verify" }
        } else {
            let reason = exit.map { $0.succeeded ? "installed version is \(after ?? "none")" : $0.meaning } ?? "the installer reported no exit code: \(result.stderr.trimmed.prefix(200))"
            record.failed = [FailedPackage(name: package.name, fromVersion: before ?? "", targetVersion: package.version, actualVersion: after, reason: reason)]
            record.status = .failed
            record.error = reason
        }
    }

    private func pushWindows(_ package: PackageRecord, to remotePath: String, digest: String, on connection: HostConnection, record: inout DeployHostRecord) async throws {
        let local = try await OffReactor.run { [repository] in try repository.localFile(package) }
        let started = Date()
        let sent = try await connection.upload(local, to: remotePath)
        record.steps.append(DeployStep(phase: "upload", command: "sftp put \(remotePath)", exitCode: 0, output: "\(sent) bytes",
                                       durationMs: Int(Date().timeIntervalSince(started) * 1000)))
        let check = try await connection.run(WindowsPackageCommands.hash(remotePath))
        let remote = WindowsPackageCommands.section("hash", in: check.stdout) ?? ""
        guard remote == digest else {
            throw HostFanOut.Failure(status: .error, message: "\(connection.host.name): checksum mismatch after upload (library \(digest), endpoint \(remote.isEmpty ? check.stderr.trimmed : remote)); nothing installed")
        }
    }
}
