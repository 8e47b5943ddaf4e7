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
    /// StrictHostKeyChecking=no, only when the user's inventory or ssh_config asks: an unknown key
    /// is accepted without being recorded; a changed or revoked key is still refused.
    case off
}

/// One authenticated SSH connection, driven in non-blocking mode through the reactor.
///
/// Sendable because it is bound to its reactor, as NIO's `NIOLoopBound` is bound to an event loop:
/// every public operation runs with the reactor as its task executor (`onReactor`), so libssh2 is
/// only ever called from the reactor's one thread, which debug builds assert at each call
/// (`assertOnReactor`). Operations on it run one after another: a second one while one runs
/// (two tasks interleaving on its channel) stops the program (`claim`).
public final class SSHSession: @unchecked Sendable {
    public let config: SSHConfig
    /// SHA256 fingerprint of the server's host key, as OpenSSH prints it.
    public private(set) var hostKeyFingerprint = ""
    /// The verified host key as known_hosts writes it (`ssh-ed25519 AAAA…`), so a relay can check
    /// the same key when it pushes to this host.
    public private(set) var hostKeyEntry = ""
    /// The host key was unknown and `acceptNew` added it to known_hosts: callers say so.
    public private(set) var addedHostKey = false

    let reactor: Reactor
    private(set) var handle: OpaquePointer?
    private(set) var socket: Int32 = -1
    /// The jump host this session's bytes go through (nil: a direct TCP connection). Held so the
    /// bastion outlives every session it carries.
    public private(set) var via: Bastion?
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
    /// the user, then authenticates. With `via`, the connection is a `direct-tcpip` channel of that
    /// bastion's session instead of a TCP connection from here; host key and login are checked the same way.
    public static func connect(_ config: SSHConfig, via bastion: Bastion? = nil, knownHosts: KnownHosts, policy: HostKeyPolicy = .strict,
                               reactor: Reactor = .shared) async throws -> SSHSession {
        try await withTaskExecutorPreference(reactor) {
            try await connectOnReactor(config, via: bastion, knownHosts: knownHosts, policy: policy, reactor: reactor)
        }
    }

