import Foundation
import PatchSSH

extension DeployRunner {
    /// One host from scan to verified result. Never throws: whatever happens is in the record,
    /// with everything learned up to that point.
    func deployHost(_ connection: HostConnection, ringIndex: Int, batch: Int, gate: ApprovalGate, runId: String) async -> DeployHostRecord {
        let ring = policy.rings[ringIndex]
        var record = DeployHostRecord(host: connection.host, status: .ok, ring: ring.name, batch: batch, startedAt: Date(), finishedAt: Date())
        var current = connection
        do {
            try await deploy(&record, on: &current, ringIndex: ringIndex, gate: gate, runId: runId)
        } catch {
            let failure = HostFanOut.classify(error)
            record.status = failure.status
            record.error = failure.message
        }
        if current.session !== connection.session { await current.session.close() }
        record.finishedAt = Date()
        return record
    }

    /// One host's flow, phase by phase. Each phase records what it did; a phase that ends the
    /// host's work (nothing to do, deferred, a failed pre check…) makes it return early.
    private func deploy(_ record: inout DeployHostRecord, on connection: inout HostConnection, ringIndex: Int, gate: ApprovalGate, runId: String) async throws {
        // A fresh scan is the plan's only source: the host may have changed since any earlier scan.
        connection.entering(.scanning)
        let (platform, findings) = try await scan(connection, refresh: policy.refresh && !options.dryRun, advisories: options.advisories, record: &record)
        record.rebootRequired = findings.rebootRequired
        let plan = try await plan(findings, platform: platform, ringIndex: ringIndex, gate: gate, record: &record)
        if plan.updates.isEmpty && policy.install.isEmpty && !wantsReboot(installedSomething: false, required: findings.rebootRequired) {
            record.error = nil
            return  // nothing to do: ok
        }
        if try await deferForLoggedInUsers(on: connection, platform: platform, record: &record) { return }
        record.commands = policy.pre + plan.commands + policy.post
        if options.dryRun {
            return try await dryRun(plan, on: connection, ringIndex: ringIndex, record: &record)
        }
        connection.entering(.installing)
        guard try await preflight(on: connection, platform: platform, runId: runId, record: &record) else { return }
        var problem = try await installOSUpdates(plan, on: connection, record: &record)
        if !policy.install.isEmpty, record.status == .ok {
            try await installBundle(on: connection, platform: platform, ringIndex: ringIndex, record: &record)
        }
        try await installThirdParty(plan, on: connection, record: &record)
        connection.entering(.verifying)
        let postFailure = try await postChecks(on: connection, record: &record)
        let rebootRequired = try await rescan(connection, record: &record)
        if wantsReboot(installedSomething: !record.installed.isEmpty, required: rebootRequired), postFailure == nil {
            connection.entering(.rebooting)
            if let skipped = try await rebootPhase(&connection, platform: platform, record: &record) { problem = problem ?? skipped }
        }
        conclude(plan, installProblem: problem, postFailure: postFailure, record: &record)
    }

    // MARK: Phases, in the order they run

    /// Plan: the policy's selection, then this ring's approval, for each finding.
    private func plan(_ findings: ScanFindings, platform: any Platform, ringIndex: Int, gate: ApprovalGate,
                      record: inout DeployHostRecord) async throws -> HostPlan {
        var planned: [PendingUpdate] = []
        for update in findings.updates {
            if case let .skipped(reason) = policy.selection.decide(update) {
                record.skipped.append(SkippedUpdate(update, reason: reason))
                continue
            }
            switch try await gate.decide(update, ringIndex: ringIndex) {
            case .approved:
                planned.append(update)
            case let .awaiting(reason):
                record.skipped.append(SkippedUpdate(update, reason: reason, awaitingApproval: true))
            case let .rejected(reason):
                record.skipped.append(SkippedUpdate(update, reason: reason))
            }
        }
        record.planned = planned.map(PlannedUpdate.init)
        return HostPlan(platform: platform, findings: findings, updates: planned)
    }

