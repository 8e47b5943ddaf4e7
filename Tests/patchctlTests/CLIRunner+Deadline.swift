import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension CLI {
    /// How a bounded run ended: its result, whether a signal ended it, whether it overran.
    struct BoundedResult {
        var result: Result
        /// The signal that ended the process, nil when it exited.
        var signal: Int32?
        var timedOut: Bool
    }

    /// Runs the binary but gives up after `seconds`: the process is killed and `timedOut` set,
    /// so a hang is a test failure instead of a stuck suite. Waits for the exit, never a fixed sleep.
    static func run(_ arguments: [String], within seconds: Double, environment: [String: String] = [:]) throws -> BoundedResult {
        let running = try start(arguments, environment: environment)
        nonisolated(unsafe) var finished: Result?
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            finished = finish(running)
            done.signal()
        }
        var timedOut = false
        if done.wait(timeout: .now() + seconds) == .timedOut {
            timedOut = true
            kill(running.process.processIdentifier, SIGKILL)
            done.wait()
        }
        let result = finished ?? Result(status: -1, stdout: "", stderr: "")
        return BoundedResult(result: result, signal: timedOut ? nil : result.signal, timedOut: timedOut)
    }
}
