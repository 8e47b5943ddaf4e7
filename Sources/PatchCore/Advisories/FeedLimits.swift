/// Bounds on one feed's input, shared by every feed reader: a feed is a file from the network or a
/// mirror, so its size, its decompressed size, its record count and its nesting depth are capped.
public struct FeedLimits: Sendable, Equatable {
    /// The file as downloaded or read (the real Debian tracker JSON is about 70 MB).
    public var maxBytes: Int
    /// After decompression (HTTP Content-Encoding, .gz, archives): a gzip bomb is an error.
    public var maxDecompressedBytes: Int
    /// Rows one feed may store.
    public var maxRecords: Int
    /// JSON nesting depth.
    public var maxDepth: Int

    public init(maxBytes: Int = 200 << 20, maxDecompressedBytes: Int = 1 << 30, maxRecords: Int = 20_000_000, maxDepth: Int = 64) {
        self.maxBytes = maxBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxRecords = maxRecords
        self.maxDepth = maxDepth
    }

    public static let `default` = FeedLimits()
}
