import Foundation
import LabSupport
import Testing
@testable import PatchCore
@testable import PatchSSH

/// Scans against the real lab: OpenSSH on loopback, Debian 12 trees, real apt state.
@Suite("Scan against the lab's real sshd and apt", .serialized, .enabled(if: Lab.enabled))
struct LabScanTests {
    @Test func scanEqualsAptsOwnAnswer() async throws {
        let root = try Lab.value("LAB_ROOT")
        let results = await Lab.scan([try Lab.host()], try Lab.options())
        let scan = try #require(results.first)
        #expect(scan.status == .ok, "\(scan.error ?? "")")
        #expect(scan.os?.family == .debian && scan.os?.id == "debian" && scan.os?.version == "12" && scan.os?.codename == "bookworm")

        // apt's own answer, computed without SSH or patchctl: `apt list --upgradable` in the same tree.
        var expected: [String: (version: String, security: Bool)] = [:]
        for line in try Lab.inChroot(root, ["apt", "list", "--upgradable"]).split(separator: "\n") where line.contains("[upgradable from:") {
            let fields = line.split(separator: " ")
            let nameAndSuites = fields[0].split(separator: "/")
            let suites = nameAndSuites[1].split(separator: ",")
            expected[String(nameAndSuites[0])] = (String(fields[1]), suites.contains { $0.hasSuffix("-security") })
        }
        #expect(!expected.isEmpty, "the lab tree should have pending updates")
        #expect(Set(scan.updates.map(\.name)) == Set(expected.keys))
        for update in scan.updates {
            #expect(update.availableVersion == expected[update.name]?.version, "\(update.name)")
            #expect(update.security == expected[update.name]?.security, "\(update.name) security flag")
        }
        #expect(scan.updates.contains { $0.name == "patchlab-canary" && $0.security })
        #expect(scan.updates.contains { $0.name == "patchlab-tool" && !$0.security })

        let installed = try Lab.inChroot(root, ["dpkg-query", "-W", "-f=${db:Status-Abbrev}\n"]).split(separator: "\n").filter { $0.hasPrefix("ii") }.count
        #expect(scan.installedCount == installed)
        #expect(scan.rebootRequired == FileManager.default.fileExists(atPath: root + "/var/run/reboot-required"))
    }