    /// Defer: while users are logged in and the policy allows, the host is deferred (true);
    /// once deferrals run out or their deadline passes, it proceeds and that is recorded (forced).
    private func deferForLoggedInUsers(on connection: HostConnection, platform: any Platform, record: inout DeployHostRecord) async throws -> Bool {
        guard let deferment = policy.deferment else { return false }
        let users = platform.parseLoggedInUsers(try await connection.run(platform.loggedInUsersCommand()).stdout)
        record.loggedInUsers = users
        guard !users.isEmpty else { return false }
        let who = users.map { "\($0.user) on \($0.terminal)" }.joined(separator: ", ")
        let store = self.store, policyName = policy.name, hostName = connection.host.name
        let (count, first) = try await OffReactor.run { try store.automaticDeferrals(policy: policyName, host: hostName) }
        let now = options.now()
        var deadlinePassed = false
        if let deadline = deferment.deadline {
            switch deadline {
            case let .at(date): deadlinePassed = now >= date
            case let .after(seconds): deadlinePassed = first.map { now >= $0.addingTimeInterval(seconds) } ?? false
            }
        }
        let deferred = count < deferment.maxDeferrals && !deadlinePassed
        if deferred {
            record.status = .deferred
            record.deferral = "\(users.count) user(s) logged in (\(who)): deferral \(count + 1) of \(deferment.maxDeferrals)"
        } else {
            record.forced = true
            record.deferral = "proceeding although \(who) logged in: " +
                (deadlinePassed ? "deferral deadline passed" : "\(count) of \(deferment.maxDeferrals) deferrals used")
        }
        if !options.dryRun {
            try await audit(EventRecord(at: now, user: options.user, action: deferred ? .deferred : .forced, policy: policy.name,
                                        host: hostName, detail: record.deferral))
        }
        return deferred
    }

    /// Dry run: the exact commands, the bundle's included, and the reboot a real run would issue.
    private func dryRun(_ plan: HostPlan, on connection: HostConnection, ringIndex: Int, record: inout DeployHostRecord) async throws {
        if !policy.install.isEmpty {
            let post = record.commands.suffix(policy.post.count)
            record.commands.removeLast(policy.post.count)
            try await installBundle(on: connection, platform: plan.platform, ringIndex: ringIndex, record: &record)
            record.commands += post
        }
        if wantsReboot(installedSomething: !plan.updates.isEmpty, required: plan.findings.rebootRequired || policy.reboot.mode == .always) {
            record.commands.append(plan.platform.rebootCommand(graceMinutes: policy.reboot.boundedGraceMinutes, message: rebootText))
        }
    }

    /// Preflight: pre checks, the stop flag, the window, the package manager's health and the
    /// intent in history. False when the host must not be touched (the reason is in the record).
    private func preflight(on connection: HostConnection, platform: any Platform, runId: String, record: inout DeployHostRecord) async throws -> Bool {
        // Health checks: a failing pre skips the host (nothing is installed) and counts as a failure.
        for command in policy.pre {
            let step = try await runStep("pre", command, on: connection, timeout: nil, into: &record)
            if step.exitCode != 0 {
                record.status = .failed
                record.error = "pre check failed (exit \(Self.exitText(step))): \(command); nothing installed"
                return false
            }
        }
        // Last moment to stop cleanly: after this a package operation runs to its end.
        if stop.isStopped {
            record.status = .interrupted
            record.error = "interrupted before installing; resume with --resume"
            return false
        }
        if let reason = windowClosed(for: connection.host, at: options.now()) {
            record.status = .skipped
            record.error = "window closed before installing: \(reason)"
            return false
        }
        if case let .broken(detail, repair) = platform.parseHealth(try await connection.run(platform.healthCommand()).stdout) {
            record.status = .error
            record.error = "package manager needs repair before anything can be installed: \(detail)"
            record.repair = repair
            return false
        }
        // The intent goes to history before the first change: a run killed from here on, or one whose
        // history fills up, still shows what was sent. Unrecorded, nothing is sent.
        do {
            var intent = record
            intent.finishedAt = Date()
            let store = self.store, planned = intent
            try await OffReactor.run { try store.recordIntent(runId: runId, host: planned) }
        } catch {
            // Nothing was sent: like a host a signal stopped before its install, `--resume` redoes it.
            record.status = .interrupted
            record.error = "nothing installed: history could not record the plan first (\(error))"
            return false
        }
        return true
    }

