import Foundation
import PatchSSH

/// One SSH port that answered: its banner and host keys (`ssh-keyscan`'s answer).
public struct SSHServiceRecord: Codable, Sendable, Equatable {
    public var port: Int
    public var banner: String?
    public var keys: [ScannedHostKey]
    /// Why no key was collected, when none was.
    public var error: String?

    public init(port: Int, banner: String?, keys: [ScannedHostKey], error: String?) {
        self.port = port
        self.banner = banner
        self.keys = keys
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        // Every key always present, null where it does not apply.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(port, forKey: .port)
        try c.encode(banner, forKey: .banner)
        try c.encode(keys, forKey: .keys)
        try c.encode(error, forKey: .error)
    }

    enum CodingKeys: String, CodingKey { case port, banner, keys, error }

    /// OpenSSH for Windows says so in its banner (`SSH-2.0-OpenSSH_for_Windows_9.5`).
    public var looksLikeWindows: Bool { banner?.localizedCaseInsensitiveContains("windows") ?? false }
}

/// One WinRM port: whether it answers as WS-Management would, and how it asks to be authenticated.
public struct WinRMServiceRecord: Codable, Sendable, Equatable {
    public var port: Int
    /// `http` (5985) or `https` (5986).
    public var scheme: String
    /// Answered `POST /wsman` as WS-Management does: 401 with WWW-Authenticate, or a SOAP reply.
    public var wsman: Bool
    public var status: Int?
    /// The `Server` header (`Microsoft-HTTPAPI/2.0` on Windows).
    public var server: String?
    /// Authentication schemes offered (`Negotiate`, `Kerberos`, `Basic`, `CredSSP`).
    public var auth: [String]
    public var error: String?

    public init(port: Int, scheme: String, wsman: Bool, status: Int?, server: String?, auth: [String], error: String?) {
        self.port = port
        self.scheme = scheme
        self.wsman = wsman
        self.status = status
        self.server = server
        self.auth = auth
        self.error = error
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(port, forKey: .port)
        try c.encode(scheme, forKey: .scheme)
        try c.encode(wsman, forKey: .wsman)
        try c.encode(status, forKey: .status)
        try c.encode(server, forKey: .server)
        try c.encode(auth, forKey: .auth)
        try c.encode(error, forKey: .error)
    }

    enum CodingKeys: String, CodingKey { case port, scheme, wsman, status, server, auth, error }
}

/// One address where something answered.
public struct DiscoveredHost: Codable, Sendable, Equatable {
    public var address: String
    /// Reverse DNS, when it resolves (and `--no-dns` was not given).
    public var name: String?
    /// The target argument the address came from (`10.0.0.0/24`).
    public var network: String
    public var ssh: [SSHServiceRecord]
    public var winrm: [WinRMServiceRecord]
    /// Other ports that accepted a connection.
    public var openPorts: [Int]
    /// With `--login`: what the detection part of a scan found.
    public var os: OSInfo?
    public var loginUser: String?
    public var loginError: String?
    /// Compared with earlier discover runs (history).
    public var seenBefore: Bool?

    public init(address: String, name: String? = nil, network: String, ssh: [SSHServiceRecord] = [], winrm: [WinRMServiceRecord] = [],
                openPorts: [Int] = [], os: OSInfo? = nil, loginUser: String? = nil, loginError: String? = nil, seenBefore: Bool? = nil) {
        self.address = address
        self.name = name
        self.network = network
        self.ssh = ssh
        self.winrm = winrm
        self.openPorts = openPorts
        self.os = os
        self.loginUser = loginUser
        self.loginError = loginError
        self.seenBefore = seenBefore
    }

    enum CodingKeys: String, CodingKey {
        case address, name, network, ssh, winrm, os
        case openPorts = "open_ports"
        case loginUser = "login_user"
        case loginError = "login_error"
        case seenBefore = "seen_before"
    }

    public func encode(to encoder: any Encoder) throws {
        // Every key always present (null where it does not apply), as in every run document.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(address, forKey: .address)
        try c.encode(name, forKey: .name)
        try c.encode(network, forKey: .network)
        try c.encode(ssh, forKey: .ssh)
        try c.encode(winrm, forKey: .winrm)
        try c.encode(openPorts, forKey: .openPorts)
        try c.encode(os, forKey: .os)
        try c.encode(loginUser, forKey: .loginUser)
        try c.encode(loginError, forKey: .loginError)
        try c.encode(seenBefore, forKey: .seenBefore)
    }

