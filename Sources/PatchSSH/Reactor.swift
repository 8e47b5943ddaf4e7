import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// epoll and eventfd: a kqueue port would be needed for macOS or the BSDs (Package.swift says Linux only).
#if !os(Linux)
#error("patchctl runs on Linux only: its reactor is epoll")
#endif

/// One thread that watches every session's socket with epoll and also runs the tasks that
/// drive those sessions (it is their task executor).
///
/// Sessions run libssh2 in non-blocking mode: when a call answers EAGAIN the task suspends here
/// instead of holding a thread, so a thousand hosts in flight cost a thousand small waiters, not a
/// thousand stacks. Because the same thread resumes the task, a readiness event costs no thread
/// hop: the loop takes events, runs the tasks they wake until all of them wait again, then sleeps
/// until the next event or the nearest deadline.
public final class Reactor: TaskExecutor, @unchecked Sendable {
    public static let shared = Reactor()

    private struct Waiter {
        let deadline: Deadline
        let continuation: CheckedContinuation<Result<Bool, WaiterConflict>, Never>
    }

    /// A second task waiting on a descriptor that already has one: one readiness event resumes one
    /// waiter, so replacing the first would leave its task suspended forever. Two tasks driving one
    /// socket is a bug in the caller.
    public struct WaiterConflict: Error, Equatable, CustomStringConvertible {
        public let fd: Int32
        public var description: String { "descriptor \(fd) already has a waiting task: two tasks are driving one socket" }
    }

    private let epollFD: Int32
    /// An eventfd in the epoll set: written to wake the loop for new jobs or a nearer deadline.
    private let wakeFD: Int32
    private let lock = NSLock()
    private var waiters: [Int32: Waiter] = [:]
    /// The loop's thread, set once before it runs any job.
    private var loopThread: pthread_t?
    private var registered: Set<Int32> = []
    private var jobs: [UnownedJob] = []
    /// True while the loop is awake: it will see new jobs and deadlines before it sleeps again.
    private var awake = true
    /// When the sleeping loop will next look at deadlines; a waiter due earlier wakes it.
    private var plannedWake = Deadline.distantFuture
    /// Longest sleep between deadline checks when nothing is due.
    private let maxSleepMilliseconds: Int32 = 1000
    /// Longest run of jobs before readiness is polled again.
    private let sliceNanoseconds: UInt64 = 2_000_000

    private init() {
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(epollFD >= 0, "epoll_create1 failed: errno \(errno)")
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        precondition(wakeFD >= 0, "eventfd failed: errno \(errno)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        precondition(epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &event) == 0, "epoll_ctl(eventfd) failed: errno \(errno)")
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "patchctl-reactor"
        thread.start()
    }

    // MARK: - TaskExecutor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        lock.lock()
        jobs.append(job)
        let wake = !awake
        if wake { awake = true }
        lock.unlock()
        if wake { signal() }
    }

    // MARK: - Readiness

    /// Suspends until `fd` is readable/writable (true) or `deadline` passes (false). A second
    /// waiter on the same descriptor stops a debug build (assertion) and gets `WaiterConflict` in
    /// a release build, the first waiter left as it was.
    public func wait(fd: Int32, readable: Bool, writable: Bool, deadline: Deadline) async throws(WaiterConflict) -> Bool {
        try await wait(fd: fd, readable: readable, writable: writable, deadline: deadline) { assertionFailure("\($0)") }
    }

