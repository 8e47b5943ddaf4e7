import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension Bastion {
    /// The relay's whole life: serve channels until the run closes the bastion or its connection
    /// breaks, then answer whoever still waits.
    func runRelay() async {
        let relay = TunnelRelay(bastion: self)
        let reason = await relay.run()
        for request in finish(reason) { request.continuation.resume(throwing: reason) }
    }
}

/// Bytes read from one side and not yet accepted by the other: read straight into, written
/// straight from (no copies), and its memory held only while it holds bytes, so a thousand idle
/// channels cost nothing.
final class PendingBytes {
    static let capacity = 64 << 10
    private var storage: UnsafeMutableRawPointer?
    private var start = 0
    private var end = 0

    deinit { storage?.deallocate() }

    var isEmpty: Bool { start == end }
    var count: Int { end - start }
    var isFull: Bool { end == Self.capacity }

    /// Lets `fill` read into the free space (it returns how many bytes it put there, or a
    /// negative error that is passed through).
    func fill(_ body: (UnsafeMutableRawPointer, Int) throws -> Int) rethrows -> Int {
        if storage == nil { storage = .allocate(byteCount: Self.capacity, alignment: 16) }
        let count = try body(storage! + end, Self.capacity - end)
        if count > 0 { end += count }
        if isEmpty { release() }
        return count
    }

    func withUnread<T>(_ body: (UnsafeRawPointer, Int) throws -> T) rethrows -> T {
        try body(UnsafeRawPointer(storage!) + start, end - start)
    }

    func consume(_ count: Int) {
        start += count
        if start == end { release() }
    }

    private func release() {
        storage?.deallocate()
        storage = nil
        start = 0
        end = 0
    }
}

/// One target's channel and the socketpair end its session talks to.
final class Tunnel {
    let id: UInt64
    /// Our end of the socketpair; -1 for a channel whose target gave up before it opened.
    let fd: Int32
    let channel: OpaquePointer
    /// Target → bastion, and bastion → target.
    let up = PendingBytes()
    let down = PendingBytes()
    /// The target closed its end (its session is gone).
    var localEOF = false
    var remoteEOF = false
    var shutLocal = false
    /// The local end failed, or the run closes: free the channel without flushing.
    var broken: Bool
    var fdReadable = true
    var fdWritable = true
    /// False after a write found the channel's window shut; true again once the bastion sent something.
    var windowOpen = true
    /// A read may find data libssh2 already holds (the target just took what we had).
    var readAgain = false
    var interest: UInt32 = 0

    init(id: UInt64, fd: Int32, channel: OpaquePointer) {
        self.id = id
        self.fd = fd
        self.channel = channel
        broken = fd < 0
    }

    var shouldClose: Bool { broken || (localEOF && up.isEmpty) }
    var canReceive: Bool { !shouldClose && !remoteEOF && !down.isFull }
}

/// The bastion's relay task: the only code that calls libssh2 on the bastion's session once it
/// is logged in. Each pass moves what can move without waiting; then it waits, through the
/// reactor, on a private epoll set holding the bastion's socket, every target's socketpair end
/// and the bastion's wake-up eventfd.
final class TunnelRelay {
    /// Bytes moved in a row before the relay lets other tasks on the reactor thread run.
    static let fairShare = 256 << 10
    /// How long the end of the run waits for channels and the disconnect.
    static let closeSeconds = 2.0

    /// The libssh2 calls the relay makes, to repeat the one that left a packet half sent.
    enum Op: Equatable {
        case open, read(UInt64), write(UInt64), free(UInt64), keepalive
    }

    /// A packet is half sent: libssh2 refuses every other packet (LIBSSH2_ERROR_BAD_USE) until
    /// the same call, repeated, has sent the rest.
    struct HalfSent: Error { let op: Op }
    /// The bastion's connection failed: every target behind it fails.
    struct Broken: Error { let error: LibSSH2Error }

    private static let wakeTag: UInt64 = 0
    private static let socketTag: UInt64 = 1