    private static func connectOnReactor(_ config: SSHConfig, via bastion: Bastion?, knownHosts: KnownHosts, policy: HostKeyPolicy,
                                         reactor: Reactor) async throws -> SSHSession {
        try LibSSH2.ensureInitialized()
        let session = SSHSession(config: config, reactor: reactor)
        let deadline = Deadline.after(seconds: config.connectTimeout)
        session.currentTimeout = config.connectTimeout
        if let bastion {
            session.via = bastion
            session.socket = try await bastion.openTunnel(for: config, deadline: deadline)
        } else {
            session.socket = try await TCPSocket.connect(
                host: config.address, port: config.port, deadline: deadline, timeoutSeconds: config.connectTimeout, reactor: reactor)
        }
        guard let handle = libssh2_session_init_ex(nil, nil, nil, nil) else {
            throw SSHError.handshake(host: config.label, LibSSH2Error(code: LIBSSH2_ERROR_ALLOC, message: "cannot allocate session", function: "libssh2_session_init_ex"))
        }
        session.handle = handle
        libssh2_session_set_blocking(handle, 0)
        // OpenSSH's order, led by the key types known_hosts holds for this endpoint, so the key we
        // are offered is the one on record (an RSA-only entry is not met with an unknown ed25519 key).
        _ = libssh2_session_method_pref(handle, LIBSSH2_METHOD_HOSTKEY, knownHosts.hostKeyAlgorithms(host: config.address, port: config.port))
        // Cheapest strong key exchange first (libssh2's own order may pick a costly DH group exchange).
        _ = libssh2_session_method_pref(handle, LIBSSH2_METHOD_KEX, Self.keyExchangePreference)
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

    /// Key exchanges in the order offered: the cheapest strong ones first.
    static let keyExchangePreference =
        "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256"

    /// The SHA256 fingerprint of the host key the handshake received, as OpenSSH prints it.
    static func hostKeyFingerprint(_ handle: OpaquePointer) -> String? {
        guard let hash = libssh2_hostkey_hash(handle, LIBSSH2_HOSTKEY_HASH_SHA256) else { return nil }
        return "SHA256:" + Data(bytes: hash, count: 32).base64EncodedString().replacingOccurrences(of: "=", with: "")
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
        if let fingerprint = Self.hostKeyFingerprint(handle) { hostKeyFingerprint = fingerprint }
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
            if let line = knownHosts.certificateAuthorityLine(host: config.address, port: config.port) {
                // Never silently trusted, and never silently added next to the CA line either.
                throw SSHError.hostKeyCertificateOnly(host: config.label, port: config.port, fingerprint: hostKeyFingerprint,
                                                      knownHosts: knownHosts.path, line: line)
            }
            switch policy {
            case .strict:
                throw SSHError.hostKeyUnknown(host: config.label, address: config.address, port: config.port, fingerprint: hostKeyFingerprint, knownHosts: knownHosts.path)
            case .acceptNew:
                try knownHosts.add(host: config.address, port: config.port, key: raw, keyType: type)
                addedHostKey = true
            case .off:
                return
            }
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
                if methods.contains("password") {
                    tried.append(auth.description)
                    let rc = try await retry(deadline, phase: "authentication", allowFailure: true) {
                        libssh2_userauth_password_ex(handle, user, userLength, secret, UInt32(secret.utf8.count), nil)
                    }
                    if rc == 0 { return }
                }
                // PAM-backed servers often offer only keyboard-interactive for the same password.
                if methods.contains("keyboard-interactive") {
                    tried.append("keyboard-interactive")
                    if try await keyboardInteractive(secret, deadline: deadline) { return }
                }
            }
        }
        if tried.isEmpty { details.append("server offers: \(offered)") }
        throw SSHError.authentication(host: config.label, user: user, tried: tried, detail: details.joined(separator: "; "))
    }

    /// Answers the server's hidden (echo off) prompts with the password, as `ssh` does for a
    /// password prompt; visible prompts (a one-time code, a question) get an empty answer, so an
    /// unexpected challenge fails instead of being sent the password.
    private func keyboardInteractive(_ secret: String, deadline: Deadline) async throws -> Bool {
        guard let handle else { return false }
        let box = PasswordBox(secret)
        // libssh2 hands the session's abstract pointer to the C callback, which has no context otherwise.
        let abstract = libssh2_session_abstract(handle)
        abstract?.pointee = Unmanaged.passUnretained(box).toOpaque()
        defer {
            abstract?.pointee = nil
            withExtendedLifetime(box) {}
        }
        let user = config.user
        let rc = try await retry(deadline, phase: "authentication", allowFailure: true) {
                libssh2_userauth_keyboard_interactive_ex(handle, user, UInt32(user.utf8.count)) { _, _, _, _, count, prompts, responses, abstract in
                    guard let responses, let prompts, let context = abstract?.pointee else { return }
                    let box = Unmanaged<PasswordBox>.fromOpaque(context).takeUnretainedValue()
                    for index in 0..<Int(max(count, 0)) {
                        let answer = prompts[index].echo == 0 ? box.secret : ""
                        // libssh2 frees each answer with free(), so it must come from malloc (strdup).
                        responses[index].text = strdup(answer)
                        responses[index].length = UInt32(answer.utf8.count)
                    }
                }
        }
        return rc == 0
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
        _ = try? await onReactor {
            try await self.retry(.after(seconds: 2), phase: "disconnect", allowFailure: true) {
                libssh2_session_disconnect_ex(handle, SSH_DISCONNECT_BY_APPLICATION, "patchctl done", "")
            }
        }
    }

    /// A broken connection, told as the bastion's failure when the bastion it went through broke.
    func sessionError(_ error: LibSSH2Error) -> SSHError {
        if let via, let lost = via.lostConnection, case .session = lost {
            return .jump(host: config.label, hop: via.hop, lost)
        }
        return .session(host: config.label, error)
    }

    // MARK: - Ownership

    /// Runs `body` with the reactor as the task's executor, whatever executor the caller is on:
    /// the session's libssh2 calls then all happen on the reactor's thread.
    func onReactor<T>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(reactor) { try await body() }
    }

    /// Debug builds: stops when libssh2 is about to be used off the reactor's thread.
    func assertOnReactor(file: StaticString = #file, line: UInt = #line) {
        assert(reactor.isCurrent, "SSHSession \(config.label): used off its reactor's thread", file: file, line: line)
    }

    /// Marks the session busy for one operation (command, transfer); two at once is a programming error.
    func claim() -> Bool {
        assertOnReactor()
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
        assertOnReactor()
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
        assertOnReactor()
        guard let handle else { return false }
        let directions = libssh2_session_block_directions(handle)
        let readable = directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0
        let writable = directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
        do {
            return try await reactor.wait(fd: socket, readable: readable || !writable, writable: writable, deadline: deadline)
        } catch {
            throw SSHError.session(host: config.label, LibSSH2Error(code: LIBSSH2_ERROR_BAD_USE, message: "\(error)", function: "wait"))
        }
    }
}

/// The password for the keyboard-interactive callback, reached through the session's abstract pointer.
private final class PasswordBox {
    let secret: String
    init(_ secret: String) { self.secret = secret }
}
