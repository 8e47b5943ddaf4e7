import Foundation
import Testing
@testable import PatchCore

/// `become` against the lab's real sshd and real sudo (lab/provision.sh): logins as the lab's
/// non-root accounts, escalating with `sudo -n` or `sudo -S` answering the prompt. Every success
/// asserts who the command ran as, so a broken escalation cannot pass on status alone.
@Suite("become (sudo) against the lab", .serialized, .enabled(if: Lab.enabled))
struct LabBecomeTests {
    /// Name of the environment variable the tests put the sudo password in (never a real variable).
    static let passwordVariable = "PATCHCTL_TEST_BECOME_PASSWORD"

    private func password() throws -> String { try Lab.value("LAB_SUDO_PASSWORD") }

    private func options(password: String? = nil, commandTimeout: Double = 120) throws -> ConnectionOptions {
        try Lab.options(commandTimeout: commandTimeout, environment: password.map { [Self.passwordVariable: $0] } ?? [:])
    }

    // MARK: - Preconditions: the accounts really are unprivileged

    @Test func labAccountsAreNotRootWithoutBecome() async throws {
        for userKey in ["LAB_SUDO_USER", "LAB_NOPASSWD_USER"] {
            var host = try Lab.becomeHost(userKey: userKey)
            host.become = false
            let ran = try await Lab.run("id -un; id -u", on: host, try options())
            let result = try #require(ran.result, "\(userKey): \(ran.message)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.first.map(String.init) == (try Lab.value(userKey)))
            #expect(lines.count == 2 && lines[1] != "0", "\(result.stdout)")
        }
    }

    // MARK: - Escalation to root

    @Test func passwordFromEnvironmentEscalatesAndNeverShows() async throws {
        let password = try password()
        let host = try Lab.becomeHost(passwordEnv: Self.passwordVariable)
        // `cat` reads what is left of stdin after sudo took its line: the password must not be there.
        let ran = try await Lab.run("id -u; cat; echo done >&2", on: host, try options(password: password, commandTimeout: 30))
        let result = try #require(ran.result, "\(ran.message)")
        #expect(result.exitStatus == 0)
        #expect(result.stdout == "0\n")
        #expect(result.stderr.hasSuffix("done\n"), "\(result.stderr)")
        #expect(!result.stdout.contains(password) && !result.stderr.contains(password))
        #expect(!result.stderr.contains("patchctl-sudo-"), "the prompt marker is removed from stderr: \(result.stderr)")
    }

    @Test func passwordFromCommandFirstLineOnly() async throws {
        let password = try password()
        let command = "printf '%s\\n' " + Shell.quote(password) + " second-line-ignored"
        let host = try Lab.becomeHost(passwordCommand: command)
        let ran = try await Lab.run("id -u", on: host, try options())
        let result = try #require(ran.result, "\(ran.message)")
        #expect(result.stdout == "0\n")
        #expect(!ran.visibleText.contains(password))
    }

    @Test func loginPasswordIsTheFallbackBecomePassword() async throws {
        // The key logs in (the lab refuses password logins); the login password then answers sudo.
        var host = try Lab.becomeHost()
        host.passwordEnv = Self.passwordVariable
        let ran = try await Lab.run("id -u", on: host, try options(password: try password()))
        #expect(ran.result?.stdout == "0\n", "\(ran.message)")
    }

    @Test func nopasswdAccountNeedsNoPassword() async throws {
        let host = try Lab.becomeHost(userKey: "LAB_NOPASSWD_USER")
        let ran = try await Lab.run("id -u", on: host, try options())
        let result = try #require(ran.result, "\(ran.message)")
        #expect(result.exitStatus == 0)
        #expect(result.stdout == "0\n")
    }

    @Test func rootLoginWithBecomeRunsDirectly() async throws {
        var host = try Lab.host()
        host.become = true
        let ran = try await Lab.run("id -u; echo \"${SUDO_USER:-none}\"", on: host, try options())
        #expect(ran.result?.stdout == "0\nnone\n", "\(ran.message)")
    }

