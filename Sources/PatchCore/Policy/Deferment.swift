import Foundation

/// Lets logged-in users postpone an installation a limited number of times, up to a deadline.
public struct Deferment: Sendable, Equatable {
    public enum Deadline: Sendable, Equatable {
        /// Seconds after the first deferral.
        case after(Double)
        /// A fixed moment.
        case at(Date)
    }

    public var maxDeferrals: Int
    /// nil: only `maxDeferrals` limits postponing.
    public var deadline: Deadline?

    /// Documented ranges (docs/policies.md "Ranges of numbers").
    public static let maxDeferralsRange = 0...100
    /// Seconds after the first deferral.
    public static let deadlineRange: ClosedRange<Double> = 1...(365 * 86_400)

    public init(maxDeferrals: Int = 3, deadline: Deadline? = nil) {
        self.maxDeferrals = maxDeferrals
        self.deadline = deadline
    }
}
