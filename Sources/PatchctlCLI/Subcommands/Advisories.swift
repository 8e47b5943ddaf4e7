import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Advisories: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Advisory feeds (Debian tracker, Ubuntu/OSV, CISA KEV, FIRST EPSS) in the history database.",
            subcommands: [Sync.self, Status.self])

        /// Documented range of `--max-age` (days).
        static let maxAgeRange = 0...3650
    }
}

extension Patchctl.Advisories {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download or read advisory feeds into history.",
            discussion: """
                Without --from: the official sources for the OS families history has scanned (debian-tracker for Debian, \
                ubuntu for Ubuntu) and kev. A feed that fails keeps its previous data; the command then exits 2.
                """)

        @OptionGroup var outputOptions: OutputOptions

        @Option(name: .customLong("from"), help: ArgumentHelp("A feed: debian-tracker, ubuntu, osv, kev or epss, from an http(s) URL or a local path (repeatable).",
                                                              valueName: "KIND=URL|PATH"))
        var from: [String] = []

        @Option(help: "Warn about feeds whose data is older than this many days.")
        var maxAge: Int = 7

        @Option(help: ArgumentHelp("Largest feed accepted, in MiB (downloaded or decompressed).", valueName: "MiB"))
        var maxSize: Int = 200

        func validate() throws {
            try ConnectionFlags.check(maxAge, in: Patchctl.Advisories.maxAgeRange, flag: "--max-age")
            try ConnectionFlags.check(maxSize, in: 1...16_384, flag: "--max-size")
            for argument in from {
                do { _ = try AdvisoryFeedSource(argument: argument) } catch { throw ValidationError("--from \(error)") }
            }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
            let sources = try from.isEmpty ? AdvisoryFeedSource.defaults(forScannedOSIds: store.scannedOSIds())
                                           : from.map { try AdvisoryFeedSource(argument: $0) }
            var limits = FeedLimits.standard
            limits.maxBytes = maxSize << 20
            limits.maxDecompressedBytes = max(limits.maxBytes, limits.maxDecompressedBytes)
            let progress = FeedProgress(enabled: Terminal.stderrIsTerminal)
            let results = await AdvisorySync(limits: limits).run(sources, store: store, progress: progress.report)
            progress.clear()
            try Output.print(list: results, as: outputOptions.output) { FeedTable.sync(results) }
            FeedTable.warnStale(try store.advisoryFeeds(), maxAge: maxAge)
            let failures = results.compactMap(\.failure)
            if !failures.isEmpty { throw AdvisorySyncError(failures: failures) }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each feed's source, age, record count and last error.")

        @OptionGroup var outputOptions: OutputOptions

        @Option(help: "A feed whose data is older than this many days is STALE.")
        var maxAge: Int = 7

        func validate() throws {
            try ConnectionFlags.check(maxAge, in: Patchctl.Advisories.maxAgeRange, flag: "--max-age")
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let store = try await HistoryStore.open(reading: outputOptions.databasePath(environment: environment), environment: environment)
            let now = Date()
            let feeds = try store.advisoryFeeds().map { FeedReport($0, now: now, maxAge: TimeInterval(maxAge) * 86_400) }
            try Output.print(list: feeds, as: outputOptions.output) { feeds.isEmpty ? "no advisory feeds synced yet\n" : FeedTable.status(feeds) }
            FeedTable.warnStale(try store.advisoryFeeds(), maxAge: maxAge)
        }
    }
}

/// One feed as `advisories status` prints it.
struct FeedReport: Encodable {
    var feed: AdvisoryFeedStatus
    /// Seconds since its data was last confirmed current (synced or answered 304); nil if never.
    var ageSeconds: Int?
    var stale: Bool

    init(_ feed: AdvisoryFeedStatus, now: Date, maxAge: TimeInterval) {
        self.feed = feed
        ageSeconds = feed.syncedAt == nil ? nil : (feed.checkedAt ?? feed.syncedAt).map { max(0, Int(now.timeIntervalSince($0))) }
        stale = feed.isStale(at: now, maxAge: maxAge)
    }

    enum CodingKeys: String, CodingKey {
        case ageSeconds = "age_seconds"
        case stale
    }

    func encode(to encoder: any Encoder) throws {
        try feed.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ageSeconds, forKey: .ageSeconds)
        try container.encode(stale, forKey: .stale)
    }
}

enum FeedTable {
    static func sync(_ results: [AdvisorySync.Result]) -> String {
        table(["KIND", "LOCATION", "RESULT", "RECORDS", "ERROR"], results.map {
            [$0.kind.rawValue, $0.location, $0.outcome.rawValue, String($0.records), $0.error ?? ""]
        })
    }

    static func status(_ feeds: [FeedReport]) -> String {
        table(["KIND", "LOCATION", "AGE", "RECORDS", "STATE", "LAST ERROR"], feeds.map { report in
            [report.feed.kind.rawValue, report.feed.location, report.ageSeconds.map(age) ?? "never", String(report.feed.recordCount),
             report.stale ? "STALE" : "ok", report.feed.lastError ?? ""]
        })
    }

    static func age(_ seconds: Int) -> String {
        switch seconds {
        case ..<120: "\(seconds)s"
        case ..<7200: "\(seconds / 60)m"
        case ..<172_800: "\(seconds / 3600)h"
        default: "\(seconds / 86_400)d"
        }
    }

    /// One `warning:` line on stderr per stale feed (cron mails it; JSON on stdout stays clean).
    static func warnStale(_ feeds: [AdvisoryFeedStatus], maxAge days: Int) {
        let now = Date()
        for feed in feeds where feed.isStale(at: now, maxAge: TimeInterval(days) * 86_400) {
            let when = feed.syncedAt == nil ? "never synced" : "data older than \(days) days"
            Terminal.writeErrorLine("warning: advisory feed \(feed.kind.rawValue) (\(feed.location)) is stale: \(when)")
        }
    }

    private static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows.map { $0.map { $0.replacingOccurrences(of: "\n", with: " ") } }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}

/// Bytes downloaded and records stored, on one self-erasing stderr line, only on a terminal.
final class FeedProgress: @unchecked Sendable {
    private let enabled: Bool
    private let lock = NSLock()
    private var lastShown = Date.distantPast

    init(enabled: Bool) {
        self.enabled = enabled
    }

    var report: (@Sendable (AdvisorySync.Event) -> Void)? {
        guard enabled else { return nil }
        return { [self] event in show(event) }
    }

    private func show(_ event: AdvisorySync.Event) {
        let text: String
        switch event {
        case let .downloading(source, bytes): text = "\(source.kind.rawValue): \(bytes >> 20) MiB downloaded"
        case let .storing(source, records): text = "\(source.kind.rawValue): \(records) records stored"
        case let .finished(result): text = "\(result.kind.rawValue): \(result.outcome.rawValue)"
        }
        lock.lock()
        defer { lock.unlock() }
        // At most ten redraws a second.
        let now = Date()
        if case .finished = event {} else if now.timeIntervalSince(lastShown) < 0.1 { return }
        lastShown = now
        Terminal.writeControl("\r\u{1B}[K" + TerminalText.neutralised(text))
    }

    func clear() {
        if enabled { Terminal.writeControl("\r\u{1B}[K") }
    }
}
