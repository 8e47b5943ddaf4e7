import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How to reach and log in to one endpoint. Secrets live only in memory, never in argv or logs.
public struct SSHConfig: Sendable {
    public enum Auth: Sendable, CustomStringConvertible {
        /// An OpenSSH private key file; the public half is derived from it.
        case keyFile(path: String, passphrase: String?)
        /// Identities held by the ssh-agent listening on this socket (the caller's `SSH_AUTH_SOCK`).
        case agent(socket: String)
        case password(String)

        public var description: String {
            switch self {
            case let .keyFile(path, _): return "publickey \(path)"
            case let .agent(socket): return "ssh-agent \(socket)"
            case .password: return "password"
            }
        }
    }

    /// Name used in messages (the inventory name).
    public var label: String
    public var address: String
    public var port: Int
    public var user: String
    /// Tried in order, skipping what the server does not offer.
    public var auth: [Auth]
    /// Covers TCP connect, handshake, host key check and authentication together.
    public var connectTimeout: Double
    /// Seconds between keepalives while a command runs; 0 disables.
    public var keepaliveInterval: Int
    /// Host key algorithms to accept, in preference order (ssh_config's HostKeyAlgorithms); nil: OpenSSH's order.
    public var hostKeyAlgorithms: [String]?

    public init(label: String, address: String, port: Int = 22, user: String, auth: [Auth],
                connectTimeout: Double = 10, keepaliveInterval: Int = 15) {
        self.label = label
        self.address = address
        self.port = port
        self.user = user
        self.auth = auth
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
    }
}

/// What to do about unknown host keys. Changed keys are refused whatever this says.
public enum HostKeyPolicy: Sendable {
    case strict
    case acceptNew
}

/// One authenticated SSH connection, driven in non-blocking mode through the reactor.
/// Used by one task at a time (a host's job); commands on it run one after another.
public final class SSHSession: @unchecked Sendable {
    public let config: SSHConfig
    /// SHA256 fingerprint of the server's host key, as OpenSSH prints it.
    public private(set) var hostKeyFingerprint = ""
    /// The verified host key as known_hosts writes it (`ssh-ed25519 AAAA…`), so a relay can check
    /// the same key when it pushes to this host.
    public private(set) var hostKeyEntry = ""

    let reactor: Reactor
    private(set) var handle: OpaquePointer?
    private var socket: Int32 = -1
    /// Seconds allowed for the operation in progress, for timeout messages.
    var currentTimeout: Double = 0
    /// libssh2 sessions are not thread-safe and one channel at a time is what the non-blocking
    /// loops expect: a second task using the session while a command runs is a bug, caught here.
    private let ownership = NSLock()
    private var inUse = false

    private init(config: SSHConfig, reactor: Reactor) {
        self.config = config
        self.reactor = reactor
    }

    deinit {
        if let handle { libssh2_session_free(handle) }
        if socket >= 0 {
            reactor.forget(fd: socket)
            Glibc.close(socket)
        }
    }

    /// Connects, verifies the host key against `knownHosts` before anything is sent on behalf of
    /// the user, then authenticates.
    public static func connect(_ config: SSHConfig, knownHosts: KnownHosts, policy: HostKeyPolicy = .strict,
                               reactor: Reactor = .shared) async throws -> SSHSession {
        try LibSSH2.ensureInitialized()
        let session = SSHSession(config: config, reactor: reactor)
        let deadline = Deadline.after(seconds: config.connectTimeout)
        session.currentTimeout = config.connectTimeout
        session.socket = try await TCPSocket.connect(
            host: config.address, port: config.port, deadline: deadline, timeoutSeconds: config.connectTimeout, reactor: reactor)
        guard let handle = libssh2_session_init_ex(nil, nil, nil, nil) else {
            throw SSHError.handshake(host: config.label, LibSSH2Error(code: LIBSSH2_ERROR_ALLOC, message: "cannot allocate session", function: "libssh2_session_init_ex"))
        }
        session.handle = handle
        libssh2_session_set_blocking(handle, 0)
        // OpenSSH's own preference order, so the key we are offered is the one OpenSSH clients recorded.
        _ = libssh2_session_method_pref(handle, LIBSSH2_METHOD_HOSTKEY,
            "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa")
        // Cheapest strong key exchange first (libssh2's own order may pick a costly DH group exchange).
        _ = libssh2_session_method_pref(handle, LIBSSH2_METHOD_KEX,
            "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256")
        // The user's HostKeyAlgorithms (ssh_config) replace the order above, as in OpenSSH.
        if let algorithms = config.hostKeyAlgorithms {
            _ = libssh2_session_method_pref(handle, LIBSSH2_METHOD_HOSTKEY, algorithms.joined(separator: ","))
        }
        if config.keepaliveInterval > 0 {
            libssh2_keepalive_config(handle, 1, UInt32(config.keepaliveInterval))
        }
        do {
            let socket = session.socket
            try await session.retry(deadline, phase: "handshake") { libssh2_session_handshake(handle, socket) }
        } catch let error as LibSSH2Error {
            throw SSHError.handshake(host: config.label, error)
        }
        try session.verifyHostKey(knownHosts, policy: policy)
        do {
            try await session.authenticate(deadline: deadline)
        } catch let error as LibSSH2Error {
            throw SSHError.session(host: config.label, error)
        }
        return session
    }