    /// Install OS updates with the platform's command, then verify them. Returns what went
    /// wrong (exit status, timeout, a package manager left broken), if anything.
    private func installOSUpdates(_ plan: HostPlan, on connection: HostConnection, record: inout DeployHostRecord) async throws -> String? {
        guard let install = plan.installCommand else { return nil }
        let platform = plan.platform
        var problem: String?
        do {
            let step = try await runStep("install", install, on: connection, timeout: policy.installTimeout, into: &record)
            if step.exitCode != 0 { problem = "install exited \(Self.exitText(step)): \(Self.errorLines(step.output))" }
        } catch SSHError.timeout {
            // The package manager may still be running on the host: it is not killed, only no longer waited for.
            problem = "install did not finish within \(Int(policy.installTimeout)) s (install_timeout); it may still be running on the host"
            record.status = .timeout
        }
        let installProblem = problem
        try await verifyInstalled(plan.osUpdates, command: platform.installedVersionsCommand(plan.osUpdates.map(\.name)),
                                  parse: platform.parseInstalledVersions, on: connection, record: &record) { _, actual in
            installProblem ?? "installed version is \(actual ?? "none") after a successful install"
        }
        if problem != nil || !record.failed.isEmpty,
           case let .broken(detail, repair) = platform.parseHealth(try await connection.run(platform.healthCommand()).stdout) {
            record.repair = repair
            problem = (problem ?? "") + "; package manager left broken: \(detail)"
        }
        return problem
    }

    /// Third-party: snap and flatpak findings, with their own tools, then verified.
    private func installThirdParty(_ plan: HostPlan, on connection: HostConnection, record: inout DeployHostRecord) async throws {
        guard let command = plan.thirdPartyCommand else { return }
        let step = try await runStep("install-third-party", command, on: connection, timeout: policy.installTimeout, into: &record)
        // snap and flatpak install the channel's current revision, which may have moved on since the scan.
        try await verifyInstalled(plan.thirdParty, command: ThirdPartyManager.linuxInstalledVersionsCommand,
                                  parse: ThirdPartyManager.parseLinuxInstalledVersions, on: connection, record: &record) { update, actual in
            step.exitCode == 0 ? "\(update.source) installed \(actual ?? "nothing")"
                : "\(update.source) exited \(Self.exitText(step)): \(Self.errorLines(step.output))"
        }
    }

    /// Post checks: the first failing one, if any (later ones are not run).
    private func postChecks(on connection: HostConnection, record: inout DeployHostRecord) async throws -> String? {
        for command in policy.post {
            let step = try await runStep("post", command, on: connection, timeout: nil, into: &record)
            if step.exitCode != 0 { return "post check failed (exit \(Self.exitText(step))): \(command)" }
        }
        return nil
    }

    /// Verify by re-scanning: what is still pending, and whether the host now needs a reboot.
    private func rescan(_ connection: HostConnection, record: inout DeployHostRecord) async throws -> Bool {
        let (_, after) = try await scan(connection, refresh: false, record: &record)
        record.rebootRequired = after.rebootRequired
        return after.rebootRequired
    }

    /// Reboot, unless the run was stopped or the window closed (then the reason is returned).
    /// `connection` becomes the one made after the host came back.
    private func rebootPhase(_ connection: inout HostConnection, platform: any Platform, record: inout DeployHostRecord) async throws -> String? {
        if stop.isStopped { return "reboot skipped: run interrupted (reboot still required)" }
        if let reason = windowClosed(for: connection.host, at: options.now()) { return "reboot skipped: \(reason)" }
        connection = try await reboot(connection, platform: platform, record: &record)
        _ = try await rescan(connection, record: &record)
        return nil
    }

