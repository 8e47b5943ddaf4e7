/// Bounds on what one feed may cost to read, so that a hostile or broken mirror cannot exhaust
/// memory or time: the downloaded file, what it decompresses to, the records it holds and how deeply
/// its JSON nests. Shared by every feed reader.
public struct FeedLimits: Sendable, Equatable {
    /// The file as read from disk or the network (a .zip, .tar.xz, .json.gz or one .json file;
    /// the real Debian tracker JSON is about 70 MB).
    public var maxBytes: Int
    /// Everything decompressed from it together (HTTP Content-Encoding, gzip, xz, zip entries): beyond it, a bomb.
    public var maxDecompressedBytes: Int
    /// Records (OSV vulnerabilities, tracker rows, KEV or EPSS rows) in one feed.
    public var maxRecords: Int
    /// JSON nesting depth of any one document.
    public var maxDepth: Int

    /// The defaults are sized for the real feeds with room to grow: Ubuntu's osv-all.tar.xz (~50 MB,
    /// a few GB unpacked), Debian's OSV all.zip and tracker JSON (tens of MB), EPSS (~300 000 rows).
    public init(maxBytes: Int = 512 << 20, maxDecompressedBytes: Int = 8 << 30, maxRecords: Int = 20_000_000, maxDepth: Int = 64) {
        self.maxBytes = maxBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxRecords = maxRecords
        self.maxDepth = maxDepth
    }

    public static let standard = FeedLimits()
}
