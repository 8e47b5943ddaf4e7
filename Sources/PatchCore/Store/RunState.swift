/// Where a recorded run stands (`runs.state`).
public enum RunState: String, Codable, Sendable, CaseIterable {
    /// Recorded before the first connection; a run still `running` after its process ended was killed.
    case running
    case finished
    /// Deploy: a ring exceeded its `max_fail_percent`.
    case halted
    /// Deploy: SIGINT/SIGTERM (or a history write failure) stopped it; `--resume` continues it.
    case interrupted
    /// Deploy: the next ring waits for its soak or the previous ring's health.
    case waiting
    /// Some of its records could not be written when it ran; they were kept in the journal beside
    /// the database and imported by a later run, so what the run recorded may be partial.
    case incomplete

    /// A deploy outcome as a run state (a dry run that planned is finished).
    public init(_ outcome: DeployOutcome) {
        switch outcome {
        case .finished, .planned: self = .finished
        case .halted: self = .halted
        case .interrupted: self = .interrupted
        case .waiting: self = .waiting
        }
    }

    /// States `diff` and other comparisons may read as a whole picture.
    public var isFinished: Bool { self == .finished }
}
