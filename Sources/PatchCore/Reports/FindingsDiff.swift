import Foundation

/// `patchctl diff`: what changed in pending updates between two scans, per host: new findings,
/// findings gone (installed or superseded), and new candidate versions of still-pending packages.
public struct FindingsDiff: Encodable, Sendable, Equatable {
    public enum Change: String, Encodable, Sendable {
        case changed, unchanged
        /// No successful scan of this host at or before the base run: everything pending is new.
        case new
        /// The target scan did not reach or could not scan the host: nothing to compare.
        case failed
    }

    public struct Item: Encodable, Sendable, Equatable {
        public var package: String
        public var architecture: String?
        public var installedVersion: String
        public var availableVersion: String
        public var security: Bool
        public var source: String

        enum CodingKeys: String, CodingKey {
            case package, architecture
            case installedVersion = "installed_version"
            case availableVersion = "available_version"
            case security, source
        }
    }

    public struct VersionChange: Encodable, Sendable, Equatable {
        public var package: String
        public var architecture: String?
        public var fromVersion: String
        public var toVersion: String
        public var installedVersion: String
        public var security: Bool
        public var source: String

        enum CodingKeys: String, CodingKey {
            case package, architecture
            case fromVersion = "from_version"
            case toVersion = "to_version"
            case installedVersion = "installed_version"
            case security, source
        }
    }

    /// A CVE open on a host in one scan: fixed by pending updates (`fixable`) or open with no fix.
    public struct CVEItem: Encodable, Sendable, Equatable {
        public var id: String
        public var severity: Severity
        public var kev: Bool
        /// The updates that fix it, or the installed packages it is open on.
        public var packages: [String]
        public var fixable: Bool
    }

    public struct HostDiff: Encodable, Sendable, Equatable {
        public var name: String
        public var change: Change
        public var status: HostStatus
        public var error: String?
        /// The host's own scan the comparison starts from (its latest successful one at or before the base run).
        public var baseRun: String?
        public var baseAt: Date?
        public var targetRun: String
        public var targetAt: Date
        public var added: [Item]
        public var removed: [Item]
        public var changed: [VersionChange]
        /// CVEs open in the base scan and not any more (fixed, or the package removed), and CVEs
        /// open now that were not then (a new finding, or the feed learned of it); compared with the
        /// host's latest successful scan run at or before the base (a deployment has no CVE data).
        public var cvesClosed: [CVEItem] = []
        public var cvesNew: [CVEItem] = []

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(change, forKey: .change)
            try c.encode(status, forKey: .status)
            try c.encode(error, forKey: .error)
            try c.encode(baseRun, forKey: .baseRun)
            try c.encode(baseAt, forKey: .baseAt)
            try c.encode(targetRun, forKey: .targetRun)
            try c.encode(targetAt, forKey: .targetAt)
            try c.encode(added, forKey: .added)
            try c.encode(removed, forKey: .removed)
            try c.encode(changed, forKey: .changed)
            try c.encode(cvesClosed, forKey: .cvesClosed)
            try c.encode(cvesNew, forKey: .cvesNew)
        }

        enum CodingKeys: String, CodingKey {
            case name, change, status, error
            case baseRun = "base_run"
            case baseAt = "base_at"
            case targetRun = "target_run"
            case targetAt = "target_at"
            case added, removed, changed
            case cvesClosed = "cves_closed"
            case cvesNew = "cves_new"
        }
    }

    public struct Summary: Encodable, Sendable, Equatable {
        public var hosts: Int
        public var added: Int
        public var addedSecurity: Int
        public var removed: Int
        public var changed: Int
        public var newHosts: Int
        public var failed: Int
        /// CVE-host pairs closed and newly open.
        public var cvesClosed: Int = 0
        public var cvesNew: Int = 0
        public var cvesNewKEV: Int = 0

        enum CodingKeys: String, CodingKey {
            case hosts, added
            case addedSecurity = "added_security"
            case removed, changed
            case newHosts = "new_hosts"
            case failed
            case cvesClosed = "cves_closed"
            case cvesNew = "cves_new"
            case cvesNewKEV = "cves_new_kev"
        }
    }

    public var kind = "diff"
    /// The two runs compared (both finished): ids, start and end times.
    public var baseRun: String
    public var baseAt: Date
    public var baseFinishedAt: Date?
    public var targetRun: String
    public var targetAt: Date
    public var targetFinishedAt: Date?
    public var hosts: [HostDiff]
    public var summary: Summary
    /// Stale or missing advisory feeds: the CVE part may be incomplete.
    public var warnings: [String] = []

    enum CodingKeys: String, CodingKey {
        case kind
        case baseRun = "base_run"
        case baseAt = "base_at"
        case baseFinishedAt = "base_finished_at"
        case targetRun = "target_run"
        case targetAt = "target_at"
        case targetFinishedAt = "target_finished_at"
        case hosts, summary, warnings
    }
}
