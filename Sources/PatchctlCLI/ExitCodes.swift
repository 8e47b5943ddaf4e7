import ArgumentParser
import PatchCore

/// The documented exit codes (README "Exit codes").
enum ExitCodes {
    static let hostsFailed = ExitCode(2)
    static let invalidInventory = ExitCode(65)
    /// A ring exceeded its max_fail_percent: it and every later ring stopped.
    static let halted = ExitCode(3)
    /// Another run of the same policy holds its lock (EX_TEMPFAIL).
    static let locked = ExitCode(75)
    /// SIGINT/SIGTERM stopped the run; `deploy --resume RUN` continues it.
    static let interrupted = ExitCode(130)

    /// Prints a PatchCore error as one line and picks its exit code.
    static func fail(_ error: any Error) -> ExitCode {
        Terminal.writeErrorLine("\(error)")
        switch error as? PatchError {
        case .inventory, .pattern, .policy: return invalidInventory
        default: return .failure
        }
    }
}