    /// `onConflict`: what a debug build does about a second waiter before the error is thrown (tests pass a no-op).
    func wait(fd: Int32, readable: Bool, writable: Bool, deadline: Deadline,
              onConflict: (WaiterConflict) -> Void) async throws(WaiterConflict) -> Bool {
        if deadline.hasPassed { return false }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Bool, WaiterConflict>, Never>) in
            var interest = EPOLLONESHOT.rawValue
            if readable { interest |= EPOLLIN.rawValue }
            if writable { interest |= EPOLLOUT.rawValue }
            var event = epoll_event()
            event.events = interest
            event.data.fd = fd
            lock.lock()
            if waiters[fd] != nil {
                lock.unlock()
                let conflict = WaiterConflict(fd: fd)
                onConflict(conflict)
                continuation.resume(returning: .failure(conflict))
                return
            }
            waiters[fd] = Waiter(deadline: deadline, continuation: continuation)
            let isNew = registered.insert(fd).inserted
            let rc = epoll_ctl(epollFD, isNew ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event)
            if rc != 0 { waiters[fd] = nil }
            let wake = rc == 0 && !awake && deadline < plannedWake
            if wake { awake = true }
            lock.unlock()
            if wake { signal() }
            // A socket epoll refuses is broken: let the caller's next libssh2 call report why.
            if rc != 0 { continuation.resume(returning: .success(true)) }
        }
        return try outcome.get()
    }

    /// Whether a task waits on `fd` now (tests wait for this before racing a second waiter).
    func hasWaiter(fd: Int32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return waiters[fd] != nil
    }

    /// Must be called before the descriptor is closed, so a reused number never inherits a registration.
    public func forget(fd: Int32) {
        lock.lock()
        let waiter = waiters.removeValue(forKey: fd)
        if registered.remove(fd) != nil {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        }
        lock.unlock()
        waiter?.continuation.resume(returning: .success(false))
    }

    private func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
    }

    // MARK: - The loop

    /// Whether the caller runs on the reactor's thread (tasks that prefer it as their executor do).
    public var isCurrent: Bool {
        lock.lock()
        defer { lock.unlock() }
        return loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    private func loop() {
        lock.lock()
        loopThread = pthread_self()
        lock.unlock()
        let capacity = 512
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        var ready: [CheckedContinuation<Result<Bool, WaiterConflict>, Never>] = []
        var expired: [CheckedContinuation<Result<Bool, WaiterConflict>, Never>] = []
        let executor = asUnownedTaskExecutor()
        while true {
            // Run every job until each task waits again (jobs they enqueue join the batch), but
            // for at most a slice of time: a task that keeps yielding (a flooding stream) must
            // not keep readiness and deadlines of the other hosts from being looked at.
            let sliceEnd = Deadline.now.nanoseconds + sliceNanoseconds
            while true {
                lock.lock()
                let batch = jobs
                jobs.removeAll(keepingCapacity: true)
                lock.unlock()
                if batch.isEmpty { break }
                for job in batch { job.runSynchronously(on: executor) }
                if Deadline.now.nanoseconds >= sliceEnd { break }
            }

            // Expire what is due and find how long to sleep.
            let now = Deadline.now
            var next = Deadline(nanoseconds: now.nanoseconds + UInt64(maxSleepMilliseconds) * 1_000_000)
            lock.lock()
            for (fd, waiter) in waiters {
                if waiter.deadline <= now {
                    waiters[fd] = nil
                    expired.append(waiter.continuation)
                } else if waiter.deadline < next {
                    next = waiter.deadline
                }
            }
            let sleep = expired.isEmpty && jobs.isEmpty
            if sleep {
                awake = false
                plannedWake = next
            }
            lock.unlock()
            for continuation in expired { continuation.resume(returning: .success(false)) }
            expired.removeAll(keepingCapacity: true)

            // With work pending, only look at which sockets are ready; otherwise sleep until one
            // is or the nearest deadline.
            let timeout = !sleep ? 0 : Int32(min(UInt64(maxSleepMilliseconds), (next.nanoseconds - now.nanoseconds + 999_999) / 1_000_000))
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            lock.lock()
            awake = true
            if count > 0 {
                for index in 0..<Int(count) {
                    let fd = events[index].data.fd
                    if fd == wakeFD {
                        var drained: UInt64 = 0
                        _ = Glibc.read(wakeFD, &drained, 8)
                    } else if let waiter = waiters.removeValue(forKey: fd) {
                        ready.append(waiter.continuation)
                    }
                }
            }
            lock.unlock()
            for continuation in ready { continuation.resume(returning: .success(true)) }
            ready.removeAll(keepingCapacity: true)
        }
    }
}
