import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A jump host (OpenSSH's ProxyJump): one authenticated SSH connection that carries every target
/// behind it, each target as a `direct-tcpip` channel of that one session.
///
/// libssh2 1.10 has no transport callbacks (`libssh2_session_callback_set2` came in 1.11), so a
/// target's session gets one end of a socketpair, and this bastion's relay task pumps bytes
/// between the other end and the channel (`Bastion+Relay.swift`). After login only the relay task
/// touches the bastion's session, and it claims it for its whole life: libssh2 sessions are not
/// thread-safe, channel opens go one at a time per session, and a packet half sent must be
/// finished by the same call before any other goes out. Targets ask for channels through a queue.
public final class Bastion: @unchecked Sendable {
    /// How errors name this hop: `user@address:port`.
    public let hop: String
    public let session: SSHSession

    /// A target waiting for its channel; the relay answers it exactly once.
    final class Request {
        let host: String
        let port: Int
        let deadline: Deadline
        let timeoutSeconds: Double
        let continuation: CheckedContinuation<Int32, any Error>

        init(host: String, port: Int, deadline: Deadline, timeoutSeconds: Double, continuation: CheckedContinuation<Int32, any Error>) {
            self.host = host
            self.port = port
            self.deadline = deadline
            self.timeoutSeconds = timeoutSeconds
            self.continuation = continuation
        }
    }

    private let lock = NSLock()
    private var incoming: [Request] = []
    private var closeRequested = false
    /// Set once the relay has stopped: why (the connection broke), or that the run closed it.
    private var stoppedReason: SSHError?
    private var relayFinished = false
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []
    private var opened = 0
    private var open = 0
    /// Wakes the relay when a request or the close arrives (an eventfd in its epoll set).
    let wakeFD: Int32

    private init(hop: String, session: SSHSession) throws {
        self.hop = hop
        self.session = session
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        guard wakeFD >= 0 else {
            throw SSHError.session(host: session.config.label, LibSSH2Error(code: LIBSSH2_ERROR_ALLOC, message: String(cString: strerror(errno)), function: "eventfd"))
        }
    }

    deinit {
        Glibc.close(wakeFD)
    }

    /// Logs in to the jump host (through `via` when it is itself behind one) and starts its relay.
    /// Its host key is checked exactly like a target's. Errors are `SSHError.jump` naming this hop
    /// (or the earlier hop that failed); `behind(_:)` retells them for each target.
    public static func connect(_ config: SSHConfig, hop: String, via: Bastion? = nil, knownHosts: KnownHosts,
                               policy: HostKeyPolicy = .strict, reactor: Reactor = .shared) async throws -> Bastion {
        let session: SSHSession
        do {
            session = try await SSHSession.connect(config, via: via, knownHosts: knownHosts, policy: policy, reactor: reactor)
        } catch let error as SSHError {
            if case .jump = error { throw error }
            throw SSHError.jump(host: config.label, hop: hop, error)
        }
        if let handle = session.handle, config.keepaliveInterval > 0 {
            // Keepalives without a reply: libssh2 would queue every reply (a one-byte packet) for
            // ever, and libssh2_poll_channel_read, which the relay asks about each channel, fails
            // on any packet that short.
            libssh2_keepalive_config(handle, 0, UInt32(config.keepaliveInterval))
        }
        let bastion = try Bastion(hop: hop, session: session)
        Task(executorPreference: reactor) { await bastion.runRelay() }
        return bastion
    }

    /// The target end of a new channel to `config`'s address and port, as seen from the bastion.
    /// Failures are told as the target's: `SSHError.jump(host: target, hop: …)`.
    func openTunnel(for config: SSHConfig, deadline: Deadline) async throws -> Int32 {
        do {
            return try await withCheckedThrowingContinuation { continuation in
                let request = Request(host: config.address, port: config.port, deadline: deadline,
                                      timeoutSeconds: config.connectTimeout, continuation: continuation)
                lock.lock()
                if let stoppedReason {
                    lock.unlock()
                    continuation.resume(throwing: stoppedReason)
                    return
                }
                incoming.append(request)
                lock.unlock()
                wake()
            }
        } catch let error as SSHError {
            if case .jump = error { throw error.behind(config.label) }
            throw SSHError.jump(host: config.label, hop: hop, error)
        }
    }

    /// nil while the connection serves; otherwise why it stopped (new targets get this error).
    public var lostConnection: SSHError? {
        lock.lock()
        defer { lock.unlock() }
        return stoppedReason
    }

    /// Channels opened over this one connection so far.
    public var tunnelsOpened: Int {
        lock.lock()
        defer { lock.unlock() }
        return opened
    }

    /// Channels open over this connection now.
    public var tunnelsOpen: Int {
        lock.lock()
        defer { lock.unlock() }
        return open
    }

    /// Closes every channel still open and then the connection; returns once the relay has ended
    /// (at most a few seconds: a bastion that stopped answering is not waited for).
    public func close() async {
        requestClose()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lock.lock()
            if relayFinished {
                lock.unlock()
                continuation.resume()
            } else {
                finishWaiters.append(continuation)
                lock.unlock()
            }
        }
    }

    private func requestClose() {
        lock.lock()
        closeRequested = true
        lock.unlock()
        wake()
    }

    // MARK: - Shared with the relay

    /// New requests and whether the run asked to close, taken atomically.
    func takeIncoming() -> (requests: [Request], close: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let taken = incoming
        incoming.removeAll()
        return (taken, closeRequested)
    }

    func countOpened() {
        lock.lock()
        opened += 1
        lock.unlock()
    }

    func setOpen(_ count: Int) {
        lock.lock()
        open = count
        lock.unlock()
    }

    /// The relay has stopped: later requests fail with `reason`, and `close()` returns.
    func finish(_ reason: SSHError) -> [Request] {
        lock.lock()
        if stoppedReason == nil { stoppedReason = reason }
        relayFinished = true
        let waiting = incoming
        incoming.removeAll()
        let waiters = finishWaiters
        finishWaiters.removeAll()
        lock.unlock()
        for waiter in waiters { waiter.resume() }
        return waiting
    }

    private func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }
}
