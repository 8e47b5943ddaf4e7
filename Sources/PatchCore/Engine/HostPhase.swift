import Foundation

/// Where a host's work stands, for the operator's progress line (`connecting 40 · scanning 8`).
public enum HostPhase: String, Sendable, CaseIterable {
    case connecting, scanning, running, uploading, installing, verifying, rebooting
}

/// Told each time a host enters a phase (from the reactor thread: it must return at once).
public typealias PhaseObserver = @Sendable (_ host: String, _ phase: HostPhase) -> Void