    /// The port an inventory line uses to reach the host: its first SSH port, else its WinRM one.
    public var managementPort: Int? { ssh.first?.port ?? winrm.first { $0.wsman }?.port }
    public var allKeys: [(port: Int, key: ScannedHostKey)] { ssh.flatMap { service in service.keys.map { (service.port, $0) } } }
}

/// A host key that differs from the one an earlier discover run recorded for the same address,
/// port and key type: the host was reinstalled, or something is impersonating it.
public struct HostKeyChange: Codable, Sendable, Equatable {
    public var address: String
    public var port: Int
    public var type: String
    public var previousFingerprint: String
    public var fingerprint: String
    /// The run that recorded the previous key, and when.
    public var previousRun: String
    public var previousSeenAt: Date

    enum CodingKeys: String, CodingKey {
        case address, port, type, fingerprint
        case previousFingerprint = "previous_fingerprint"
        case previousRun = "previous_run"
        case previousSeenAt = "previous_seen_at"
    }
}

/// What changed since earlier discover runs.
public struct DiscoveryChanges: Codable, Sendable, Equatable {
    /// Found now, never found by an earlier discover run.
    public var new: [String] = []
    /// Found by the previous discover run that swept the address, not found now.
    public var gone: [String] = []
    public var changedKeys: [HostKeyChange] = []
    /// The run compared with for `gone` (nil: no earlier discover run).
    public var previousRun: String?

    enum CodingKeys: String, CodingKey {
        case new, gone
        case changedKeys = "changed_keys"
        case previousRun = "previous_run"
    }

    public init() {}

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(new, forKey: .new)
        try c.encode(gone, forKey: .gone)
        try c.encode(changedKeys, forKey: .changedKeys)
        try c.encode(previousRun, forKey: .previousRun)
    }
}

/// `--against INVENTORY`: hosts found that the inventory lacks, and inventory hosts not found.
public struct InventoryComparison: Codable, Sendable, Equatable {
    public var inventory: String
    /// Found addresses no inventory host points to: unmanaged.
    public var notInInventory: [String]
    /// Inventory hosts (by name) whose address lies in the sweep but answered nothing.
    public var notFound: [String]
    /// Inventory hosts outside the swept networks (not judged).
    public var outsideSweep: Int

    enum CodingKeys: String, CodingKey {
        case inventory
        case notInInventory = "not_in_inventory"
        case notFound = "not_found"
        case outsideSweep = "outside_sweep"
    }
}

/// A whole `patchctl discover` run, as printed (json) and recorded.
public struct DiscoveryRun: Codable, Sendable {
    public var runId: String?
    public var kind: RunKind = .discover
    public var startedAt: Date
    public var finishedAt: Date
    /// What was swept, as given (files expanded to their entries).
    public var targets: [String]
    public var ports: [Int]
    public var addressesSwept: Int
    public var hosts: [DiscoveredHost]
    public var changes: DiscoveryChanges?
    public var against: InventoryComparison?
    /// Probes that failed on this machine (not refused, unreachable or unanswered): when not 0,
    /// the sweep is incomplete.
    public var localErrors: Int = 0

    enum CodingKeys: String, CodingKey {
        case runId = "run_id"
        case kind, targets, ports, hosts, changes, against
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case addressesSwept = "addresses_swept"
        case localErrors = "local_errors"
    }

    public init(runId: String?, startedAt: Date, finishedAt: Date, targets: [String], ports: [Int], addressesSwept: Int,
                hosts: [DiscoveredHost], changes: DiscoveryChanges? = nil, against: InventoryComparison? = nil) {
        self.runId = runId
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.targets = targets
        self.ports = ports
        self.addressesSwept = addressesSwept
        self.hosts = hosts
        self.changes = changes
        self.against = against
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(runId, forKey: .runId)
        try c.encode(kind, forKey: .kind)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(targets, forKey: .targets)
        try c.encode(ports, forKey: .ports)
        try c.encode(addressesSwept, forKey: .addressesSwept)
        try c.encode(hosts, forKey: .hosts)
        try c.encode(changes, forKey: .changes)
        try c.encode(against, forKey: .against)
        try c.encode(localErrors, forKey: .localErrors)
    }
}
