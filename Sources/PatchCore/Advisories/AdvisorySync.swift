import Foundation
import NIOCore

/// `advisories sync`: each feed fetched (or read from its path), parsed and stored, its rows
/// replaced in one transaction. Feeds are independent: one that fails keeps its previous data
/// and its error is recorded on its row; the others still sync.
public struct AdvisorySync: Sendable {
    /// What happened to one feed.
    public struct Result: Sendable, Equatable, Codable {
        public enum Outcome: String, Sendable, Codable {
            /// New data stored.
            case updated
            /// The server answered 304 Not Modified: the stored data is current.
            case unchanged
            /// Nothing changed in history but the error on the feed's row.
            case failed
        }

        public var kind: AdvisoryFeedKind
        public var location: String
        public var outcome: Outcome
        /// Rows the feed holds now.
        public var records: Int
        public var error: String?

        public init(kind: AdvisoryFeedKind, location: String, outcome: Outcome, records: Int, error: String? = nil) {
            self.kind = kind
            self.location = location
            self.outcome = outcome
            self.records = records
            self.error = error
        }

        public var failure: AdvisoryFeedError? {
            error.map { AdvisoryFeedError(kind: kind, location: location, message: $0) }
        }
    }

    /// Progress for a terminal: bytes downloaded, then records stored.
    public enum Event: Sendable {
        case downloading(AdvisoryFeedSource, bytes: Int)
        case storing(AdvisoryFeedSource, records: Int)
        case finished(Result)
    }

    public var limits: FeedLimits
    public var downloader: FeedDownloader

    public init(limits: FeedLimits = .standard, connectTimeout: TimeAmount = .seconds(30), readTimeout: TimeAmount = .seconds(120)) {
        self.limits = limits
        downloader = FeedDownloader(limits: limits, connectTimeout: connectTimeout, readTimeout: readTimeout)
    }

    /// Syncs every source in turn, into `store`; never throws: each feed's failure is in its result.
    public func run(_ sources: [AdvisoryFeedSource], store: HistoryStore, progress: (@Sendable (Event) -> Void)? = nil) async -> [Result] {
        var results: [Result] = []
        for source in sources {
            let result: Result
            do {
                result = try await sync(source, store: store, progress: progress)
            } catch {
                let message = (error as? AdvisoryFeedError)?.message ?? String(describing: error)
                try? store.recordAdvisoryFeedFailure(kind: source.kind, location: source.location, message: message)
                let records = (try? store.advisoryRowCount(kind: source.kind, location: source.location)) ?? 0
                result = Result(kind: source.kind, location: source.location, outcome: .failed, records: records, error: message)
            }
            progress?(.finished(result))
            results.append(result)
        }
        return results
    }

    func sync(_ source: AdvisoryFeedSource, store: HistoryStore, progress: (@Sendable (Event) -> Void)?) async throws -> Result {
        let previous = try store.advisoryFeed(kind: source.kind, location: source.location)
        var file = source.location
        var validators = AdvisoryFeedValidators()
        var temporary: String?
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        if source.isRemote {
            // Validators only from a sync that stored data: a feed that only ever failed has none.
            let stored = previous?.syncedAt == nil ? nil : previous.map { AdvisoryFeedValidators(etag: $0.etag, lastModified: $0.lastModified) }
            let directory = store.localFolder
            let onBytes: (@Sendable (Int) -> Void)? = progress.map { report in { @Sendable bytes in report(.downloading(source, bytes: bytes)) } }
            switch try await downloader.download(source.location, previous: stored, into: directory, progress: onBytes) {
            case .notModified:
                try store.markAdvisoryFeedChecked(kind: source.kind, location: source.location)
                return Result(kind: source.kind, location: source.location, outcome: .unchanged,
                              records: try store.advisoryRowCount(kind: source.kind, location: source.location))
            case let .downloaded(path, received):
                file = path
                temporary = path
                validators = received
            }
        }
        let records = try await save(source, file: file, validators: validators, into: store) { count in progress?(.storing(source, records: count)) }
        return Result(kind: source.kind, location: source.location, outcome: .updated, records: records)
    }

    private func save(_ source: AdvisoryFeedSource, file: String, validators: AdvisoryFeedValidators, into store: HistoryStore,
                       progress: @escaping (Int) -> Void) async throws -> Int {
        switch source.kind {
        case .debianTracker:
            // Streamed: rows go to the prepared insert as they are parsed, in the one transaction.
            return try store.replaceAdvisoryRanges(kind: source.kind, location: source.location, validators: validators, progress: progress) { insert in
                try DebianTrackerFeed.forEach(path: file, limits: limits, insert)
            }
        case .ubuntu, .osv:
            let ranges = try await OSVFeed.read(path: file, kind: source.kind, limits: limits)
            return try store.replaceAdvisoryRanges(kind: source.kind, location: source.location, validators: validators, progress: progress) { insert in
                for range in ranges { try insert(range) }
            }
        case .kev:
            let entries = try KEVFeed.read(path: file, limits: limits)
            return try store.replaceKEV(kind: source.kind, location: source.location, validators: validators, entries: entries)
        case .epss:
            let scores = try EPSSFeed.read(path: file, limits: limits)
            return try store.replaceEPSS(kind: source.kind, location: source.location, validators: validators, scores: scores)
        }
    }
}
