/// Why one feed could not be synced; names the feed (kind and location) so a cron mail says which.
public struct AdvisoryFeedError: Error, CustomStringConvertible, Equatable {
    public var kind: AdvisoryFeedKind
    public var location: String
    public var message: String

    public init(kind: AdvisoryFeedKind, location: String, message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    public var description: String { "advisory feed \(kind.rawValue) (\(location)): \(message)" }
}

/// A feed's content is not what its format says: `offset` is the byte where reading stopped.
public struct FeedFormatError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var offset: Int?

    public init(_ message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    public var description: String { offset.map { "\(message) (at byte \($0))" } ?? message }
}

/// `advisories sync` with at least one feed that failed; the others were synced.
public struct AdvisorySyncError: Error, CustomStringConvertible {
    public var failures: [AdvisoryFeedError]

    public init(failures: [AdvisoryFeedError]) {
        self.failures = failures
    }

    public var description: String {
        failures.map(\.description).joined(separator: "\n")
    }
}
