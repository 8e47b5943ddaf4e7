import Foundation

/// A test's own OpenSSH sshd on 127.0.0.1: the machine's real daemon with keys and a config made
/// for the test (host key types, accepted methods), sessions chrooted into the lab's read-only
/// Debian tree (`LAB_ROOT`) as the lab's own daemon does. Default algorithms unless `config`
/// says otherwise. Killed, with its files, when released.
public final class TestSSHServer: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    private let process: Process

    /// `hostKeyTypes`: ssh-keygen types (`ed25519`, `rsa`, `ecdsa`) the server offers.
    /// `authorizedKeys`: public key lines for root and every other user. `config`: extra lines.
    public init(hostKeyTypes: [String] = ["ed25519"], authorizedKeys: [String] = [], config: [String] = [],
                chroot: String? = ProcessInfo.processInfo.environment["LAB_ROOT"] ?? TestSSHServer.labValue("LAB_ROOT")) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-sshd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // sshd refuses group/world-writable parents of its key files only with StrictModes; the folder is ours alone.
        chmod(directory.path, 0o755)
        for type in hostKeyTypes {
            try Self.keygen(type: type, path: directory.appendingPathComponent("host_\(type)").path, comment: "patchctl-test-host")
        }
        let authorized = directory.appendingPathComponent("authorized_keys")
        try (authorizedKeys.joined(separator: "\n") + "\n").write(to: authorized, atomically: true, encoding: .utf8)
        chmod(authorized.path, 0o644)
        let port = try Self.freePort()
        self.port = port
        var lines = [
            "Port \(port)", "ListenAddress 127.0.0.1", "PidFile none", "LogLevel VERBOSE", "UseDNS no",
            "PermitRootLogin prohibit-password", "AuthorizedKeysFile \(authorized.path)", "StrictModes no",
            "PrintMotd no", "PrintLastLog no", "X11Forwarding no", "Subsystem sftp internal-sftp",
        ]
        let folder = directory
        lines += hostKeyTypes.map { "HostKey \(folder.appendingPathComponent("host_\($0)").path)" }
        lines += config
        if let chroot { lines.append("ChrootDirectory \(chroot)") }
        let configFile = directory.appendingPathComponent("sshd_config")
        try (lines.joined(separator: "\n") + "\n").write(to: configFile, atomically: true, encoding: .utf8)
        let check = try Self.run("/usr/sbin/sshd", ["-t", "-f", configFile.path])
        guard check.status == 0 else { throw HostileEndpoint.Failure("sshd -t: \(check.output)") }
        // sshd runs under a shell, as lab/hostile/serve.sh does: started directly by Foundation's
        // Process, its exit (and that of later children) was seen never to be noticed.
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "/usr/sbin/sshd -D -f \"$1\" -E \"$2\" & echo $! >\"$3\"; wait", "sh", configFile.path,
                             directory.appendingPathComponent("sshd.log").path, directory.appendingPathComponent("sshd.pid").path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once it answers a key exchange (the event, not a sleep).
        for _ in 0..<300 {
            guard process.isRunning else { throw HostileEndpoint.Failure("sshd exited: \(log)") }
            let scan = try Self.run("/usr/bin/ssh-keyscan", ["-T", "1", "-p", "\(port)", "127.0.0.1"])
            if scan.output.contains("127.0.0.1") { return }
        }
        stop()
        throw HostileEndpoint.Failure("sshd on port \(port) never answered: \(log)")
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL to sshd (its pid file) and its shell: the test runner blocks SIGTERM in children.
    public func stop() {
        guard process.isRunning else { return }
        if let text = try? String(contentsOf: directory.appendingPathComponent("sshd.pid"), encoding: .utf8),
           let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
    }

    /// The daemon's log (VERBOSE: accepted keys and methods).
    public var log: String {
        (try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? ""
    }

    /// A known_hosts file trusting exactly the given host key types of this server.
    public func knownHosts(types: [String]? = nil) throws -> String {
        let path = directory.appendingPathComponent("known_hosts_\(UUID().uuidString)").path
        var text = ""
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("host_") && $0.hasSuffix(".pub") }
        for file in files.sorted() {
            let type = String(file.dropFirst(5).dropLast(4))
            if let types, !types.contains(type) { continue }
            let key = try String(contentsOfFile: directory.appendingPathComponent(file).path, encoding: .utf8)
            text += "[127.0.0.1]:\(port) " + key.split(separator: " ").prefix(2).joined(separator: " ") + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The SHA256 fingerprint of one host key type, as ssh-keygen prints it.
    public func fingerprint(_ type: String) throws -> String {
        let result = try Self.run("/usr/bin/ssh-keygen", ["-lf", directory.appendingPathComponent("host_\(type).pub").path])
        return result.output.split(separator: " ").dropFirst().first.map(String.init) ?? ""
    }

    // MARK: - Helpers for tests

    /// A new client key pair in `folder` (ssh-keygen), returned as (private path, public line).
    public static func clientKey(type: String, in folder: URL, passphrase: String = "") throws -> (path: String, publicKey: String) {
        let path = folder.appendingPathComponent("id_\(type)_\(UUID().uuidString.prefix(8))").path
        try keygen(type: type, path: path, comment: "patchctl-test-client", passphrase: passphrase)
        let line = try String(contentsOfFile: path + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (path, line)
    }

    static func keygen(type: String, path: String, comment: String, passphrase: String = "") throws {
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", comment, "-f", path]
        if type == "rsa" { arguments += ["-b", "3072"] }
        let result = try run("/usr/bin/ssh-keygen", arguments)
        guard result.status == 0 else { throw HostileEndpoint.Failure("ssh-keygen \(type): \(result.output)") }
    }

    /// Runs a program without a shell; (exit status, stdout+stderr).
    @discardableResult
    public static func run(_ program: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let status = process.waitForExit()
        return (status, String(decoding: data, as: UTF8.self))
    }

    /// A port the kernel picked for a socket bound to 0 (closed again; sshd binds it next).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HostileEndpoint.Failure("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw HostileEndpoint.Failure("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A value from the lab's `.lab/lab.env`.
    public static func labValue(_ key: String) -> String? {
        let path = HostileEndpoint.repository.appendingPathComponent(".lab/lab.env").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + "=") {
            return String(line.dropFirst(key.count + 1))
        }
        return nil
    }
}

/// Blocking work (starting daemons, running ssh-keygen) on a thread of its own: Swift Testing
/// runs tests on a pool of one thread per core, and tests blocking it in parallel starve every
/// other test's awaits (handshakes then time out for no fault of the code under test).
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

extension TestSSHServer {
    /// `init` off the test pool (see `offPool`).
    public static func start(hostKeyTypes: [String] = ["ed25519"], authorizedKeys: [String] = [], config: [String] = []) async throws -> TestSSHServer {
        try await offPool { try TestSSHServer(hostKeyTypes: hostKeyTypes, authorizedKeys: authorizedKeys, config: config) }
    }
}
