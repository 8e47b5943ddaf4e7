import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One thread that watches every session's socket with epoll and wakes the task waiting on it.
/// Sessions run libssh2 in non-blocking mode: when a call answers EAGAIN the task suspends here
/// instead of holding a thread, so a thousand hosts in flight cost a thousand small waiters,
/// not a thousand stacks.
public final class Reactor: @unchecked Sendable {
    public static let shared = Reactor()

    private struct Waiter {
        let deadline: Deadline
        let continuation: CheckedContinuation<Bool, Never>
    }

    private let epollFD: Int32
    private let lock = NSLock()
    private var waiters: [Int32: Waiter] = [:]
    private var registered: Set<Int32> = []
    /// Deadline precision: the loop wakes at least this often to expire waiters.
    private let tickMilliseconds: Int32 = 20

    private init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epollFD >= 0, "epoll_create1 failed: errno \(errno)")
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "patchctl-reactor"
        thread.start()
    }

    /// Suspends until `fd` is readable/writable (true) or `deadline` passes (false).
    public func wait(fd: Int32, readable: Bool, writable: Bool, deadline: Deadline) async -> Bool {
        if deadline.hasPassed { return false }
        return await withCheckedContinuation { continuation in
            var interest = EPOLLONESHOT.rawValue
            if readable { interest |= EPOLLIN.rawValue }
            if writable { interest |= EPOLLOUT.rawValue }
            var event = epoll_event()
            event.events = interest
            event.data.fd = fd
            lock.lock()
            waiters[fd] = Waiter(deadline: deadline, continuation: continuation)
            let isNew = registered.insert(fd).inserted
            let rc = epoll_ctl(epollFD, isNew ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event)
            if rc != 0 { waiters[fd] = nil }
            lock.unlock()
            // A socket epoll refuses is broken: let the caller's next libssh2 call report why.
            if rc != 0 { continuation.resume(returning: true) }
        }
    }

    /// Must be called before the descriptor is closed, so a reused number never inherits a registration.
    public func forget(fd: Int32) {
        lock.lock()
        let waiter = waiters.removeValue(forKey: fd)
        if registered.remove(fd) != nil {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        }
        lock.unlock()
        waiter?.continuation.resume(returning: false)
    }

    private func loop() {
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        var ready: [CheckedContinuation<Bool, Never>] = []
        var expired: [CheckedContinuation<Bool, Never>] = []
        var nextExpiryScan = Deadline.now
        while true {
            let count = epoll_wait(epollFD, events, Int32(capacity), tickMilliseconds)
            let now = Deadline.now
            lock.lock()
            if count > 0 {
                for index in 0..<Int(count) {
                    if let waiter = waiters.removeValue(forKey: events[index].data.fd) {
                        ready.append(waiter.continuation)
                    }
                }
            }
            if now >= nextExpiryScan {
                for (fd, waiter) in waiters where waiter.deadline <= now {
                    waiters[fd] = nil
                    expired.append(waiter.continuation)
                }
                nextExpiryScan = Deadline(nanoseconds: now.nanoseconds + UInt64(tickMilliseconds) * 1_000_000)
            }
            lock.unlock()
            for continuation in ready { continuation.resume(returning: true) }
            for continuation in expired { continuation.resume(returning: false) }
            ready.removeAll(keepingCapacity: true)
            expired.removeAll(keepingCapacity: true)
        }
    }
}