    static func hostKeyTypeName(_ type: Int32) -> String? {
        switch type {
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519"
        case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384"
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521"
        case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss"
        default: return nil
        }
    }

    private func verifyHostKey(_ knownHosts: KnownHosts, policy: HostKeyPolicy) throws {
        guard let handle else { return }
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(handle, &length, &type) else {
            throw SSHError.handshake(host: config.label, LibSSH2Error.last(handle, function: "libssh2_session_hostkey"))
        }
        if let hash = libssh2_hostkey_hash(handle, LIBSSH2_HOSTKEY_HASH_SHA256) {
            let digest = Data(bytes: hash, count: 32).base64EncodedString()
            hostKeyFingerprint = "SHA256:" + digest.replacingOccurrences(of: "=", with: "")
        }
        let raw = UnsafeRawBufferPointer(start: key, count: length)
        if let name = Self.hostKeyTypeName(type) { hostKeyEntry = name + " " + Data(raw).base64EncodedString() }
        switch knownHosts.check(host: config.address, port: config.port, key: raw, keyType: type) {
        case .match:
            return
        case .mismatch:
            throw SSHError.hostKeyMismatch(host: config.label, port: config.port, fingerprint: hostKeyFingerprint, knownHosts: knownHosts.path)
        case .revoked:
            throw SSHError.hostKeyRevoked(host: config.label, port: config.port, fingerprint: hostKeyFingerprint, knownHosts: knownHosts.path)
        case .notFound:
            guard policy == .acceptNew else {
                throw SSHError.hostKeyUnknown(host: config.label, port: config.port, fingerprint: hostKeyFingerprint, knownHosts: knownHosts.path)
            }
            try knownHosts.add(host: config.address, port: config.port, key: raw, keyType: type)
        }
    }

    private func authenticate(deadline: Deadline) async throws {
        guard let handle else { return }
        let user = config.user
        let userLength = UInt32(user.utf8.count)
        // Asking for the method list also tries "none", which some servers accept.
        var offered = ""
        while true {
            if let list = libssh2_userauth_list(handle, user, userLength) {
                offered = String(cString: list)
                break
            }
            if libssh2_userauth_authenticated(handle) != 0 { return }
            guard libssh2_session_last_errno(handle) == LIBSSH2_ERROR_EAGAIN else {
                throw SSHError.session(host: config.label, LibSSH2Error.last(handle, function: "libssh2_userauth_list"))
            }
            try await waitForSocket(deadline, phase: "authentication")
        }
        let methods = Set(offered.split(separator: ",").map(String.init))
        var tried: [String] = []
        var details: [String] = []
        for auth in config.auth {
            switch auth {
            case let .keyFile(path, passphrase):
                guard methods.contains("publickey") else { continue }
                guard FileManager.default.isReadableFile(atPath: path) else {
                    details.append("key \(path) is not readable")
                    continue
                }
                tried.append(auth.description)
                // With the .pub beside it libssh2 need not derive the public half, which costs an
                // OpenSSL decoder pass per host (most of the controller's CPU for ed25519 keys).
                let publicPath = FileManager.default.isReadableFile(atPath: path + ".pub") ? path + ".pub" : nil
                let rc = try await retry(deadline, phase: "authentication", allowFailure: true) {
                    libssh2_userauth_publickey_fromfile_ex(handle, user, userLength, publicPath, path, passphrase)
                }
                if rc == 0 { return }
                // FILE: the key did not load; PUBLICKEY_UNVERIFIED: the signing step could not use it
                // (both mean a bad or missing passphrase, or a format libssh2 cannot read).
                if rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_PUBLICKEY_UNVERIFIED {
                    throw SSHError.keyFile(path: path, message: passphrase == nil
                        ? "cannot load key (encrypted? set PATCHCTL_KEY_PASSPHRASE)"
                        : "cannot load key (wrong passphrase or unsupported format)")
                }
            case let .agent(socket):
                guard methods.contains("publickey") else { continue }
                tried.append(auth.description)
                if try await agentAuthenticate(socket: socket, deadline: deadline) { return }
            case let .password(secret):
                guard methods.contains("password") else { continue }
                tried.append(auth.description)
                let rc = try await retry(deadline, phase: "authentication", allowFailure: true) {
                    libssh2_userauth_password_ex(handle, user, userLength, secret, UInt32(secret.utf8.count), nil)
                }
                if rc == 0 { return }
            }
        }
        if tried.isEmpty { details.append("server offers: \(offered)") }
        throw SSHError.authentication(host: config.label, user: user, tried: tried, detail: details.joined(separator: "; "))
    }

