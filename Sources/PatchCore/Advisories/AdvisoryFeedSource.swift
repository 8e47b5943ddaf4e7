import Foundation

/// One feed to sync: a kind and where to read it, an http(s) URL or a local path (an air-gapped
/// mirror). `--from KIND=URL|PATH`.
public struct AdvisoryFeedSource: Sendable, Equatable, Codable {
    public var kind: AdvisoryFeedKind
    /// The URL as given, or the path made absolute (a feed is identified by kind and location).
    public var location: String

    public init(kind: AdvisoryFeedKind, location: String) {
        self.kind = kind
        self.location = location
    }

    /// Parses `KIND=URL|PATH`; a relative path is resolved against `directory`.
    public init(argument: String, directory: String = FileManager.default.currentDirectoryPath) throws {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
            throw FeedFormatError("'\(argument)' is not KIND=URL|PATH (kinds: \(Self.kindList))")
        }
        let name = String(argument[..<equals])
        let location = String(argument[argument.index(after: equals)...])
        guard let kind = AdvisoryFeedKind(rawValue: name) else { throw FeedFormatError("unknown feed kind '\(name)' (kinds: \(Self.kindList))") }
        guard !location.isEmpty else { throw FeedFormatError("'\(argument)': no URL or path after '='") }
        self.kind = kind
        if Self.isURL(location) {
            guard let url = URL(string: location), url.host?.isEmpty == false else { throw FeedFormatError("'\(location)' is not a valid URL") }
            self.location = location
        } else if location.contains("://") {
            throw FeedFormatError("'\(location)': only http and https URLs, or local paths, are read")
        } else {
            self.location = location.hasPrefix("/") ? location : URL(fileURLWithPath: location, relativeTo: URL(fileURLWithPath: directory, isDirectory: true)).standardizedFileURL.path
        }
    }

    public var isRemote: Bool { Self.isURL(location) }

    static func isURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    static var kindList: String { AdvisoryFeedKind.allCases.map(\.rawValue).joined(separator: ", ") }

    /// The official sources.
    public static let debianTracker = AdvisoryFeedSource(kind: .debianTracker, location: "https://security-tracker.debian.org/tracker/data/json")
    public static let ubuntuOSV = AdvisoryFeedSource(kind: .ubuntu, location: "https://security-metadata.canonical.com/osv/osv-all.tar.xz")
    public static let kev = AdvisoryFeedSource(kind: .kev, location: "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json")
    public static let epss = AdvisoryFeedSource(kind: .epss, location: "https://epss.cyentia.com/epss_scores-current.csv.gz")

    /// What a sync without `--from` fetches for the OSes history has scanned: the tracker for
    /// Debian, Ubuntu's OSV records for Ubuntu, and always KEV (EPSS only when asked).
    public static func defaults(forScannedOSIds ids: Set<String>) -> [AdvisoryFeedSource] {
        var sources: [AdvisoryFeedSource] = []
        if ids.contains("debian") { sources.append(.debianTracker) }
        if ids.contains("ubuntu") { sources.append(.ubuntuOSV) }
        sources.append(.kev)
        return sources
    }
}