    let bastion: Bastion
    let session: SSHSession
    let label: String
    private let epollFD: Int32
    private var tunnels: [UInt64: Tunnel] = [:]
    private var nextID: UInt64 = 2
    private var queue: [Bastion.Request] = []
    /// libssh2 opens one channel at a time per session: the one in flight, and who asked for it
    /// (nil once its target gave up; the channel is then closed as soon as it opens).
    private var openInFlight = false
    /// Where the open in flight goes, to tell the targets queued behind it what they wait for.
    private var inFlightTarget = ""
    private var opening: Bastion.Request?
    private var halfSent: Op?
    /// A call that returned a result but left a packet half sent: the pass stops after booking it.
    private var owed: Op?
    private var socketInterest: UInt32 = EPOLLRDHUP.rawValue
    private var socketReadable = true
    /// The bastion closed or reset the connection (seen even while nothing reads it).
    private var socketClosed = false
    /// libssh2 may hold whole packets it has not parsed yet after a call that stopped at the
    /// packet it wanted: the socket will not say so, so the next pass reads anyway.
    private var pendingInput = true
    private var closing = false
    private var closeDeadline = Deadline.distantFuture
    private var nextKeepalive: Deadline
    private var moved = 0
    private var scratch = [CChar](repeating: 0, count: 1)

    init(bastion: Bastion) {
        self.bastion = bastion
        session = bastion.session
        label = bastion.session.config.label
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        let interval = session.config.keepaliveInterval
        nextKeepalive = interval > 0 ? .after(seconds: Double(interval)) : .distantFuture
    }

    deinit {
        if epollFD >= 0 {
            session.reactor.forget(fd: epollFD)
            Glibc.close(epollFD)
        }
    }

