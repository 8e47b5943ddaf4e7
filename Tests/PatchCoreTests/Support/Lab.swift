import Foundation
import LabSupport
import Testing
@testable import PatchCore
import PatchSSH

/// The real endpoints `make lab` starts (lab/start.sh): OpenSSH's sshd on loopback, each session
/// chrooted into a debootstrapped Debian 12 tree. Settings come from `.lab/lab.env`.
enum Lab {
    static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let env: [String: String] = {
        guard let text = try? String(contentsOf: repository.appendingPathComponent(".lab/lab.env"), encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var value = String(line[line.index(after: equals)...])
            if value.hasPrefix("'"), value.hasSuffix("'"), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            values[String(line[..<equals])] = value
        }
        return values
    }()

    /// Lab tests run when the lab is up; under `make test` (PATCHCTL_REQUIRE_LAB=1) a missing lab fails them instead.
    static var enabled: Bool {
        !env.isEmpty || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    static func value(_ key: String) throws -> String {
        try #require(env[key], "lab not running: \(key) missing from .lab/lab.env (run `make lab`)")
    }

    static func port(_ key: String = "LAB_PORT") throws -> Int {
        try #require(Int(try value(key)))
    }

    static func host(_ name: String = "lab", address: String = "127.0.0.1", portKey: String = "LAB_PORT", keyKey: String = "LAB_KEY",
                     user: String = "root") throws -> Host {
        Host(name: name, address: address, port: try port(portKey), user: user, privateKeyFile: try value(keyKey))
    }

    /// A lab host logging in as a non-root account of the lab trees (LAB_SUDO_USER: sudo asks for
    /// LAB_SUDO_PASSWORD; LAB_NOPASSWD_USER: sudo NOPASSWD), escalating with `become`.
    static func becomeHost(_ name: String = "become", userKey: String = "LAB_SUDO_USER", portKey: String = "LAB_PORT",
                           becomeUser: String = "root", passwordEnv: String? = nil, passwordCommand: String? = nil) throws -> Host {
        var host = try self.host(name, portKey: portKey, user: try value(userKey))
        host.become = true
        host.becomeUser = becomeUser
        host.becomePasswordEnv = passwordEnv
        host.becomePasswordCommand = passwordCommand
        return host
    }

    /// What one command did on each host through `HostFanOut.run`: its result, or how the host failed.
    enum Ran: Sendable {
        case result(CommandResult)
        case failure(HostStatus, String)

        var result: CommandResult? { if case let .result(result) = self { return result } else { return nil } }
        var status: HostStatus? { if case let .failure(status, _) = self { return status } else { return nil } }
        var message: String { if case let .failure(_, message) = self { return message } else { return "" } }
        /// Everything the run produced that a user or a log could see.
        var visibleText: String {
            switch self {
            case let .result(result): return result.stdout + "\n" + result.stderr
            case let .failure(_, message): return message
            }
        }
    }

    /// Runs `commands` in order on one connection per host (as patchctl does), escalated as each host says.
    static func run(_ commands: [String], on hosts: [Host], _ options: ConnectionOptions, forks: Int = 8) async -> [[Ran]] {
        await HostFanOut(options: options).run(
            hosts: hosts, forks: forks,
            work: { connection in
                var outcomes: [Ran] = []
                for command in commands { outcomes.append(.result(try await connection.run(command))) }
                return outcomes
            },
            failed: { _, failure, _ in [.failure(failure.status, failure.message)] }, onFinished: { _ in })
    }

    static func run(_ command: String, on host: Host, _ options: ConnectionOptions) async throws -> Ran {
        try #require(await run([command], on: [host], options).first?.first)
    }

    static func options(knownHosts: String? = nil, acceptNew: Bool = false, commandTimeout: Double = 120,
                        environment: [String: String] = [:]) throws -> ConnectionOptions {
        var env = environment
        env["HOME"] = env["HOME"] ?? NSTemporaryDirectory()  // never pick up the operator's own ~/.ssh keys
        return ConnectionOptions(knownHostsPath: try knownHosts ?? value("LAB_KNOWN_HOSTS"), acceptNewHostKeys: acceptNew,
                                 connectTimeout: 10, commandTimeout: commandTimeout, environment: env)
    }

    /// Tests that run `apt-get update` in the writable tree (or reset its lists lock) take turns across
    /// suites: apt refuses a second update while the lists lock is held.
    static let aptUpdateTurn = AsyncGate(limit: 1)

    static func scan(_ hosts: [Host], _ options: ConnectionOptions, refresh: Bool = false) async -> [HostScan] {
        await ScanRunner(engine: HostFanOut(options: options)).scan(hosts, options: ScanOptions(forks: 8, refresh: refresh))
    }

    /// Runs a command directly in a lab tree (no SSH, no patchctl): the independent answer.
    static func inChroot(_ root: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        process.arguments = [root] + arguments
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "LANG": "C", "HOME": "/root"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        return String(decoding: data, as: UTF8.self)
    }

    // MARK: Deploy endpoints (lab/slot.sh)

    /// Runs `lab/slot.sh` (LAB_SLOT_SCRIPT) with `arguments`; a non-zero exit fails the test with what the script printed.
    static func slot(_ arguments: [String]) throws {
        try script("LAB_SLOT_SCRIPT", arguments)
    }

    /// Runs the lab script named by `key` in lab.env; a non-zero exit fails the test with what it printed.
    static func script(_ key: String, _ arguments: [String]) throws {
        let path = try value(key)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let status = process.waitForExit()
        try #require(status == 0,
                     "\(path) \(arguments.joined(separator: " ")) exited \(status): \(String(decoding: data, as: UTF8.self))")
    }

