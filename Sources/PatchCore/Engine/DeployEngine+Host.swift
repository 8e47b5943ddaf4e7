import Foundation
import PatchSSH

extension DeployEngine {
    /// One host from scan to verified result. Never throws: whatever happens is in the record,
    /// with everything learned up to that point.
    func deployHost(_ connection: HostConnection, ringIndex: Int, batch: Int, gate: ApprovalGate, runId: String) async -> DeployHost {
        let ring = policy.rings[ringIndex]
        var record = DeployHost(host: connection.host, status: .ok, ring: ring.name, batch: batch, startedAt: Date(), finishedAt: Date())
        var current = connection
        do {
            try await deploy(&record, on: &current, ringIndex: ringIndex, gate: gate, runId: runId)
        } catch {
            let failure = Engine.classify(error)
            record.status = failure.status
            record.error = failure.message
        }
        if current.session !== connection.session { await current.session.close() }
        record.finishedAt = Date()
        return record
    }

    private func deploy(_ record: inout DeployHost, on connection: inout HostConnection, ringIndex: Int, gate: ApprovalGate, runId: String) async throws {
        let host = connection.host
        // A fresh scan is the plan's only source: the host may have changed since any earlier scan.
        let refresh = policy.refresh && !options.dryRun
        let (platform, findings) = try await scan(connection, refresh: refresh, record: &record)
        record.rebootRequired = findings.rebootRequired

        // The plan: selection, then approval for this ring.
        var planned: [PendingUpdate] = []
        for update in findings.updates {
            if case let .skipped(reason) = policy.selection.decide(update) {
                record.skipped.append(SkippedUpdate(name: update.name, version: update.availableVersion, reason: reason))
                continue
            }
            switch try await gate.decide(update, ringIndex: ringIndex) {
            case .approved:
                planned.append(update)
            case let .awaiting(reason):
                record.skipped.append(SkippedUpdate(name: update.name, version: update.availableVersion, reason: reason, awaitingApproval: true))
            case let .rejected(reason):
                record.skipped.append(SkippedUpdate(name: update.name, version: update.availableVersion, reason: reason))
            }
        }
        record.planned = planned.map(PlannedUpdate.init)
        let wantsReboot = { (installedSomething: Bool, required: Bool) -> Bool in
            switch policy.reboot.mode {
            case .never: return false
            case .always: return installedSomething
            case .ifRequired: return required
            }
        }
        if planned.isEmpty && policy.install.isEmpty && !wantsReboot(false, findings.rebootRequired) {
            record.error = nil
            return  // nothing to do: ok
        }

        // Logged-in users: defer while the policy allows, then proceed (forced).
        if let deferment = policy.deferment {
            let users = platform.parseLoggedInUsers(try await connection.run(platform.loggedInUsersCommand()).stdout)
            record.loggedInUsers = users
            if !users.isEmpty {
                let who = users.map { "\($0.user) on \($0.terminal)" }.joined(separator: ", ")
                let store = self.store, policyName = policy.name, hostName = host.name
                let (count, first) = try await OffReactor.run { try store.automaticDeferrals(policy: policyName, host: hostName) }
                let now = options.now()
                var deadlinePassed = false
                if let deadline = deferment.deadline {
                    switch deadline {
                    case let .at(date): deadlinePassed = now >= date
                    case let .after(seconds): deadlinePassed = first.map { now >= $0.addingTimeInterval(seconds) } ?? false
                    }
                }
                if count < deferment.maxDeferrals && !deadlinePassed {
                    record.status = .deferred
                    record.deferral = "\(users.count) user(s) logged in (\(who)): deferral \(count + 1) of \(deferment.maxDeferrals)"
                    if !options.dryRun {
                        let event = EventRecord(at: now, user: options.user, action: .deferred, policy: policy.name, host: host.name, detail: record.deferral)
                        try await audit(event)
                    }
                    return
                }
                record.forced = true
                record.deferral = "proceeding although \(who) logged in: " +
                    (deadlinePassed ? "deferral deadline passed" : "\(count) of \(deferment.maxDeferrals) deferrals used")
                if !options.dryRun {
                    let event = EventRecord(at: now, user: options.user, action: .forced, policy: policy.name, host: host.name, detail: record.deferral)
                    try await audit(event)
                }
            }
        }

        // snap and flatpak findings install with their own tools; the family's manager takes the rest.
        let thirdParty = planned.filter { ThirdPartyManager(source: $0.source) != nil && [.snap, .flatpak].contains(ThirdPartyManager(source: $0.source)) }
        let osPlanned = platform.family == .windows ? planned : planned.filter { update in !thirdParty.contains(update) }
        let install = osPlanned.isEmpty ? nil : platform.installCommand(osPlanned)
        let thirdPartyInstall = thirdParty.isEmpty ? nil : ThirdPartyManager.linuxInstallCommand(thirdParty)
        record.commands = policy.pre + (install.map { [$0] } ?? []) + (thirdPartyInstall.map { [$0] } ?? []) + policy.post
        let rebootMessage = rebootText
        if options.dryRun {
            if !policy.install.isEmpty {
                let post = record.commands.suffix(policy.post.count)
                record.commands.removeLast(policy.post.count)
                try await installBundle(on: connection, platform: platform, ringIndex: ringIndex, record: &record)
                record.commands += post
            }
            if wantsReboot(!planned.isEmpty, findings.rebootRequired || policy.reboot.mode == .always) {
                record.commands.append(platform.rebootCommand(graceMinutes: policy.reboot.boundedGraceMinutes, message: rebootMessage))
            }
            return
        }

        // Health checks: a failing pre skips the host (nothing is installed) and counts as a failure.
        for command in policy.pre {
            let step = try await runStep("pre", command, on: connection, timeout: nil, into: &record)
            if step.exitCode != 0 {
                record.status = .failed
                record.error = "pre check failed (exit \(step.exitCode.map(String.init) ?? "?")): \(command); nothing installed"
                return
            }
        }
        // Last moment to stop cleanly: after this a package operation runs to its end.
        if stop.isStopped {
            record.status = .interrupted
            record.error = "interrupted before installing; resume with --resume"
            return
        }
        if let reason = windowClosed(for: host, at: options.now()) {
            record.status = .skipped
            record.error = "window closed before installing: \(reason)"
            return
        }
        let health = platform.parseHealth(try await connection.run(platform.healthCommand()).stdout)
        if case let .broken(detail, repair) = health {
            record.status = .error
            record.error = "package manager needs repair before anything can be installed: \(detail)"
            record.repair = repair
            return
        }
        // The intent goes to history before the first change: a run killed from here on, or one whose
        // history fills up, still shows what was sent. Unrecorded, nothing is sent.
        do {
            var planned = record
            planned.finishedAt = Date()
            let store = self.store, intent = planned
            try await OffReactor.run { try store.recordIntent(runId: runId, host: intent) }
        } catch {
            record.status = .error
            record.error = "nothing installed: history could not record the plan first (\(error))"
            return
        }

        var installProblem: String?
        if let install {
            do {
                let step = try await runStep("install", install, on: connection, timeout: policy.installTimeout, into: &record)
                if step.exitCode != 0 { installProblem = "install exited \(step.exitCode.map(String.init) ?? "?"): \(Self.errorLines(step.output))" }
            } catch SSHError.timeout {
                // The package manager may still be running on the host: it is not killed, only no longer waited for.
                installProblem = "install did not finish within \(Int(policy.installTimeout)) s (install_timeout); it may still be running on the host"
                record.status = .timeout
            }
            // Verify against the package database, not the installer's word.
            let versions = platform.parseInstalledVersions(try await connection.run(platform.installedVersionsCommand(osPlanned.map(\.name))).stdout)
            let problem = installProblem
            Self.verify(osPlanned, against: versions, into: &record) { _, actual in
                problem ?? "installed version is \(actual ?? "none") after a successful install"
            }
            if installProblem != nil || !record.failed.isEmpty {
                if case let .broken(detail, repair) = platform.parseHealth(try await connection.run(platform.healthCommand()).stdout) {
                    record.repair = repair
                    installProblem = (installProblem ?? "") + "; package manager left broken: \(detail)"
                }
            }
        }
        if !policy.install.isEmpty, record.status == .ok {
            try await installBundle(on: connection, platform: platform, ringIndex: ringIndex, record: &record)
        }
        if let thirdPartyInstall {
            let step = try await runStep("install-third-party", thirdPartyInstall, on: connection, timeout: policy.installTimeout, into: &record)
            let versions = ThirdPartyManager.parseLinuxInstalledVersions(try await connection.run(ThirdPartyManager.linuxInstalledVersionsCommand).stdout)
            // snap and flatpak install the channel's current revision, which may have moved on since the scan.
            Self.verify(thirdParty, against: versions, into: &record) { update, actual in
                step.exitCode == 0 ? "\(update.source) installed \(actual ?? "nothing")"
                    : "\(update.source) exited \(step.exitCode.map(String.init) ?? "?"): \(Self.errorLines(step.output))"
            }
        }
        var postFailure: String?
        for command in policy.post {
            let step = try await runStep("post", command, on: connection, timeout: nil, into: &record)
            if step.exitCode != 0 {
                postFailure = "post check failed (exit \(step.exitCode.map(String.init) ?? "?")): \(command)"
                break
            }
        }

        // Re-scan: what is still pending, and whether the host now needs a reboot.
        let (_, after) = try await scan(connection, refresh: false, record: &record)
        record.rebootRequired = after.rebootRequired
        if wantsReboot(!record.installed.isEmpty, after.rebootRequired), postFailure == nil {
            if stop.isStopped {
                installProblem = installProblem ?? "reboot skipped: run interrupted (reboot still required)"
            } else if let reason = windowClosed(for: host, at: options.now()) {
                installProblem = installProblem ?? "reboot skipped: \(reason)"
            } else {
                connection = try await reboot(connection, platform: platform, record: &record)
                let (_, rebooted) = try await scan(connection, refresh: false, record: &record)
                record.rebootRequired = rebooted.rebootRequired
            }
        }
        let problems = [installProblem, record.error, postFailure].compactMap { $0 }
        if !record.failed.isEmpty || postFailure != nil || (installProblem != nil && record.status == .ok && record.installed.count < planned.count) {
            if record.status == .ok { record.status = .failed }
        }
        record.error = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    /// Each planned update is installed when the package database holds exactly its version;
    /// otherwise it failed, for `reason(update, actual version)`.
    static func verify(_ planned: [PendingUpdate], against versions: [String: String], into record: inout DeployHost,
                       reason: (PendingUpdate, String?) -> String) {
        for update in planned {
            let actual = versions[update.name]
            if actual == update.availableVersion {
                record.installed.append(InstalledPackage(name: update.name, fromVersion: update.installedVersion, toVersion: update.availableVersion))
            } else {
                record.failed.append(FailedPackage(name: update.name, fromVersion: update.installedVersion, targetVersion: update.availableVersion,
                                                   actualVersion: actual, reason: reason(update, actual)))
            }
        }
    }

    /// Through the run's recorder (database, else journal) when there is one.
    private func audit(_ event: EventRecord) async throws {
        if let recordEvent = options.recordEvent {
            recordEvent(event)
        } else {
            let store = self.store
            try await OffReactor.run { try store.recordEvents([event]) }
        }
    }

    /// Facts + scan in one command, parsed by the host's platform.
    private func scan(_ connection: HostConnection, refresh: Bool, record: inout DeployHost) async throws -> (any Platform, ScanFindings) {
        let (platform, findings) = try await ScanEngine.detectAndScan(connection, refresh: refresh)
        record.os = platform.os
        // Kept in the host's record with the reason, so the operator sees what was refused.
        record.skipped += findings.rejected.map { SkippedUpdate(name: $0.name, version: "", reason: "invalid: " + $0.reason) }
        return (platform, findings)
    }

    @discardableResult
    private func runStep(_ phase: String, _ command: String, on connection: HostConnection, timeout: Double?, into record: inout DeployHost) async throws -> DeployStep {
        let started = Date()
        do {
            let result = try await connection.run(command, timeout: timeout)
            let step = DeployStep(phase: phase, command: command, exitCode: Int(result.exitStatus),
                                  output: Self.tail(result.stdout + result.stderr), durationMs: Int(result.duration * 1000))
            record.steps.append(step)
            return step
        } catch {
            record.steps.append(DeployStep(phase: phase, command: command, exitCode: nil, output: "\(error)",
                                           durationMs: Int(Date().timeIntervalSince(started) * 1000)))
            throw error
        }
    }

    /// Issues the reboot, then waits for the host to come back with a new boot id.
    private func reboot(_ connection: HostConnection, platform: any Platform, record: inout DeployHost) async throws -> HostConnection {
        let before = try await connection.run(platform.bootIDCommand())
        let bootID = before.stdout.trimmed
        guard before.exitStatus == 0, !bootID.isEmpty else {
            throw Engine.Failure(status: .failed, message: "cannot read the boot id before rebooting: \(before.stderr.trimmed)")
        }
        let command = platform.rebootCommand(graceMinutes: policy.reboot.boundedGraceMinutes, message: rebootText)
        do {
            let step = try await runStep("reboot", command, on: connection, timeout: 60, into: &record)
            if step.exitCode != 0 {
                throw Engine.Failure(status: .failed, message: "reboot command failed (exit \(step.exitCode.map(String.init) ?? "?")): \(step.output.trimmed)")
            }
        } catch is SSHError {
            // `shutdown now` may take the connection down before it answers: expected.
        }
        await connection.session.close()
        let issued = Date()
        // Checked: a Policy built in code may hold any number; the wait stays within the documented ranges.
        let grace = Double(policy.reboot.boundedGraceMinutes) * 60
        let rebootTimeout = policy.rebootTimeout.isFinite
            ? min(max(1, policy.rebootTimeout), Policy.rebootTimeoutRange.upperBound) : Policy.defaultRebootTimeout
        let waitLimit = grace + rebootTimeout
        let deadline = issued.addingTimeInterval(waitLimit)
        // Nothing happens before the grace period ends; then poll until the boot id changes.
        if grace > 0 { try await Task.sleep(nanoseconds: PolicyDuration.nanoseconds(grace)) }
        var lastProblem = "no answer"
        while Date() < deadline {
            try await Task.sleep(nanoseconds: 1_000_000_000)
            do {
                let fresh = try await connection.reconnected()
                let now = try? await fresh.run(platform.bootIDCommand(), timeout: 30)
                if let now, now.exitStatus == 0, !now.stdout.trimmed.isEmpty, now.stdout.trimmed != bootID {
                    record.rebooted = true
                    record.steps.append(DeployStep(phase: "reboot-wait", command: platform.bootIDCommand(), exitCode: 0,
                                                   output: "boot id \(bootID) -> \(now.stdout.trimmed)",
                                                   durationMs: Int(Date().timeIntervalSince(issued) * 1000)))
                    return fresh
                }
                lastProblem = "still up with the same boot id"
                await fresh.session.close()
            } catch {
                lastProblem = "\(error)"
            }
        }
        throw Engine.Failure(status: .failed, message: "host did not come back with a new boot id within \(Int(waitLimit)) s of the reboot (last: \(lastProblem))")
    }

    /// The warning users see, with `{minutes}` filled in.
    var rebootText: String {
        policy.reboot.message.replacingOccurrences(of: "{minutes}", with: String(policy.reboot.boundedGraceMinutes))
    }

    static func tail(_ text: String, limit: Int = 4000) -> String {
        guard text.utf8.count > limit else { return text }
        return "…" + String(decoding: text.utf8.suffix(limit), as: UTF8.self)
    }

    /// apt's `E:` lines and the unmet dependencies it names (or the last line), for a one-line reason.
    static func errorLines(_ output: String) -> String {
        // The end of the output says why: an endpoint may send megabytes, read on the reactor thread.
        let lines = tail(output, limit: 65_536).split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty }
        let errors = lines.filter { $0.hasPrefix("E:") || $0.contains(" Depends: ") || $0.contains(" PreDepends: ") }
        return errors.isEmpty ? (lines.last ?? "no output") : errors.joined(separator: " ")
    }
}