    func run() async -> SSHError {
        guard epollFD >= 0, let handle = session.handle else {
            return .session(host: label, LibSSH2Error(code: LIBSSH2_ERROR_ALLOC, message: "cannot start the relay", function: "epoll_create1"))
        }
        let owner = session.claim()
        defer { session.release(owner) }
        control(EPOLL_CTL_ADD, bastion.wakeFD, tag: Self.wakeTag, events: EPOLLIN.rawValue)
        control(EPOLL_CTL_ADD, session.socket, tag: Self.socketTag, events: EPOLLRDHUP.rawValue)
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: 256)
        defer { events.deallocate() }
        while true {
            let (requests, close) = bastion.takeIncoming()
            queue += requests
            if close && !closing { beginClose() }
            expireRequests()
            do {
                while try pass(handle) {
                    if moved >= Self.fairShare {
                        moved = 0
                        await Task.yield()
                    }
                }
            } catch let stop as Broken {
                return stopAll(SSHError.session(host: label, LibSSH2Error(
                    code: stop.error.code, message: "broken (\(stop.error.message))", function: "bastion connection")))
            } catch let stuck as HalfSent {
                halfSent = stuck.op
            } catch {
                return stopAll(SSHError.session(host: label, LibSSH2Error(code: LIBSSH2_ERROR_BAD_USE, message: "\(error)", function: "relay")))
            }
            if closing && ((tunnels.isEmpty && !openInFlight) || closeDeadline.hasPassed) {
                await disconnect(handle)
                return stopAll(SSHError.session(host: label, LibSSH2Error(
                    code: LIBSSH2_ERROR_SOCKET_DISCONNECT, message: "the bastion connection was closed at the end of the run", function: "bastion")))
            }
            updateInterests()
            var wakeAt = min(nextKeepalive, closeDeadline)
            for request in queue { wakeAt = min(wakeAt, request.deadline) }
            if let opening { wakeAt = min(wakeAt, opening.deadline) }
            moved = 0
            do {
                _ = try await session.reactor.wait(fd: epollFD, readable: true, writable: false, deadline: wakeAt)
            } catch {
                return stopAll(SSHError.session(host: label, LibSSH2Error(code: LIBSSH2_ERROR_BAD_USE, message: "\(error)", function: "relay")))
            }
            collectEvents(events)
        }
    }

    // MARK: - One pass

    /// Does everything that can be done without waiting; true when something moved.
    private func pass(_ handle: OpaquePointer) throws -> Bool {
        var progress = false
        if socketClosed, tunnels.isEmpty, !openInFlight {
            // Nothing would read the socket to find out (and its hang-up would wake us for ever):
            // the connection is over, the pool replaces it if another host needs it.
            throw Broken(error: LibSSH2Error(code: LIBSSH2_ERROR_SOCKET_DISCONNECT, message: "the bastion closed the connection", function: "bastion"))
        }
        if let op = halfSent {
            // Nothing else may go out before this call has sent the rest of its packet.
            try repeatCall(op, handle)
            halfSent = nil
            progress = true
        }
        progress = try serviceOpen(handle) || progress
        progress = try receive() || progress
        for tunnel in tunnels.values {
            progress = serviceLocal(tunnel) || progress
            progress = try send(tunnel) || progress
            if tunnel.shouldClose { progress = try free(tunnel) || progress }
        }
        if !progress { try keepaliveIfDue(handle) }
        return progress
    }

    private func repeatCall(_ op: Op, _ handle: OpaquePointer) throws {
        switch op {
        case .open: _ = try serviceOpen(handle)
        case let .read(id): if let tunnel = tunnels[id] { _ = try read(tunnel) }
        case let .write(id): if let tunnel = tunnels[id] { _ = try send(tunnel, force: true) }
        case let .free(id): if let tunnel = tunnels[id] { _ = try free(tunnel) }
        case .keepalive: try keepaliveIfDue(handle, force: true)
        }
    }

    /// Classifies a libssh2 result: a broken connection stops the relay; a packet left half sent
    /// stops the pass at once (EAGAIN) or once the caller has booked the result (`settle()`).
    private func checked(_ op: Op, _ rc: Int) throws -> Int {
        let handle = session.handle
        if rc < 0 && rc != Int(LIBSSH2_ERROR_EAGAIN) {
            // Channel-level failures belong to one target; anything else is the connection itself.
            if (Int(LIBSSH2_ERROR_CHANNEL_EOF_SENT)...Int(LIBSSH2_ERROR_CHANNEL_FAILURE)).contains(rc) { return rc }
            throw Broken(error: LibSSH2Error.last(handle, function: "bastion relay", fallback: Int32(truncatingIfNeeded: rc)))
        }
        // libssh2 keeps this bit set exactly while a packet is half sent (even when the call
        // itself returned data: libssh2_channel_read_ex may have begun a window adjust).
        if libssh2_session_block_directions(handle) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            if rc == Int(LIBSSH2_ERROR_EAGAIN) { throw HalfSent(op: op) }
            owed = op
        }
        return rc
    }

    /// Stops the pass when the last call left a packet half sent.
    private func settle() throws {
        guard let op = owed else { return }
        owed = nil
        throw HalfSent(op: op)
    }

    // MARK: - Opening channels

    private func serviceOpen(_ handle: OpaquePointer) throws -> Bool {
        if !openInFlight {
            guard !closing, !queue.isEmpty else { return false }
            opening = queue.removeFirst()
            openInFlight = true
            inFlightTarget = "\(opening!.host) port \(opening!.port)"
        }
        // The arguments matter only on the first call; libssh2 keeps them while the open is in flight.
        let host = opening?.host ?? ""
        let port = Int32(opening?.port ?? 22)
        if let channel = libssh2_channel_direct_tcpip_ex(handle, host, port, "127.0.0.1", 22) {
            openInFlight = false
            pendingInput = true
            bastion.countOpened()
            let request = opening
            opening = nil
            guard let request else {
                addTunnel(fd: -1, channel: channel)  // its target gave up: close it again
                return true
            }
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                let reason = String(cString: strerror(errno))
                addTunnel(fd: -1, channel: channel)
                request.continuation.resume(throwing: SSHError.tunnel(host: request.host, port: request.port, message: "socketpair: \(reason)"))
                return true
            }
            addTunnel(fd: pair[0], channel: channel)
            request.continuation.resume(returning: pair[1])
            try settle()
            return true
        }
        let code = Int(libssh2_session_last_errno(handle))
        if try checked(.open, code) == Int(LIBSSH2_ERROR_EAGAIN) { return false }
        let error = LibSSH2Error.last(handle, function: "libssh2_channel_direct_tcpip_ex", fallback: Int32(code))
        openInFlight = false
        if let request = opening {
            var message = error.message
            if message.contains("administratively prohibited") {
                message += "; the bastion's sshd refuses forwarding (AllowTcpForwarding, PermitOpen, DisableForwarding)"
            } else if message.contains("connect failed") {
                message += "; the bastion could not connect to it"
            }
            request.continuation.resume(throwing: SSHError.tunnel(host: request.host, port: request.port, message: message))
        }
        opening = nil
        try settle()
        return true
    }

    private func addTunnel(fd: Int32, channel: OpaquePointer) {
        let tunnel = Tunnel(id: nextID, fd: fd, channel: channel)
        nextID += 1
        tunnels[tunnel.id] = tunnel
        bastion.setOpen(tunnels.count)
        if fd >= 0 { control(EPOLL_CTL_ADD, fd, tag: tunnel.id, events: 0) }
    }

    /// Targets whose connect deadline passed while they waited for a channel.
    private func expireRequests() {
        let now = Deadline.now
        // Opens take turns: a target that never got its turn says whose open it waited behind.
        let phase = openInFlight ? "channel open (queued behind the open to \(inFlightTarget), which the bastion has not answered)" : "channel open"
        queue.removeAll { request in
            guard request.deadline <= now else { return false }
            request.continuation.resume(throwing: SSHError.timeout(host: request.host, phase: phase, seconds: request.timeoutSeconds))
            return true
        }
        if let request = opening, request.deadline <= now {
            request.continuation.resume(throwing: SSHError.timeout(host: request.host, phase: "channel open", seconds: request.timeoutSeconds))
            opening = nil
        }
    }

    // MARK: - Bastion → targets

    /// Pulls what the bastion sent into libssh2's per-channel queues, then reads every channel
    /// that has data (or its end) and room for it.
    private func receive() throws -> Bool {
        var progress = false
        if socketReadable || pendingInput {
            socketReadable = false
            pendingInput = false
            // A zero-length read processes every packet the socket has and takes none of them.
            if let any = tunnels.values.first(where: { !$0.shouldClose }) {
                let rc = try scratch.withUnsafeMutableBufferPointer { buffer in
                    try checked(.read(any.id), libssh2_channel_read_ex(any.channel, 0, buffer.baseAddress, 0))
                }
                if rc < 0 && rc != Int(LIBSSH2_ERROR_EAGAIN) { any.broken = true }
                try settle()
            }
            for tunnel in tunnels.values {
                tunnel.windowOpen = true
                // Not 0 means data (1), or a queue the check cannot read (an error): read to find out.
                if tunnel.canReceive, libssh2_poll_channel_read(tunnel.channel, 0) != 0 || libssh2_channel_eof(tunnel.channel) == 1 {
                    tunnel.readAgain = true
                }
            }
        }
        for tunnel in tunnels.values where tunnel.readAgain && tunnel.canReceive {
            tunnel.readAgain = false
            progress = try read(tunnel) || progress
        }
        return progress
    }

    private func read(_ tunnel: Tunnel) throws -> Bool {
        // A repeated call (a half-sent window adjust) may find the buffer full: it then reads nothing.
        let count = try tunnel.down.fill { space, room in
            try checked(.read(tunnel.id), libssh2_channel_read_ex(tunnel.channel, 0, space.assumingMemoryBound(to: CChar.self), room))
        }
        if count > 0 {
            moved += count
            tunnel.readAgain = true
            try settle()
            return true
        }
        try settle()
        if count == Int(LIBSSH2_ERROR_EAGAIN) { return false }
        if count == 0 {
            guard libssh2_channel_eof(tunnel.channel) == 1 else { return false }
            tunnel.remoteEOF = true
            return true
        }
        tunnel.broken = true
        return true
    }

    // MARK: - Socketpair ends

    /// Moves bytes between a target's socketpair end and the tunnel's buffers (no libssh2 here).
    private func serviceLocal(_ tunnel: Tunnel) -> Bool {
        guard tunnel.fd >= 0, !tunnel.broken else { return false }
        var progress = false
        if !tunnel.localEOF, tunnel.up.isEmpty, tunnel.fdReadable {
            var failure: Int32 = 0
            let count = tunnel.up.fill { space, room in
                let count = recv(tunnel.fd, space, room, 0)
                if count < 0 { failure = errno }
                return count
            }
            if count > 0 {
                moved += count
                progress = true
            } else if count == 0 {
                tunnel.localEOF = true
                progress = true
            } else if failure == EAGAIN || failure == EWOULDBLOCK {
                tunnel.fdReadable = false
            } else if failure != EINTR {
                tunnel.broken = true
                return true
            }
        }
        if !tunnel.down.isEmpty, tunnel.fdWritable {
            let sent = tunnel.down.withUnread { Glibc.send(tunnel.fd, $0, $1, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                tunnel.down.consume(sent)
                moved += sent
                if tunnel.down.isEmpty { tunnel.readAgain = true }
                progress = true
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                tunnel.fdWritable = false
            } else if errno != EINTR {
                // The target's session is gone (EPIPE): nobody will read what is left.
                tunnel.broken = true
                return true
            }
        }
        if tunnel.remoteEOF, tunnel.down.isEmpty, !tunnel.shutLocal {
            // The far end closed: the target's session sees its connection end.
            shutdown(tunnel.fd, Int32(SHUT_WR))
            tunnel.shutLocal = true
            progress = true
        }
        return progress
    }

    // MARK: - Targets → bastion

    private func send(_ tunnel: Tunnel, force: Bool = false) throws -> Bool {
        guard !tunnel.up.isEmpty, !tunnel.broken, tunnel.windowOpen || force else { return false }
        let written = try tunnel.up.withUnread { bytes, count in
            try checked(.write(tunnel.id), libssh2_channel_write_ex(tunnel.channel, 0, bytes.assumingMemoryBound(to: CChar.self), count))
        }
        if written > 0 {
            tunnel.up.consume(written)
            moved += written
            try settle()
            return true
        }
        try settle()
        if written == 0 || written == Int(LIBSSH2_ERROR_EAGAIN) {
            // The channel's window is shut: wait for the bastion to open it.
            tunnel.windowOpen = false
            return false
        }
        tunnel.broken = true
        return true
    }

    // MARK: - Closing

    /// Closes and frees a finished channel, then its socketpair end.
    private func free(_ tunnel: Tunnel) throws -> Bool {
        let rc = try checked(.free(tunnel.id), Int(libssh2_channel_free(tunnel.channel)))
        if rc == Int(LIBSSH2_ERROR_EAGAIN) { return false }
        tunnels[tunnel.id] = nil
        bastion.setOpen(tunnels.count)
        if tunnel.fd >= 0 {
            control(EPOLL_CTL_DEL, tunnel.fd, tag: tunnel.id, events: 0)
            Glibc.close(tunnel.fd)
        }
        // libssh2 may have parsed past the close it waited for.
        pendingInput = true
        try settle()
        return true
    }

    private func beginClose() {
        closing = true
        closeDeadline = .after(seconds: Self.closeSeconds)
        let reason = SSHError.session(host: label, LibSSH2Error(code: LIBSSH2_ERROR_SOCKET_DISCONNECT,
                                                                message: "the bastion connection was closed at the end of the run", function: "bastion"))
        for request in queue { request.continuation.resume(throwing: reason) }
        queue.removeAll()
        for tunnel in tunnels.values { tunnel.broken = true }
    }

    private func disconnect(_ handle: OpaquePointer) async {
        guard halfSent == nil else { return }
        let deadline = Deadline.after(seconds: 1)
        while !deadline.hasPassed {
            let rc = libssh2_session_disconnect_ex(handle, SSH_DISCONNECT_BY_APPLICATION, "patchctl done", "")
            guard rc == LIBSSH2_ERROR_EAGAIN else { return }
            guard (try? await session.waitForSocket(until: deadline)) == true else { return }
        }
    }

    /// Ends the relay: pending targets fail with `reason`, targets with a channel see their
    /// connection end.
    private func stopAll(_ reason: SSHError) -> SSHError {
        if let opening { opening.continuation.resume(throwing: reason) }
        opening = nil
        for request in queue { request.continuation.resume(throwing: reason) }
        queue.removeAll()
        for tunnel in tunnels.values where tunnel.fd >= 0 {
            control(EPOLL_CTL_DEL, tunnel.fd, tag: tunnel.id, events: 0)
            Glibc.close(tunnel.fd)
        }
        // The channels go with the session (libssh2_session_free frees them).
        tunnels.removeAll()
        bastion.setOpen(0)
        control(EPOLL_CTL_DEL, session.socket, tag: Self.socketTag, events: 0)
        control(EPOLL_CTL_DEL, bastion.wakeFD, tag: Self.wakeTag, events: 0)
        return reason
    }

    // MARK: - Keepalive

    /// Keepalives go out only when the connection is idle and its socket's send queue is empty,
    /// so the small packet cannot be half sent: libssh2 1.10 could not finish it later (it
    /// builds the packet on its stack and does not resend it).
    private func keepaliveIfDue(_ handle: OpaquePointer, force: Bool = false) throws {
        guard force || (nextKeepalive.hasPassed && !closing) else { return }
        var queued: Int32 = 0
        // TIOCOUTQ (0x5411): bytes in the socket's send queue.
        let measured = withUnsafeMutablePointer(to: &queued) { ioctl(session.socket, UInt(0x5411), $0) }
        guard force || (measured == 0 && queued == 0) else { return }
        var seconds: Int32 = 0
        _ = try checked(.keepalive, Int(libssh2_keepalive_send(handle, &seconds)))
        try settle()
        nextKeepalive = .after(seconds: Double(max(1, seconds > 0 ? Int(seconds) : session.config.keepaliveInterval)))
    }

    // MARK: - Waiting

    private func updateInterests() {
        var wantSocket: UInt32 = 0
        var anyBusy = openInFlight || halfSent != nil
        for tunnel in tunnels.values {
            var interest: UInt32 = 0
            if tunnel.fd >= 0, !tunnel.broken {
                if !tunnel.localEOF && tunnel.up.isEmpty { interest |= EPOLLIN.rawValue }
                if !tunnel.down.isEmpty { interest |= EPOLLOUT.rawValue }
            }
            if tunnel.canReceive || tunnel.shouldClose || (!tunnel.up.isEmpty && !tunnel.windowOpen) { anyBusy = true }
            if tunnel.fd >= 0, interest != tunnel.interest {
                tunnel.interest = interest
                control(EPOLL_CTL_MOD, tunnel.fd, tag: tunnel.id, events: interest)
            }
        }
        // With no channel wanting data, the bastion's bytes wait in the kernel (a readable socket
        // nobody reads would wake this loop for ever); its hang-up is always worth a wake-up.
        wantSocket |= EPOLLRDHUP.rawValue
        if anyBusy { wantSocket |= EPOLLIN.rawValue }
        if halfSent != nil { wantSocket |= EPOLLOUT.rawValue }
        if wantSocket != socketInterest {
            socketInterest = wantSocket
            control(EPOLL_CTL_MOD, session.socket, tag: Self.socketTag, events: wantSocket)
        }
    }

    private func collectEvents(_ events: UnsafeMutablePointer<epoll_event>) {
        let count = epoll_wait(epollFD, events, 256, 0)
        guard count > 0 else { return }
        for index in 0..<Int(count) {
            let tag = events[index].data.u64
            let flags = events[index].events
            let failed = flags & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0
            switch tag {
            case Self.wakeTag:
                var drained: UInt64 = 0
                _ = Glibc.read(bastion.wakeFD, &drained, 8)
            case Self.socketTag:
                socketReadable = true
                if failed || flags & EPOLLRDHUP.rawValue != 0 { socketClosed = true }
            default:
                guard let tunnel = tunnels[tag] else { continue }
                if flags & EPOLLIN.rawValue != 0 || failed { tunnel.fdReadable = true }
                if flags & EPOLLOUT.rawValue != 0 || failed { tunnel.fdWritable = true }
            }
        }
    }

    private func control(_ operation: Int32, _ fd: Int32, tag: UInt64, events: UInt32) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = tag
        _ = epoll_ctl(epollFD, operation, fd, &event)
    }
}