    /// Makes deploy slot `n` (1...LAB_SLOT_COUNT) a fresh copy of the lab tree and returns its root login:
    /// LAB_SLOT_ADDRESS_PREFIX + n on LAB_DEPLOY_PORT, chrooted into `slotRoot(n)`.
    static func resetSlot(_ n: Int) throws -> Host {
        try slot(["reset", String(n)])
        return try host("slot\(n)", address: try value("LAB_SLOT_ADDRESS_PREFIX") + String(n), portKey: "LAB_DEPLOY_PORT")
    }

    /// The tree deploy slot `n`'s sessions are chrooted into (read it directly for the independent answer).
    static func slotRoot(_ n: Int) throws -> String {
        try value("LAB_SLOTS_ROOT") + "/" + String(n)
    }

    /// Makes the reboot endpoint's tree fresh (new boot id, nothing pending) and returns its root login,
    /// LAB_REBOOT_HOST:LAB_REBOOT_PORT. Its `shutdown -r` really drops the endpoint for LAB_REBOOT_DOWNTIME
    /// seconds, after N lab minutes of LAB_REBOOT_MINUTE seconds each (lab/reboot-supervisor.sh).
    static func resetRebootHost() throws -> Host {
        try slot(["reset", "reboot"])
        return try host("rebooter", address: try value("LAB_REBOOT_HOST"), portKey: "LAB_REBOOT_PORT")
    }

    static func rebootRoot() throws -> String {
        try value("LAB_REBOOT_ROOT")
    }

