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

    public init(maxDeferrals: Int = 3, deadline: Deadline? = nil) {
        self.maxDeferrals = maxDeferrals
        self.deadline = deadline
    }
}
