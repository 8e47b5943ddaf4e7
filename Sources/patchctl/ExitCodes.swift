import ArgumentParser
import PatchCore

/// The documented exit codes (README "Exit codes").
enum ExitCodes {
    static let hostsFailed = ExitCode(2)
    static let invalidInventory = ExitCode(65)

    /// Prints a PatchCore error as one line and picks its exit code.
    static func fail(_ error: any Error) -> ExitCode {
        Terminal.writeError("patchctl: \(error)\n")
        switch error as? PatchError {
        case .inventory, .pattern: return invalidInventory
        default: return .failure
        }
    }
}
