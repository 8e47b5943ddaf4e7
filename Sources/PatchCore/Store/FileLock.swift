import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on a small file beside the database, waited for up to `timeout`: what
/// serialises schema migrations and journal imports between processes (the kernel releases it
/// however the holder ends).
final class FileLock {
    private var descriptor: Int32

    init(path: String, timeout: TimeInterval, what: String) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw PatchError.store(path: path, message: "cannot open lock file: \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, Date() < deadline else {
                close(descriptor)
                throw PatchError.store(path: path, message: "\(what) stayed locked by another patchctl process for \(Int(timeout)) s")
            }
            usleep(10_000)
        }
    }

    func unlock() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { unlock() }
}

/// Remembers the first failed write to the database and tells whoever asked to know.
final class WriteFailureLatch: @unchecked Sendable {
    private let lock = NSLock()
    private var failure: (any Error)?
    private var observers: [@Sendable (any Error) -> Void] = []

    var first: (any Error)? { lock.withLock { failure } }

    func record(_ error: any Error) {
        let notify: [@Sendable (any Error) -> Void] = lock.withLock {
            guard failure == nil else { return [] }
            failure = error
            return observers
        }
        for observer in notify { observer(error) }
    }

    /// Called once, at the first failure (at once if one happened already).
    func observe(_ observer: @escaping @Sendable (any Error) -> Void) {
        let past: (any Error)? = lock.withLock {
            if failure == nil { observers.append(observer) }
            return failure
        }
        if let past { observer(past) }
    }
}
