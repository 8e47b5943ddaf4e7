import Foundation

extension SpawnedProcess {
    /// How a program ended: its exit code, or the signal that killed it.
    public struct Termination: Sendable, Equatable {
        /// The exit code, or the signal number when `signaled` (as `terminationStatus` gives it).
        public var status: Int32
        public var signaled: Bool

        public init(status: Int32, signaled: Bool) {
            self.status = status
            self.signaled = signaled
        }
    }

    /// Waits for the program to end (its own thread reaps it, see `SpawnedProcess`).
    @discardableResult
    public func waitForTermination() -> Termination {
        waitUntilExit()
        return Termination(status: terminationStatus, signaled: terminationReason == .uncaughtSignal)
    }

    /// `waitForTermination()`'s exit code (the signal number if a signal killed the program).
    @discardableResult
    public func waitForExit() -> Int32 {
        waitForTermination().status
    }
}
