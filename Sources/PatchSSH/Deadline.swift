#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on the monotonic clock. Plain nanoseconds so the reactor can compare
/// thousands of them per loop without allocation.
public struct Deadline: Comparable, Sendable {
    public let nanoseconds: UInt64

    public static var now: Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec))
    }

    public static let distantFuture = Deadline(nanoseconds: .max)

    public static func after(seconds: Double) -> Deadline {
        guard seconds.isFinite, seconds < 1e9 else { return .distantFuture }
        return Deadline(nanoseconds: now.nanoseconds + UInt64(max(0, seconds) * 1e9))
    }

    public var hasPassed: Bool { self <= .now }

    public static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