    @Test func severalEscalatedCommandsOnOneConnection() async throws {
        // After the first, sudo may answer from its timestamp without prompting.
        let host = try Lab.becomeHost(passwordEnv: Self.passwordVariable)
        let runs = try #require(await Lab.run(["id -u", "id -u", "id -un"], on: [host], try options(password: try password())).first)
        #expect(runs.map { $0.result?.stdout } == ["0\n", "0\n", "root\n"], "\(runs.map(\.message))")
    }

    @Test func everyEscalatedCommandGetsEndOfInput() async throws {
        // sudo keys its credential cache on the session, and each SSH channel is a session of its
        // own, so every command prompts; each must then see end of input once sudo took its line.
        let host = try Lab.becomeHost(passwordEnv: Self.passwordVariable)
        let started = Date()
        let runs = try #require(await Lab.run(["cat; id -u", "cat; id -u"], on: [host], try options(password: try password(), commandTimeout: 20)).first)
        #expect(runs.map { $0.result?.stdout } == ["0\n", "0\n"], "\(runs.map(\.message))")
        #expect(Date().timeIntervalSince(started) < 39, "neither command waited out its 20 s timeout")
    }

    @Test func stdinIsClosedWhenSudoDoesNotPrompt() async throws {
        // A become password is configured but sudo does not ask for it (here a NOPASSWD rule; also
        // a credential cached under `timestamp_type=global`). The command must still see end of
        // input at once rather than wait for the command timeout.
        let host = try Lab.becomeHost(userKey: "LAB_NOPASSWD_USER", passwordEnv: Self.passwordVariable)
        // A `cat` waiting for input would end in the command timeout, killed before `id -u` prints.
        let ran = try await Lab.run("cat; id -u", on: host, try options(password: "unused", commandTimeout: 300))
        #expect(ran.result?.stdout == "0\n", "\(ran.message)")
    }

    // MARK: - Escalation to another user

    @Test func becomeUserOtherThanRoot() async throws {
        let nopasswd = try Lab.value("LAB_NOPASSWD_USER")
        let sudoUser = try Lab.value("LAB_SUDO_USER")
        // patchlab (sudo ALL with password) -> patchnopw
        let withPassword = try Lab.becomeHost(becomeUser: nopasswd, passwordEnv: Self.passwordVariable)
        let first = try await Lab.run("id -un; echo \"$SUDO_USER\"", on: withPassword, try options(password: try password()))
        #expect(first.result?.stdout == "\(nopasswd)\n\(sudoUser)\n", "\(first.message)")
        // patchnopw (sudo NOPASSWD) -> patchlab, with `sudo -n`
        let withoutPassword = try Lab.becomeHost(userKey: "LAB_NOPASSWD_USER", becomeUser: sudoUser)
        let second = try await Lab.run("id -un; echo \"$HOME\"", on: withoutPassword, try options())
        #expect(second.result?.stdout == "\(sudoUser)\n/home/\(sudoUser)\n", "sudo -H sets the target's HOME: \(second.message)")
    }

    // MARK: - Failures

    @Test func missingPasswordIsAuthFailed() async throws {
        let ran = try await Lab.run("id -u", on: try Lab.becomeHost(), try options())
        #expect(ran.status == .authFailed, "\(ran)")
        #expect(ran.message.contains("sudo needs a password"), "\(ran.message)")
    }

