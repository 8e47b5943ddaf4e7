import Foundation

extension Process {
    /// How a program ended: its exit code, or the signal that killed it.
    public struct Termination: Sendable, Equatable {
        /// The exit code, or the signal number when `signaled` (as `terminationStatus` gives it).
        public var status: Int32
        public var signaled: Bool
    }

    /// Waits for the program to end. Unlike `waitUntilExit()`, it does not depend on Foundation
    /// noticing the exit: Foundation learns it when a socket it gives the child closes, and a
    /// program started at the same moment on another thread can inherit that socket and keep it
    /// open (swift-corelibs-foundation#4795); a test then hung with the child a zombie. Here the
    /// child is reaped directly. Whoever reaps it first, the status is not lost.
    @discardableResult
    public func waitForTermination() -> Termination {
        let pid = processIdentifier
        while isRunning {
            var status: Int32 = 0
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid {
                let signal = status & 0x7f
                return signal == 0 ? Termination(status: (status >> 8) & 0xff, signaled: false) : Termination(status: signal, signaled: true)
            }
            // 0: still running. ECHILD: Foundation reaped it and is about to say so.
            if reaped == -1, errno != EINTR, errno != ECHILD { break }
            usleep(2_000)
        }
        return Termination(status: terminationStatus, signaled: terminationReason == .uncaughtSignal)
    }

    /// `waitForTermination()`'s exit code (the signal number if a signal killed the program).
    @discardableResult
    public func waitForExit() -> Int32 {
        waitForTermination().status
    }
}
