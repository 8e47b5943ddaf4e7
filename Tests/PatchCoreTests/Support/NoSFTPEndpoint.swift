import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// A second real sshd (the machine's /usr/sbin/sshd, as the lab's) serving some deploy slots'
/// trees with the lab's keys but without any `Subsystem sftp` line, as hardened baselines
/// configure it: every SFTP request is refused. Started by the test on a free port of the slots'
/// addresses, each chrooted into its slot as the lab's sshd does; stopped (SIGKILL) when released.
/// Callers hold the deploy endpoints (`Lab.withDeployEndpoints`) and reset the slots they use.
final class NoSFTPEndpoint: @unchecked Sendable {
    let port: Int
    let directory: URL
    /// The listening daemon's pid (0 once stopped).
    private var pid: Int32

    /// known_hosts for the lab's addresses plus this daemon's `[address]:port` entries.
    var knownHostsPath: String { directory.appendingPathComponent("known_hosts").path }
    var logPath: String { directory.appendingPathComponent("sshd.log").path }

    init(slots: [Int]) throws {
        let directory = try Lab.temporaryDirectory()
        let knownHostsPath = directory.appendingPathComponent("known_hosts").path
        let logPath = directory.appendingPathComponent("sshd.log").path
        let prefix = try Lab.value("LAB_SLOT_ADDRESS_PREFIX")
        let addresses = slots.map { prefix + String($0) }
        let port = try Self.freePort(on: addresses[0])
        var config = """
            Port \(port)
            \(addresses.map { "ListenAddress \($0)" }.joined(separator: "\n"))
            HostKey \(try Lab.value("LAB_DIR"))/ssh_host_ed25519_key
            LogLevel ERROR
            UseDNS no
            UsePAM no
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            AuthorizedKeysFile \(try Lab.value("LAB_DIR"))/authorized_keys
            StrictModes no
            AllowUsers root@127.*
            MaxStartups 100:30:200
            PrintMotd no
            PrintLastLog no
            # No Subsystem line: SFTP is refused.
            ChrootDirectory \(try Lab.value("LAB_ROOT"))

            """
        for (slot, address) in zip(slots, addresses) {
            config += "Match LocalAddress \(address) LocalPort \(port)\n    ChrootDirectory \(try Lab.slotRoot(slot))\n"
        }
        let configPath = directory.appendingPathComponent("sshd_config").path
        let hostKey = try String(contentsOfFile: try Lab.value("LAB_HOST_KEY_PUB_FILE"), encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        let labKnown = try String(contentsOfFile: try Lab.value("LAB_KNOWN_HOSTS"), encoding: .utf8)
        try (labKnown + addresses.map { "[\($0)]:\(port) \(hostKey)\n" }.joined())
            .write(toFile: knownHostsPath, atomically: true, encoding: .utf8)

        // Daemon mode: sshd forks and its first process exits once it listens. A `-D` child that
        // lives on would hold Foundation's child reaper (other Process waits in the test hang).
        let pidPath = directory.appendingPathComponent("sshd.pid").path
        config = "PidFile \(pidPath)\n" + config
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        let launcher = Process()
        launcher.executableURL = URL(fileURLWithPath: "/usr/sbin/sshd")
        launcher.arguments = ["-f", configPath, "-E", logPath]
        launcher.standardInput = FileHandle.nullDevice
        try launcher.run()
        let started = launcher.waitForExit()
        self.port = port
        self.directory = directory
        pid = 0
        let log = { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
        guard started == 0 else { throw Failure("sshd without sftp did not start (exit \(started)): \(log())") }
        // The detached daemon writes its pid file, then every address accepts connections.
        let deadline = Date().addingTimeInterval(120)  // a loaded machine starts daemons slowly
        while true {
            if pid == 0, let text = try? String(contentsOfFile: pidPath, encoding: .utf8), let value = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                pid = value
            }
            if pid > 0, addresses.allSatisfy({ Lab.accepts($0, port: port) }) { break }
            guard Date() < deadline else {
                stop()
                throw Failure("sshd without sftp did not listen: \(log())")
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL: the test runner starts children with SIGTERM blocked. The daemon is not our child
    /// (it detached), so init reaps it.
    func stop() {
        guard pid > 0 else { return }
        kill(pid, SIGKILL)
        pid = 0
    }

    /// Slot `n`'s root login through this daemon.
    func host(slot: Int) throws -> Host {
        Host(name: "nosftp\(slot)", address: try Lab.value("LAB_SLOT_ADDRESS_PREFIX") + String(slot), port: port, user: "root",
             privateKeyFile: try Lab.value("LAB_KEY"))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A port nobody listens on at `address` now (the kernel's pick).
    static func freePort(on address: String) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket() failed") }
        defer { close(fd) }
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_port = 0
        inet_pton(AF_INET, address, &sin.sin_addr)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &sin) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure("cannot bind \(address)") }
        return Int(UInt16(bigEndian: sin.sin_port))
    }
}

