import Foundation

extension DeployRunner {
    /// Installs the policy's `install:` bundle in order: library packages (approved ones; pending
    /// ones too in the test ring when the policy allows) pushed and verified by `PackageInstaller`,
    /// other names from the host's own package manager. Items already at their version are skipped.
    func installBundle(on connection: HostConnection, platform: any Platform, ringIndex: Int, record: inout DeployHostRecord) async throws {
        let repository = PackageRepository(store: store)
        let installer = PackageInstaller(engine: engine, repository: repository, dryRun: options.dryRun, installTimeout: policy.installTimeout,
                                         relays: options.relays)
        for item in policy.install {
            let family = platform.family
            let (entries, anyBuild) = try await OffReactor.run {
                (try repository.find(name: item.name, version: item.version, platform: family), try repository.find(name: item.name, version: nil))
            }
            let allowPending = ringIndex == 0 && policy.testRingInstallsPending
            if entries.isEmpty, anyBuild.isEmpty {
                try await installFromManager(item, on: connection, platform: platform, record: &record)
                continue
            }
            let eligible = entries.filter { $0.state == .approved || (allowPending && $0.state == .pending) }
            guard let chosen = eligible.max(by: { VersionComparison.compare($0.version, $1.version, scheme: $0.format.versionScheme) < 0 }) else {
                let states = entries.map { "\($0.reference) \($0.state.rawValue)" }.joined(separator: ", ")
                record.skipped.append(SkippedUpdate(name: item.name, version: item.version ?? "",
                                                    reason: entries.isEmpty ? "no \(platform.family.rawValue) build of \(item.reference) in the library"
                                                        : "not approved in the library (\(states))", awaitingApproval: !entries.isEmpty))
                continue
            }
            let result = await installer.install([chosen], on: connection)
            record.planned += result.planned
            record.installed += result.installed
            record.failed += result.failed
            record.skipped += result.skipped
            record.commands += result.commands
            record.steps += result.steps
            if result.status != .ok {
                record.status = result.status == .failed ? .failed : result.status
                record.error = [record.error, result.error].compactMap { $0 }.joined(separator: "; ")
                record.repair = record.repair ?? result.repair
                return  // later items may depend on this one: stop here
            }
        }
    }

    /// A bundle item the library does not hold: the platform's package manager installs it by name.
    private func installFromManager(_ item: Policy.BundleItem, on connection: HostConnection, platform: any Platform, record: inout DeployHostRecord) async throws {
        guard let command = platform.managerInstallCommand(name: item.name, version: item.version) else {
            record.skipped.append(SkippedUpdate(name: item.name, version: item.version ?? "", reason: "not in the library, and \(platform.family.rawValue) has no package manager patchctl installs from"))
            return
        }
        let query = platform.installedVersionsCommand([item.name])
        let before = platform.parseInstalledVersions(try await connection.run(query).stdout)[item.name]
        if let before, item.version == nil || item.version == before {
            record.skipped.append(SkippedUpdate(name: item.name, version: before, reason: "already installed"))
            return
        }
        record.planned.append(PlannedUpdate(PendingUpdate(name: item.name, installedVersion: before ?? "", availableVersion: item.version ?? "(latest)",
                                                          source: "package manager", security: false)))
        record.commands.append(command)
        if options.dryRun { return }
        let started = Date()
        let result = try await connection.run(command, timeout: policy.installTimeout)
        record.steps.append(DeployStep(phase: "install", command: command, exitCode: Int(result.exitStatus),
                                       output: Self.tail(result.stdout + result.stderr), durationMs: Int(Date().timeIntervalSince(started) * 1000)))
        let after = platform.parseInstalledVersions(try await connection.run(query).stdout)[item.name]
        if let after, item.version == nil || item.version == after {
            record.installed.append(InstalledPackage(name: item.name, fromVersion: before ?? "", toVersion: after))
        } else {
            let reason = result.exitStatus != 0 ? "exited \(result.exitStatus): \(Self.errorLines(result.stdout + result.stderr))" : "not installed afterwards"
            record.failed.append(FailedPackage(name: item.name, fromVersion: before ?? "", targetVersion: item.version ?? "(latest)", actualVersion: after, reason: reason))
            record.status = .failed
            record.error = [record.error, "\(item.name): \(reason)"].compactMap { $0 }.joined(separator: "; ")
        }
    }
}
