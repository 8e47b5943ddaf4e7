/// Bounds on what one feed may cost to read, so that a hostile or broken mirror cannot exhaust
/// memory or time: the downloaded file, what it decompresses to, the records it holds and how deeply
/// its JSON nests.
public struct FeedLimits: Sendable {
    /// The file as read from disk or the network (a .zip, .tar.xz, .json.gz or one .json record file).
    public var maxBytes: Int
    /// Everything decompressed from it together (gzip, xz, zip entries): beyond it, a bomb.
    public var maxDecompressedBytes: Int
    /// Records (OSV vulnerabilities, tracker entries, KEV or EPSS rows) in one feed.
    public var maxRecords: Int
    /// JSON nesting depth of any one document.
    public var maxDepth: Int

    public init(maxBytes: Int, maxDecompressedBytes: Int, maxRecords: Int, maxDepth: Int) {
        self.maxBytes = maxBytes
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxRecords = maxRecords
        self.maxDepth = maxDepth
    }

    /// Sized for the real feeds with room to grow: Ubuntu's osv-all.tar.xz (~50 MB, a few GB
    /// unpacked), Debian's OSV all.zip and tracker JSON (tens of MB), EPSS (~300 000 rows).
    public static let standard = FeedLimits(maxBytes: 512 << 20, maxDecompressedBytes: 8 << 30,
                                            maxRecords: 2_000_000, maxDepth: 64)
}
