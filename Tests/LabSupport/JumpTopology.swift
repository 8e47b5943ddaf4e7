import Foundation

/// A bastion topology of the tests' own (`lab/jump/topology.sh`): network namespaces joined by
/// veth pairs, where the controller reaches only the bastion, the targets are reachable only from
/// the bastion's namespace, and a deep target only from a second bastion behind the first. A
/// real sshd runs in each namespace, sessions chrooted into the lab's Debian tree. Everything it
/// made (daemons, namespaces, veths, routes) is removed when it is released, and leftovers of a
/// crashed run are removed when the next one starts.
public final class JumpTopology: @unchecked Sendable {
    /// The bastion, as the controller reaches it; port 2200 on it refuses forwarding (`AllowTcpForwarding no`).
    public static let bastion = "10.231.0.2"
    public static let refusingPort = 2200
    /// A port on the bastion's address where nothing listens: a dead bastion.
    public static let deadPort = 2201
    /// The bastion's own address on the targets' segment (what targets see as their client).
    public static let bastionInside = "10.232.0.1"
    /// A second bastion on the targets' segment, the only way to the deep target.
    public static let innerBastion = "10.232.0.2"
    public static let innerBastionInside = "10.233.0.1"
    public static let deepTarget = "10.233.0.2"
    /// Twenty distinct target addresses (one sshd listening on all of them).
    public static let targets = (10...29).map { "10.232.0.\($0)" }

    /// Root (`ip netns`, sshd), the machine's sshd and ip, and the lab's Debian tree to chroot into.
    public static func canRun(chroot: String?) -> Bool {
        guard getuid() == 0, let chroot else { return false }
        return FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")
            && (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") || FileManager.default.isExecutableFile(atPath: "/sbin/ip"))
            && FileManager.default.fileExists(atPath: chroot + "/bin")
    }

    public let directory: URL
    public var keyPath: String { directory.appendingPathComponent("id_ed25519").path }
    public var knownHostsPath: String { directory.appendingPathComponent("known_hosts").path }
    /// The same, except that the bastion's lines hold another key.
    public var wrongBastionKnownHostsPath: String { directory.appendingPathComponent("known_hosts_wrong_bastion").path }

    private static let script = HostileEndpoint.repository.appendingPathComponent("lab/jump/topology.sh").path

    public init(chroot: String) throws {
        lock = try NamespaceTopology.Lock(name: "jump")
        directory = try NamespaceTopology.up(script: Self.script, name: "jump", chroot: chroot)
    }

    /// Held until `down` has run: the topology's names and addresses are the machine's only set.
    private let lock: NamespaceTopology.Lock

    deinit {
        _ = Self.run(["down"])
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGKILL to every process in namespace `a`, `b` or `c` (its sshd and its sessions), as a crash would.
    public func crash(_ daemon: String) throws {
        let (status, output) = Self.run(["kill", daemon])
        guard status == 0 else { throw HostileEndpoint.Failure("cannot kill the daemons of pcj-\(daemon): \(output)") }
    }

    /// Starts the bastion's sshd again after `crash("a")`; returns once it answers.
    public func restartBastion() throws {
        let (status, output) = Self.run(["restart", directory.path])
        guard status == 0, output.contains("READY") else { throw HostileEndpoint.Failure("bastion did not restart: \(output)") }
    }

    /// What the sshd of namespace `a` (bastion), `b` (targets, inner bastion) or `c` (deep target) logged.
    public func log(_ daemon: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("sshd-\(daemon).log"), encoding: .utf8)) ?? ""
    }

    /// Lines of `daemon`'s log that contain `text`.
    public func count(_ daemon: String, _ text: String) -> Int {
        // sshd -e ends its lines with CRLF, one Character in Swift: split on any line break.
        log(daemon).split(whereSeparator: \.isNewline).filter { $0.contains(text) }.count
    }

    /// Waits until `daemon` has logged `text` (sshd writes its log as events happen); false after `seconds`.
    public func waitForLog(_ daemon: String, _ text: String, seconds: Double = 10) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if log(daemon).contains(text) { return true }
            usleep(20_000)
        }
        return log(daemon).contains(text)
    }

    private static func run(_ arguments: [String]) -> (Int32, String) {
        NamespaceTopology.run(script, arguments)
    }
}