    /// The boot id a tree answers with (its /proc/sys/kernel/random/boot_id file), read directly.
    static func bootID(root: String) throws -> String {
        try String(contentsOfFile: root + "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `user` shows as logged in (on pts/0) to `who` in slot `slot` ("1"..."6" or "reboot").
    static func login(slot: String, user: String) throws {
        try self.slot(["login", slot, user])
    }

    /// Nobody is logged in to slot `slot` any more.
    static func logout(slot: String) throws {
        try self.slot(["logout", slot])
    }

    /// Leaves dpkg in slot `slot` with patchlab-tool 2.0 unpacked but not configured: `dpkg --audit`
    /// reports it, `dpkg --configure -a` repairs it. (`slot(["break-dpkg", slot, "interrupted"])`
    /// instead kills dpkg mid-configure, so that apt refuses to run until `dpkg --configure -a`.)
    static func breakDpkg(slot: String) throws {
        try self.slot(["break-dpkg", slot])
    }

    /// Runs `body` holding the deploy endpoints (every slot and the reboot endpoint) alone: an flock on
    /// `.lab/deploy-endpoints.lock`, so tests take turns across suites and across test processes. Each test
    /// resets what it uses first, so turns are all it takes for two suites not to reset each other's slots.
    static func withDeployEndpoints<T: Sendable>(waiting seconds: Double = 900, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withLabLock("deploy-endpoints.lock", waiting: seconds, body)
    }

    /// Runs `body` holding `.lab/NAME` (an flock), so that tests sharing a lab endpoint take turns
    /// across suites and test processes.
    static func withLabLock<T: Sendable>(_ name: String, waiting seconds: Double, _ body: @Sendable () async throws -> T) async throws -> T {
        let path = try value("LAB_DIR") + "/" + name
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        try #require(fd >= 0, "cannot open \(path)")
        defer { close(fd) }  // releases the lock
        let deadline = Date().addingTimeInterval(seconds)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            try #require(Date() < deadline, "the lab endpoints behind \(path) stayed busy for \(Int(seconds)) s")
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return try await body()
    }

    // MARK: RHEL-family endpoint (lab/rhel.sh)

    /// RHEL-family lab tests run when lab/start.sh serves that endpoint (LAB_RHEL_PORT, once
    /// lab/build-rhel.sh has built its tree); under `make test` (PATCHCTL_REQUIRE_LAB=1) its absence fails them.
    static var rhelEnabled: Bool {
        env["LAB_RHEL_PORT"] != nil || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    /// Runs `lab/rhel.sh` (LAB_RHEL_SCRIPT) with `arguments`; a non-zero exit fails the test with what it printed.
    static func rhel(_ arguments: [String]) throws {
        try script("LAB_RHEL_SCRIPT", arguments)
    }

    /// Makes the RHEL-family endpoint's tree a fresh copy of its cached build, booted now, and returns
    /// its root login: `address` (any 127.x.y.z with a known_hosts entry) on LAB_RHEL_PORT, chrooted into `rhelRoot()`.
    static func resetRhel(_ name: String = "rocky", address: String = "127.0.0.1") throws -> Host {
        try rhel(["reset"])
        return try host(name, address: address, portKey: "LAB_RHEL_PORT")
    }

    /// The tree the RHEL-family endpoint's sessions are chrooted into (read it directly for the independent answer).
    static func rhelRoot() throws -> String {
        try value("LAB_RHEL_ROOT")
    }

    /// Runs `body` holding the RHEL-family endpoint alone (`.lab/rhel-endpoint.lock`).
    static func withRhelEndpoint<T: Sendable>(waiting seconds: Double = 900, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withLabLock("rhel-endpoint.lock", waiting: seconds, body)
    }

    // MARK: Debian 13 endpoint (lab/trixie.sh)

    /// Debian 13 lab tests run when lab/start.sh serves that endpoint (LAB_TRIXIE_PORT, once
    /// lab/build-trixie.sh has built its tree); under `make test` (PATCHCTL_REQUIRE_LAB=1) its absence fails them.
    static var trixieEnabled: Bool {
        env["LAB_TRIXIE_PORT"] != nil || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    /// Makes the Debian 13 endpoint's tree a fresh copy of its cached build and returns its root login:
    /// `address` (127.0.0.1-3 have known_hosts entries) on LAB_TRIXIE_PORT, chrooted into `trixieRoot()`.
    static func resetTrixie(_ name: String = "trixie", address: String = "127.0.0.1") throws -> Host {
        try script("LAB_TRIXIE_SCRIPT", ["reset"])
        return try host(name, address: address, portKey: "LAB_TRIXIE_PORT")
    }

    /// The tree the Debian 13 endpoint's sessions are chrooted into (read it directly for the independent answer).
    static func trixieRoot() throws -> String {
        try value("LAB_TRIXIE_ROOT")
    }

    /// Runs `body` holding the Debian 13 endpoint alone (`.lab/trixie-endpoint.lock`).
    static func withTrixieEndpoint<T: Sendable>(waiting seconds: Double = 900, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withLabLock("trixie-endpoint.lock", waiting: seconds, body)
    }

    // MARK: SUSE endpoint (lab/suse.sh)

    /// SUSE lab tests run when lab/start.sh serves that endpoint (LAB_SUSE_PORT, once lab/build-suse.sh
    /// has built its tree); under `make test` (PATCHCTL_REQUIRE_LAB=1) its absence fails them.
    static var suseEnabled: Bool {
        env["LAB_SUSE_PORT"] != nil || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    /// Runs `lab/suse.sh` (LAB_SUSE_SCRIPT) with `arguments`; a non-zero exit fails the test with what it printed.
    static func suse(_ arguments: [String]) throws {
        try script("LAB_SUSE_SCRIPT", arguments)
    }

    /// Makes the SUSE endpoint's tree a fresh copy of its cached build (SLES 15 SP5, nothing pending a
    /// reboot) and returns its root login on LAB_SUSE_PORT, chrooted into `suseRoot()`.
    static func resetSuse(_ name: String = "sles", address: String = "127.0.0.1") throws -> Host {
        try suse(["reset"])
        return try host(name, address: address, portKey: "LAB_SUSE_PORT")
    }

    /// The tree the SUSE endpoint's sessions are chrooted into (read it directly for the independent answer).
    static func suseRoot() throws -> String {
        try value("LAB_SUSE_ROOT")
    }

    /// Runs `body` holding the SUSE endpoint alone (`.lab/suse-endpoint.lock`).
    static func withSuseEndpoint<T: Sendable>(waiting seconds: Double = 900, _ body: @Sendable () async throws -> T) async throws -> T {
        try await withLabLock("suse-endpoint.lock", waiting: seconds, body)
    }

    /// Whether a plain TCP connection to `address`:`port` is accepted right now (false when refused).
    static func accepts(_ address: String, port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, address, &sin.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
