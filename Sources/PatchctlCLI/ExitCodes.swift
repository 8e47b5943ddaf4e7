import ArgumentParser
import PatchCore

/// The documented exit codes (docs/exit-codes.md), and the one place an error becomes one.
enum ExitCodes {
    static let hostsFailed = ExitCode(2)
    static let invalidInventory = ExitCode(65)
    /// `discover`: a host key differs from the one an earlier sweep recorded for the same address and port.
    static let hostKeyChanged = ExitCode(4)
    /// A ring exceeded its max_fail_percent: it and every later ring stopped.
    static let halted = ExitCode(3)
    /// Another run of the same policy holds its lock (EX_TEMPFAIL).
    static let locked = ExitCode(75)
    /// SIGINT/SIGTERM stopped the run; `deploy --resume RUN` continues it.
    static let interrupted = ExitCode(130)
    /// A configuration file or PATCHCTL_* variable is wrong (EX_CONFIG).
    static let configuration = ExitCode(78)

    /// Prints what a command's error says and picks its exit code: PatchCore's errors, history's
    /// and the system's are one `patchctl: ...` line; ArgumentParser's own (`ExitCode`,
    /// `ValidationError`, `CleanExit`) keep its messages and codes.
    static func report(_ error: any Error) -> ExitCode {
        if isArgumentParsers(error) { return usage(error) }
        switch error {
        case let error as PatchError:
            // Several mistakes of one file: one `patchctl: file:line:column: message` line each.
            if case let .several(errors) = error {
                for each in errors { Terminal.writeErrorLine("\(each)") }
            } else {
                Terminal.writeErrorLine("\(error)")
            }
            switch error {
            // An invalid rule set is like an invalid policy.
            case .inventory, .pattern, .policy, .ruleSet, .several: return invalidInventory
            case .locked: return locked
            case .config: return configuration
            default: return .failure
            }
        case let error as AdvisorySyncError:
            // Like hosts: the others were synced, these kept their previous data.
            for failure in error.failures { Terminal.writeErrorLine("\(failure)") }
            return hostsFailed
        default:
            Terminal.writeErrorLine("\(error)")
            return .failure
        }
    }

    /// Errors ArgumentParser defines: its public ones, and the internal ones the commands it
    /// builds itself throw from `run()` (`--help`, `help SUBCOMMAND`).
    static func isArgumentParsers(_ error: any Error) -> Bool {
        switch error {
        case is ExitCode, is CleanExit, is ValidationError: return true
        default: return String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
        }
    }

    /// ArgumentParser's message and code: usage errors (64) on stderr, help and --version on stdout.
    static func usage(_ error: any Error) -> ExitCode {
        let text = Patchctl.fullMessage(for: error)
        let code = Patchctl.exitCode(for: error)
        if !text.isEmpty {
            if code == .success { Terminal.writeDocument(text + "\n") } else { Terminal.writeError(text + "\n") }
        }
        return code
    }
}
