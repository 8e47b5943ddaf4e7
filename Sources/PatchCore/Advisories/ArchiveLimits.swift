/// Bounds an archive reader enforces while it reads (zip, tar): the archive file itself, how many
/// entries it may list, how large one entry and all of them together may decompress to.
public struct ArchiveLimits: Sendable, Equatable {
    public var maxArchiveBytes: Int
    /// Every entry counts: files, directories, links, tar's pax and long-name headers.
    public var maxEntries: Int
    public var maxEntryBytes: Int
    public var maxTotalBytes: Int

    public init(maxArchiveBytes: Int, maxEntries: Int, maxEntryBytes: Int, maxTotalBytes: Int) {
        self.maxArchiveBytes = maxArchiveBytes
        self.maxEntries = maxEntries
        self.maxEntryBytes = maxEntryBytes
        self.maxTotalBytes = maxTotalBytes
    }

    /// A feed's bounds as an archive's: one record file may be as large as a whole feed file, and
    /// entries are records plus the directories and other files around them.
    public init(_ limits: FeedLimits) {
        self.init(maxArchiveBytes: limits.maxBytes, maxEntries: limits.maxRecords.multipliedReportingOverflow(by: 2).partialValue + 1024,
                  maxEntryBytes: min(limits.maxBytes, limits.maxDecompressedBytes), maxTotalBytes: limits.maxDecompressedBytes)
    }
}