    @Test func everyLoopbackAddressIncludingHashedKnownHostsEntry() async throws {
        let hosts = try ["127.0.0.1", "127.0.0.2", "127.0.0.3", try Lab.value("LAB_HASHED_HOST")].enumerated().map {
            try Lab.host("h\($0.offset)", address: $0.element)
        }
        let results = await Lab.scan(hosts, try Lab.options())
        #expect(results.map(\.name) == ["h0", "h1", "h2", "h3"])
        for result in results { #expect(result.status == .ok, "\(result.name): \(result.error ?? "")") }
        #expect(Set(results.map { $0.updates.count }).count == 1)
    }

    @Test func changedHostKeyIsRefused() async throws {
        let result = try #require(await Lab.scan([try Lab.host()], try Lab.options(knownHosts: try Lab.value("LAB_WRONG_KNOWN_HOSTS"))).first)
        #expect(result.status == .hostKeyMismatch)
        #expect(result.error?.contains("HOST KEY CHANGED") == true)
        #expect(result.updates.isEmpty && result.os == nil)
    }

    @Test func changedHostKeyIsRefusedEvenWithAcceptNew() async throws {
        let result = try #require(await Lab.scan([try Lab.host()], try Lab.options(knownHosts: try Lab.value("LAB_WRONG_KNOWN_HOSTS"), acceptNew: true)).first)
        #expect(result.status == .hostKeyMismatch)
    }

    @Test func unknownHostKeyIsRefusedThenAcceptedOnlyWhenAsked() async throws {
        let folder = try Lab.temporaryDirectory()
        let knownHosts = folder.appendingPathComponent("known_hosts").path
        let strict = try #require(await Lab.scan([try Lab.host()], try Lab.options(knownHosts: knownHosts)).first)
        #expect(strict.status == .hostKeyUnknown)
        // The fingerprint, and the exact ways to trust it.
        let said = try #require(strict.error)
        #expect(said.contains("host key SHA256:") && said.contains("is unknown (not in \(knownHosts))"), "\(said)")
        #expect(said.contains("ssh-keyscan -p \(strict.port) \(strict.address) >> \(knownHosts)") && said.contains("--accept-new-host-keys"), "\(said)")
        #expect(!FileManager.default.fileExists(atPath: knownHosts))

        let accepted = try #require(await Lab.scan([try Lab.host()], try Lab.options(knownHosts: knownHosts, acceptNew: true)).first)
        #expect(accepted.status == .ok, "\(accepted.error ?? "")")
        let written = try String(contentsOfFile: knownHosts, encoding: .utf8)
        let labKey = try String(contentsOfFile: try Lab.value("LAB_HOST_KEY_PUB_FILE"), encoding: .utf8).split(separator: " ")[1]
        #expect(written.hasPrefix("[127.0.0.1]:\(try Lab.port()) ssh-ed25519 \(labKey)"))
        let attributes = try FileManager.default.attributesOfItem(atPath: knownHosts)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let again = try #require(await Lab.scan([try Lab.host()], try Lab.options(knownHosts: knownHosts)).first)
        #expect(again.status == .ok)
    }

    @Test func wrongClientKeyIsAuthFailed() async throws {
        let result = try #require(await Lab.scan([try Lab.host(keyKey: "LAB_WRONG_KEY")], try Lab.options()).first)
        #expect(result.status == .authFailed)
        #expect(result.error?.contains("authentication failed for user root") == true)
    }

    @Test func passphraseProtectedKey() async throws {
        let passphrase = try Lab.value("LAB_PASSPHRASE")
        let withPassphrase = try #require(await Lab.scan([try Lab.host(keyKey: "LAB_PASS_KEY")],
                                                          try Lab.options(environment: ["PATCHCTL_KEY_PASSPHRASE": passphrase])).first)
        #expect(withPassphrase.status == .ok, "\(withPassphrase.error ?? "")")
        let without = try #require(await Lab.scan([try Lab.host(keyKey: "LAB_PASS_KEY")], try Lab.options()).first)
        #expect(without.status == .authFailed)
        #expect(without.error?.contains("PATCHCTL_KEY_PASSPHRASE") == true, "\(without.error ?? "")")
        let wrong = try #require(await Lab.scan([try Lab.host(keyKey: "LAB_PASS_KEY")],
                                                try Lab.options(environment: ["PATCHCTL_KEY_PASSPHRASE": "nope"])).first)
        #expect(wrong.status == .authFailed)
    }

    @Test func sshAgentIdentityIsUsedWhenNoKeyIsNamed() async throws {
        let folder = try Lab.temporaryDirectory()
        let socket = folder.appendingPathComponent("agent.sock").path
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        try agent.run()
        // SIGKILL: ssh-agent -D does not always leave on SIGTERM here, and the test must not hang.
        defer { kill(agent.processIdentifier, SIGKILL); agent.waitForExit() }
        // At least 30 s: a loaded machine may start ssh-agent slowly (the loop ends as soon as the socket is there).
        for _ in 0..<1500 where !FileManager.default.fileExists(atPath: socket) { try await Task.sleep(nanoseconds: 20_000_000) }
        let add = Process()
        add.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-add")
        add.arguments = ["-q", try Lab.value("LAB_KEY")]
        add.environment = ["SSH_AUTH_SOCK": socket]
        add.standardError = FileHandle.nullDevice
        try add.run()
        let status = add.waitForExit()
        try #require(status == 0)

        // No key file named and none in HOME: only the agent can log in.
        let host = Host(name: "agent", address: "127.0.0.1", port: try Lab.port(), user: "root")
        let viaAgent = try #require(await Lab.scan([host], try Lab.options(environment: ["SSH_AUTH_SOCK": socket])).first)
        #expect(viaAgent.status == .ok, "\(viaAgent.error ?? "")")
        let withoutAgent = try #require(await Lab.scan([host], try Lab.options()).first)
        #expect(withoutAgent.status == .authFailed)
    }

    @Test func closedPortIsUnreachable() async throws {
        let port = try closedPort()
        let host = Host(name: "closed", address: "127.0.0.1", port: port, user: "root", privateKeyFile: try Lab.value("LAB_KEY"))
        let result = try #require(await Lab.scan([host], try Lab.options()).first)
        #expect(result.status == .unreachable)
        #expect(result.error?.contains("Connection refused") == true)
    }

    @Test func slowCommandTimesOutWithoutHoldingOthers() async throws {
        let slow = try Lab.host("slow", portKey: "LAB_SLOW_PORT")
        let fast = try Lab.host("fast")
        // 20 s: room for the fast host's scan on a loaded machine; the slow one would run 600 s.
        let results = await Lab.scan([slow, fast], try Lab.options(commandTimeout: 20))
        #expect(results[0].status == .timeout)
        #expect(results[0].error?.contains("command timed out after 20s") == true)
        #expect(results[1].status == .ok, "\(results[1].error ?? "")")
        // Not held: the fast host was done while the slow one still waited for its timeout.
        #expect(results[1].finishedAt < results[0].finishedAt)
    }

    @Test func dataInCommandsIsInert() async throws {
        let rwRoot = try Lab.value("LAB_RW_ROOT")
        let marker = "pwned-\(UUID().uuidString)"
        let hostile = "x; touch /tmp/\(marker); $(touch /tmp/\(marker)-2) `touch /tmp/\(marker)-3` ' \" \\"
        let host = try Lab.host("rw", portKey: "LAB_RW_PORT")
        let engine = HostFanOut(options: try Lab.options())
        let outputs = await engine.run(
            hosts: [host], forks: 1,
            work: { connection in try await connection.run("printf '%s' " + Shell.quote(hostile)).stdout },
            failed: { _, failure, _ in "failed: \(failure.message)" }, onFinished: { _ in })
        #expect(outputs == [hostile])
        for suffix in ["", "-2", "-3"] {
            #expect(!FileManager.default.fileExists(atPath: "\(rwRoot)/tmp/\(marker)\(suffix)"))
        }
    }

    @Test func refreshRunsAptUpdateOnTheEndpoint() async throws {
        let rwRoot = try Lab.value("LAB_RW_ROOT")
        // apt-get update takes the lists lock (creating the file); a NoLocking simulation never does.
        let lock = rwRoot + "/var/lib/apt/lists/lock"
        try await Lab.aptUpdateTurn.pass {
            try? FileManager.default.removeItem(atPath: lock)
            let result = try #require(await Lab.scan([try Lab.host("rw", portKey: "LAB_RW_PORT")], try Lab.options(), refresh: true).first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(FileManager.default.fileExists(atPath: lock))
            #expect(result.updates.contains { $0.name == "patchlab-canary" })
        }
    }

    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Windows hosts get PowerShell, never the POSIX script: shown against a Linux endpoint, which
/// has no powershell.exe, so what reaches it (and how the failure reads) is visible.
@Suite("Windows routing against the lab", .enabled(if: Lab.enabled))
struct LabWindowsRoutingTests {
    @Test func hostMarkedWindowsIsSentAnEncodedPowerShellScan() async throws {
        var host = try Lab.host("win-marked")
        host.shellType = .powershell
        host.become = true  // no sudo on Windows: ignored
        let result = try #require(await Lab.scan([host], try Lab.options()).first)
        #expect(result.status == .error)
        #expect(result.error?.contains("the Windows scan printed no OS facts (exit 127)") == true, "\(result.error ?? "")")
        #expect(result.error?.contains("powershell.exe") == true && result.error?.contains("not found") == true, "\(result.error ?? "")")
        let line = WindowsPlatform.scanCommand(refresh: false)
        #expect(line.hasPrefix("powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand "))
        #expect(HostConnection.escalate(line, host: host, loginUser: "root", password: nil).0 == line)
    }
}
