import Foundation

/// The network `patchctl discover` is tested on (`lab/discover/topology.sh`): one namespace holding
/// part of 10.234.0.16/28 (an rsa-only sshd, an ed25519+ecdsa sshd, a login sshd chrooted into the
/// lab's Debian tree, a WS-Management-like listener, a refused address), the rest of the /28
/// unreachable from here. Everything it made is removed when it is released, and leftovers of a
/// crashed run when the next one starts.
public final class DiscoverTopology: @unchecked Sendable {
    public static let range = "10.234.0.16/28"
    public static let rsaOnly = "10.234.0.17"
    public static let ed25519AndECDSA = "10.234.0.18"
    public static let login = "10.234.0.19"
    public static let wsman = "10.234.0.20"
    public static let refused = "10.234.0.21"
    public static let sshHosts = [rsaOnly, ed25519AndECDSA, login]

    public static func canRun(chroot: String?) -> Bool {
        JumpTopology.canRun(chroot: chroot) && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    }

    public let directory: URL
    public var keyPath: String { directory.appendingPathComponent("id_ed25519").path }
    private static let script = HostileEndpoint.repository.appendingPathComponent("lab/discover/topology.sh").path

    public init(chroot: String) throws {
        lock = try NamespaceTopology.Lock(name: "discover")
        directory = try NamespaceTopology.up(script: Self.script, name: "discover", chroot: chroot)
    }

    /// Held until `down` has run: the topology's names and addresses are the machine's only set.
    private let lock: NamespaceTopology.Lock

    deinit {
        _ = Self.run(["down"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// A new ed25519 host key for the login host; returns once its sshd answers with it.
    public func rekeyLoginHost() throws {
        let (status, output) = Self.run(["rekey", directory.path])
        guard status == 0, output.contains("READY") else { throw HostileEndpoint.Failure("rekey failed (exit \(status)): \(output)") }
    }

    /// `ssh-keyscan` and `ssh-keygen -lf` on `address`: (banner-less) `type fingerprint` pairs, sorted.
    public static func keyscan(_ address: String, port: Int = 22) -> (lines: [String], fingerprints: [String]) {
        let (_, scanned) = runTool("/usr/bin/ssh-keyscan", ["-T", "5", "-p", String(port), address], stderr: false)
        let lines = scanned.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keyscan-\(UUID().uuidString)").path
        try? (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (_, listed) = runTool("/usr/bin/ssh-keygen", ["-lf", file], stderr: false)
        // `256 SHA256:… 10.234.0.18 (ED25519)`
        let fingerprints = listed.split(separator: "\n").map { $0.split(separator: " ")[1] }.map(String.init).sorted()
        return (lines, fingerprints)
    }

    /// The `# 10.234.0.18:22 SSH-2.0-…` comment ssh-keyscan prints on stderr: the banner it saw.
    public static func keyscanBanner(_ address: String, port: Int = 22) -> String? {
        let (_, text) = runTool("/usr/bin/ssh-keyscan", ["-T", "5", "-p", String(port), "-t", "ed25519,rsa,ecdsa", address], stderr: true)
        return text.split(separator: "\n").first { $0.hasPrefix("# \(address):\(port) SSH-") }
            .map { String($0.split(separator: " ", maxSplits: 2)[2]) }
    }

    public static func runTool(_ path: String, _ arguments: [String], stderr: Bool) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = stderr ? FileHandle.nullDevice : output
        process.standardError = stderr ? output : FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return (process.waitForExit(), String(decoding: data, as: UTF8.self))
    }

    private static func run(_ arguments: [String]) -> (Int32, String) {
        NamespaceTopology.run(script, arguments)
    }
}