    /// Tries each agent identity in turn. The agent socket is local, so its own calls block briefly.
    private func agentAuthenticate(socket: String, deadline: Deadline) async throws -> Bool {
        guard let handle, let agent = libssh2_agent_init(handle) else { return false }
        defer { libssh2_agent_free(agent) }
        // An explicit socket, not the process environment: the caller decides which agent counts.
        libssh2_agent_set_identity_path(agent, socket)
        guard libssh2_agent_connect(agent) == 0 else { return false }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return false }
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        while true {
            var identity: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &identity, previous) == 0, let identity else { return false }
            let user = config.user
            let rc = try await retry(deadline, phase: "authentication", allowFailure: true) {
                libssh2_agent_userauth(agent, user, identity)
            }
            if rc == 0 { return true }
            previous = identity
        }
    }

    /// Ends the connection politely; errors are ignored since the session is done either way.
    public func close() async {
        guard let handle else { return }
        _ = try? await retry(.after(seconds: 2), phase: "disconnect", allowFailure: true) {
            libssh2_session_disconnect_ex(handle, SSH_DISCONNECT_BY_APPLICATION, "patchctl done", "")
        }
    }

    // MARK: - Ownership

    /// Marks the session busy for one operation (command, transfer); two at once is a programming error.
    func claim() -> Bool {
        ownership.lock()
        defer { ownership.unlock() }
        precondition(!inUse, "SSHSession \(config.label): used by two tasks at once")
        inUse = true
        return true
    }

    func release(_ claimed: Bool) {
        guard claimed else { return }
        ownership.lock()
        inUse = false
        ownership.unlock()
    }

    // MARK: - Non-blocking plumbing

    /// Repeats a libssh2 call until it stops answering EAGAIN, waiting for the socket in between.
    /// Other negative codes throw through `check()` unless `allowFailure` asks for the raw code.
    @discardableResult
    func retry(_ deadline: Deadline, phase: String, allowFailure: Bool = false, _ call: () -> Int32) async throws -> Int32 {
        while true {
            let rc = call()
            if rc == LIBSSH2_ERROR_EAGAIN {
                try await waitForSocket(deadline, phase: phase)
                continue
            }
            if allowFailure && rc < 0 && rc != LIBSSH2_ERROR_SOCKET_DISCONNECT && rc != LIBSSH2_ERROR_SOCKET_RECV && rc != LIBSSH2_ERROR_SOCKET_SEND {
                return rc
            }
            return try check(rc, handle, phase)
        }
    }

    /// Waits for the direction libssh2 is blocked on; a passed deadline is a timeout.
    func waitForSocket(_ deadline: Deadline, phase: String) async throws {
        guard try await waitForSocket(until: deadline) else {
            throw SSHError.timeout(host: config.label, phase: phase, seconds: currentTimeout)
        }
    }

    /// True when the socket is ready, false when `deadline` passed first.
    func waitForSocket(until deadline: Deadline) async throws -> Bool {
        guard let handle else { return false }
        let directions = libssh2_session_block_directions(handle)
        let readable = directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0
        let writable = directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
        return await reactor.wait(fd: socket, readable: readable || !writable, writable: writable, deadline: deadline)
    }
}
