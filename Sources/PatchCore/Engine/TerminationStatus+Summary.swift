import Subprocess

extension TerminationStatus {
    /// "exited 3" or "was killed by signal 9": how a local child ended, for error messages.
    var summary: String {
        switch self {
        case let .exited(code): "exited \(code)"
        case let .signaled(signal): "was killed by signal \(signal)"
        }
    }
}
