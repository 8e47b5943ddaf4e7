import Foundation

/// A hostile (or just broken) endpoint: the machine's real OpenSSH sshd, started by
/// `lab/hostile/serve.sh` with its own keys and config, whose every session runs a
/// `ForceCommand` answering with crafted output. Each loopback address (127.0.6.N) is one
/// endpoint with its own scenario, so one daemon serves a whole crafted fleet; every command a
/// client sends is logged per address. Stopped (daemon and files) when released.
public final class HostileEndpoint: @unchecked Sendable {
    /// What one address answers to every command.
    public enum Scenario: Sendable {
        /// These exact bytes on stdout, exit 0.
        case output([UInt8])
        /// A POSIX sh script (it sees `$SSH_ORIGINAL_COMMAND` and `$HOSTILE_DIR`).
        case script(String)
    }

    /// serve.sh runs the machine's sshd, which needs root (as the lab does); `make test` runs as root.
    public static var canRun: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") }

    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public let directory: URL
    public let port: Int
    private let process: Process

    public var knownHostsPath: String { directory.appendingPathComponent("known_hosts").path }
    public var keyPath: String { directory.appendingPathComponent("id_ed25519").path }

    public init(_ scenarios: [String: Scenario]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-hostile-\(UUID().uuidString)")
        let scenarioFolder = directory.appendingPathComponent("scenarios")
        let dataFolder = directory.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: scenarioFolder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        for (address, scenario) in scenarios {
            switch scenario {
            case let .output(bytes):
                let data = dataFolder.appendingPathComponent(address)
                try Data(bytes).write(to: data)
                try "cat '\(data.path)'\n".write(to: scenarioFolder.appendingPathComponent(address), atomically: true, encoding: .utf8)
            case let .script(text):
                try text.write(to: scenarioFolder.appendingPathComponent(address), atomically: true, encoding: .utf8)
            }
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.repository.appendingPathComponent("lab/hostile/serve.sh").path, directory.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // serve.sh prints "PORT n" once every address accepts connections.
        let (port, text) = Self.announcedPort(output)
        guard let port else {
            process.terminate()
            throw Failure("hostile endpoint did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Reads a test server's first line, `PORT n` (what it printed, for the error otherwise).
    public static func announcedPort(_ output: Pipe) -> (Int?, String) {
        var text = ""
        while !text.contains("\n") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("PORT ") else { return (nil, text) }
        return (Int(line.dropFirst(5)), text)
    }

    /// SIGKILL to the daemon (its pid is in sshd.pid) and to serve.sh: the test runner starts
    /// children with SIGTERM blocked, so only SIGKILL is sure to arrive.
    public func stop() {
        guard process.isRunning else { return }
        let pidFile = directory.appendingPathComponent("sshd.pid").path
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
    }

    /// Every command clients sent to `address`, in order.
    public func commands(_ address: String) -> [String] {
        let path = directory.appendingPathComponent("commands/\(address).log").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.components(separatedBy: "\n---\n").filter { !$0.isEmpty }
    }

    /// An Ansible YAML inventory naming each address as a host (`name: address`).
    public func inventory(_ hosts: [(name: String, address: String)], vars: String = "") -> String {
        var yaml = "all:\n  vars:\n    ansible_user: root\n    ansible_port: \(port)\n    ansible_ssh_private_key_file: \(keyPath)\n"
        for line in vars.split(separator: "\n") { yaml += "    \(line)\n" }
        yaml += "  hosts:\n"
        for host in hosts { yaml += "    \(host.name):\n      ansible_host: \(host.address)\n" }
        return yaml
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }
}

/// Crafted scan outputs in the section format patchctl's POSIX scan prints.
public enum CraftedScan {
    public static let debianOSRelease = """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION_CODENAME=bookworm
        ID=debian
        """

    /// A Debian scan answer: os-release, uname, the `apt-get -s` lines, its exit, counts, reboot.
    public static func debian(osRelease: String = debianOSRelease, apt: String, aptExit: Int = 0) -> [UInt8] {
        Array("""
            @@patchctl os-release
            \(osRelease)
            @@patchctl uname
            Linux
            6.1.0-18-amd64
            x86_64
            @@patchctl apt
            \(apt)
            @@patchctl apt-exit
            \(aptExit)
            @@patchctl installed
            412
            @@patchctl reboot
            none

            """.utf8)
    }

    /// A SUSE scan answer whose list-patches section is `patches` (updates: none).
    public static func suse(patches: String) -> [UInt8] {
        Array("""
            @@patchctl os-release
            NAME="SLES"
            VERSION_ID="15.5"
            ID="sles"
            ID_LIKE="suse"
            @@patchctl uname
            Linux
            5.14.21-150500.55.39-default
            x86_64
            @@patchctl patches
            \(patches)
            @@patchctl patches-exit
            0
            @@patchctl updates
            <?xml version='1.0'?><stream><update-status version="0.6"><update-list></update-list></update-status></stream>
            @@patchctl updates-exit
            0
            @@patchctl patch-info
            @@patchctl installed
            900
            @@patchctl reboot
            needs-rebooting 0

            """.utf8)
    }
}
