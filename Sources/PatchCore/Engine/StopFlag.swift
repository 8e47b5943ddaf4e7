import Foundation

/// Set once by SIGINT/SIGTERM: no new host starts, hosts in flight finish their package
/// operation (a package manager is never killed mid-transaction).
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false

    public init() {}

    /// Returns true the first time.
    @discardableResult
    public func stop() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return false }
        stopped = true
        return true
    }

    public var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }
}
