import Foundation

/// What every report that shows advisory data (CVEs, normalised severities, KEV) warns about: a feed
/// not confirmed current for `AdvisoryFeedStatus.defaultMaxAge`, or no package feed at all while
/// Debian-family hosts (whose apt metadata carries no CVEs or severity) are scanned.
/// Tables print them on stderr; JSON carries them as `warnings`.
public enum AdvisoryWarnings {
    /// The feeds that give Debian and Ubuntu findings their CVEs (KEV and EPSS only annotate them).
    static let packageFeeds: Set<AdvisoryFeedKind> = [.debianTracker, .ubuntu, .osv]

    public static func current(store: HistoryStore, at now: Date) throws -> [String] {
        try warnings(feeds: store.advisoryFeeds(), families: store.latestScannedFamilies(), at: now)
    }

    static func warnings(feeds: [AdvisoryFeedStatus], families: Set<OSFamily>, at now: Date) -> [String] {
        var warnings: [String] = []
        for feed in feeds where feed.isStale(at: now) {
            guard let confirmed = feed.checkedAt ?? feed.syncedAt, feed.syncedAt != nil else {
                warnings.append("advisory feed \(feed.kind.rawValue) (\(feed.location)) has never synced"
                    + (feed.lastError.map { ": \($0)" } ?? "") + "; run `patchctl advisories sync`")
                continue
            }
            let days = Int(now.timeIntervalSince(confirmed) / 86_400)
            warnings.append("advisory feed \(feed.kind.rawValue) (\(feed.location)) is stale: last confirmed current \(days) days ago"
                + " (\(JSONOutput.timestamp(confirmed)))" + (feed.lastError.map { ", last error: \($0)" } ?? "")
                + "; run `patchctl advisories sync`")
        }
        let synced = feeds.contains { packageFeeds.contains($0.kind) && $0.syncedAt != nil }
        if !synced, families.contains(.debian) {
            warnings.append("no advisory feed (debian-tracker, ubuntu or osv) is synced, yet Debian/Ubuntu hosts are scanned:"
                + " their updates carry no CVEs or severity; run `patchctl advisories sync`")
        }
        return warnings
    }
}
