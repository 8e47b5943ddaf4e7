/// A feed file (or an archive member of it) that could not be read: which one, why, and what kind
/// of failure, so callers can tell a bomb from a truncated download.
public struct FeedReadError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Reason: String, Sendable {
        /// Larger than a `FeedLimits` bound allows (file, decompressed size, records, entries).
        case tooLarge = "too large"
        /// The data ends before its format says it should.
        case truncated
        /// Damaged data: bad checksum, invalid compressed stream, malformed header.
        case corrupt
        /// Valid but not something patchctl reads (zip encryption, a compression method, a CVSS version).
        case unsupported
        /// A record that is not what its format says (JSON that is not an OSV record, too deep...).
        case malformed
        /// The file cannot be opened or read, or a helper program failed.
        case io = "read error"
    }

    /// The file, with `:member` appended when the problem is inside an archive.
    public var source: String
    public var reason: Reason
    public var message: String

    public init(source: String, reason: Reason, message: String) {
        self.source = source
        self.reason = reason
        self.message = message
    }

    public var description: String { "\(source): \(reason.rawValue): \(message)" }
}
