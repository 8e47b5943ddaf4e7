/// Whether and how hosts restart after installing.
public struct RebootPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable, Codable, CaseIterable {
        case never
        /// Only when the platform reports a pending reboot after installing.
        case ifRequired = "if_required"
        case always
    }

    /// What logged-in users are told; `{minutes}` is replaced by the grace period.
    public static let defaultMessage = "patchctl: this system restarts in {minutes} minutes to finish installing updates"

    public var mode: Mode
    public var message: String
    /// Minutes between the warning and the restart; 0 restarts at once.
    public var graceMinutes: Int

    /// Documented range: at most a day between the warning and the restart.
    public static let graceMinutesRange = 0...1440

    /// `graceMinutes` clamped to its range: what reaches `shutdown -r +N` and the wait for the
    /// restart, whatever a Policy built in code holds.
    public var boundedGraceMinutes: Int {
        min(max(graceMinutes, Self.graceMinutesRange.lowerBound), Self.graceMinutesRange.upperBound)
    }

    public init(mode: Mode = .never, message: String = RebootPolicy.defaultMessage, graceMinutes: Int = 5) {
        self.mode = mode
        self.message = message
        self.graceMinutes = graceMinutes
    }
}