    /// The host's status and error from every phase's problems.
    private func conclude(_ plan: HostPlan, installProblem: String?, postFailure: String?, record: inout DeployHostRecord) {
        let problems = [installProblem, record.error, postFailure].compactMap { $0 }
        if !record.failed.isEmpty || postFailure != nil || (installProblem != nil && record.status == .ok && record.installed.count < plan.updates.count) {
            if record.status == .ok { record.status = .failed }
        }
        record.error = problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    // MARK: Helpers

    /// The reboot policy's answer for a host that installed something (or not) and whose
    /// scan says a reboot is (or is not) required.
    private func wantsReboot(installedSomething: Bool, required: Bool) -> Bool {
        switch policy.reboot.mode {
        case .never: return false
        case .always: return installedSomething
        case .ifRequired: return required
        }
    }

    /// The one verification: the installed versions read back from the host (its package
    /// database, not the installer's word) decide each update; `reason` says why one failed.
    private func verifyInstalled(_ updates: [PendingUpdate], command: String, parse: (String) -> [String: String],
                                 on connection: HostConnection, record: inout DeployHostRecord,
                                 reason: (PendingUpdate, String?) -> String) async throws {
        let versions = parse(try await connection.run(command).stdout)
        for update in updates {
            // Installed means the database holds exactly the planned version.
            let actual = versions[update.name]
            if actual == update.availableVersion {
                record.installed.append(InstalledPackage(name: update.name, fromVersion: update.installedVersion, toVersion: update.availableVersion))
            } else {
                record.failed.append(FailedPackage(name: update.name, fromVersion: update.installedVersion, targetVersion: update.availableVersion,
                                                   actualVersion: actual, reason: reason(update, actual)))
            }
        }
    }

    static func exitText(_ step: DeployStep) -> String {
        step.exitCode.map(String.init) ?? "?"
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

    /// Facts + scan in one command, parsed by the host's platform; matched against advisories for
    /// the plan (policies select on CVEs), not for the check after installing.
    private func scan(_ connection: HostConnection, refresh: Bool, advisories: AdvisoryIndex? = nil,
                      record: inout DeployHostRecord) async throws -> (any Platform, ScanFindings) {
        let (platform, findings) = try await ScanRunner.detectAndScan(connection, refresh: refresh, advisories: advisories)
        record.os = platform.os
        // Kept in the host's record with the reason, so the operator sees what was refused.
        record.skipped += findings.rejected.map { SkippedUpdate(name: $0.name, version: "", reason: "invalid: " + $0.reason) }
        return (platform, findings)
    }

    @discardableResult
    private func runStep(_ phase: String, _ command: String, on connection: HostConnection, timeout: Double?, into record: inout DeployHostRecord) async throws -> DeployStep {
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
    private func reboot(_ connection: HostConnection, platform: any Platform, record: inout DeployHostRecord) async throws -> HostConnection {
        let before = try await connection.run(platform.bootIDCommand())
        let bootID = before.stdout.trimmed
        guard before.exitStatus == 0, !bootID.isEmpty else {
            throw HostFanOut.Failure(status: .failed, message: "cannot read the boot id before rebooting: \(before.stderr.trimmed)")
        }
        let command = platform.rebootCommand(graceMinutes: policy.reboot.boundedGraceMinutes, message: rebootText)
        do {
            let step = try await runStep("reboot", command, on: connection, timeout: 60, into: &record)
            if step.exitCode != 0 {
                throw HostFanOut.Failure(status: .failed, message: "reboot command failed (exit \(step.exitCode.map(String.init) ?? "?")): \(step.output.trimmed)")
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
        throw HostFanOut.Failure(status: .failed, message: "host did not come back with a new boot id within \(Int(waitLimit)) s of the reboot (last: \(lastProblem))")
    }

    /// The warning users see, with `{minutes}` filled in.
    var rebootText: String {
        policy.reboot.message.replacingOccurrences(of: "{minutes}", with: String(policy.reboot.boundedGraceMinutes))
    }

    static func tail(_ text: String, limit: Int = 4000) -> String {
        guard text.utf8.count > limit else { return text }
        return "…" + String(decoding: text.utf8.suffix(limit), as: UTF8.self)
    }

    /// apt's `E:` (apt 3.0: `Error:`) lines and the unmet dependencies it names (or the last line), for a one-line reason.
    static func errorLines(_ output: String) -> String {
        // The end of the output says why: an endpoint may send megabytes, read on the reactor thread.
        let lines = tail(output, limit: 65_536).split(separator: "\n").map { $0.trimmed }.filter { !$0.isEmpty }
        let errors = lines.filter { DebianPlatform.isAptError($0) || $0.contains(" Depends: ") || $0.contains(" PreDepends: ") }
        return BoundedMessage.bounded(errors.isEmpty ? (lines.last ?? "no output") : errors.joined(separator: " "), bytes: 2000)
    }
}