    @Test func wrongPasswordIsAuthFailedQuickly() async throws {
        let wrong = "wrong-\(UUID().uuidString)"
        let host = try Lab.becomeHost(passwordEnv: Self.passwordVariable)
        let started = Date()
        let ran = try await Lab.run("id -u", on: host, try options(password: wrong, commandTimeout: 60))
        #expect(ran.status == .authFailed, "\(ran)")
        #expect(ran.message.contains("refused"), "\(ran.message)")
        #expect(!ran.message.contains(wrong))
        // sudo's own failure delay is ~2 s; waiting for the 60 s command timeout would mean a hang.
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func wrongPasswordFromCommand() async throws {
        let host = try Lab.becomeHost(passwordCommand: "echo not-the-password")
        let ran = try await Lab.run("id -u", on: host, try options(commandTimeout: 60))
        #expect(ran.status == .authFailed, "\(ran)")
        #expect(ran.message.contains("refused"), "\(ran.message)")
    }

    @Test func missingPasswordVariableFailsBeforeConnecting() async throws {
        let host = try Lab.becomeHost(passwordEnv: Self.passwordVariable)
        let ran = try await Lab.run("id -u", on: host, try options())
        #expect(ran.status == .authFailed, "\(ran)")
        #expect(ran.message.contains(Self.passwordVariable), "\(ran.message)")
    }

    // MARK: - Scans with become

    @Test func scanWithBecomeEqualsRootScan() async throws {
        let root = try #require(await Lab.scan([try Lab.host("root")], try options()).first)
        #expect(root.status == .ok, "\(root.error ?? "")")
        let hosts = [try Lab.becomeHost("patchlab", passwordEnv: Self.passwordVariable),
                     try Lab.becomeHost("patchnopw", userKey: "LAB_NOPASSWD_USER")]
        for scan in await Lab.scan(hosts, try options(password: try password())) {
            #expect(scan.status == .ok, "\(scan.name): \(scan.error ?? "")")
            #expect(scan.os == root.os, "\(scan.name)")
            #expect(scan.installedCount == root.installedCount, "\(scan.name)")
            #expect(scan.rebootRequired == root.rebootRequired, "\(scan.name)")
            #expect(scan.updates == root.updates, "\(scan.name)")
            #expect(!scan.updates.isEmpty && scan.updates.contains { $0.security }, "\(scan.name)")
        }
    }

    @Test func scanWithBecomeAndWrongPasswordIsAuthFailed() async throws {
        // Proves the scan's package query really goes through sudo.
        let host = try Lab.becomeHost(passwordEnv: Self.passwordVariable)
        let scan = try #require(await Lab.scan([host], try options(password: "not-the-password")).first)
        #expect(scan.status == .authFailed, "\(scan.error ?? "")")
        #expect(scan.updates.isEmpty)
    }

    @Test func refreshNeedsBecomeAndWorksWithIt() async throws {
        // apt-get update needs root (the lists lock): refused without become, done with it.
        let rwRoot = try Lab.value("LAB_RW_ROOT")
        let lock = rwRoot + "/var/lib/apt/lists/lock"
        var unescalated = try Lab.becomeHost("plain", portKey: "LAB_RW_PORT")
        unescalated.become = false
        let plain = unescalated
        let host = try Lab.becomeHost("rw", portKey: "LAB_RW_PORT", passwordEnv: Self.passwordVariable)
        let options = try options(password: try password())
        try await Lab.aptUpdateTurn.pass {
            try? FileManager.default.removeItem(atPath: lock)
            let refused = try #require(await Lab.scan([plain], options, refresh: true).first)
            #expect(refused.status == .error, "an unprivileged apt-get update must fail: \(refused.error ?? "")")
            #expect(refused.error?.contains("Permission denied") == true, "\(refused.error ?? "")")
            #expect(!FileManager.default.fileExists(atPath: lock))

            let scan = try #require(await Lab.scan([host], options, refresh: true).first)
            #expect(scan.status == .ok, "\(scan.error ?? "")")
            let owner = try FileManager.default.attributesOfItem(atPath: lock)[.ownerAccountID] as? Int
            #expect(owner == 0, "apt-get update ran as root")
            #expect(scan.updates.contains { $0.name == "patchlab-canary" })
        }
    }

    // MARK: - --become

    @Test func becomeOverridesTheInventoryForEveryCommand() async throws {
        var host = try Lab.becomeHost(userKey: "LAB_NOPASSWD_USER")
        host.become = false
        let plain = try #require(await ExecRunner(engine: HostFanOut(options: try options())).exec("id -u", on: [host], options: ExecOptions(forks: 1)).first)
        #expect(plain.status == .ok && plain.stdout != "0\n", "without --become the login user runs it: \(plain.stdout)")
        // --become is the connection's, so exec, scan, install and deploy all escalate through the one fan-out.
        var escalating = try options()
        escalating.become = true
        let results = await ExecRunner(engine: HostFanOut(options: escalating)).exec("id -u", on: [host], options: ExecOptions(forks: 1))
        let result = try #require(results.first)
        #expect(result.status == .ok, "\(result.error ?? "")")
        #expect(result.stdout == "0\n")
    }
}
