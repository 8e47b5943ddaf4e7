import Foundation

/// `patchctl report cves`: the fleet pivoted by CVE over each host's latest successful scan:
/// how severe, whether exploited (KEV), which hosts still have it, what fixes it where, and since when.
public struct CVEReport: Encodable, Sendable, Equatable {
    /// What the operator asked to see.
    public struct Filter: Sendable, Equatable {
        public var minSeverity: Severity?
        public var kevOnly: Bool
        /// A host glob (`web*`, `db[12]`), as the policy's and inventory's globs.
        public var host: String?
        /// Upper-case CVE ids: "which hosts still have CVE-X".
        public var cves: [String]
        /// At most this many CVEs, the most urgent first.
        public var limit: Int?

        public init(minSeverity: Severity? = nil, kevOnly: Bool = false, host: String? = nil, cves: [String] = [], limit: Int? = nil) {
            self.minSeverity = minSeverity
            self.kevOnly = kevOnly
            self.host = host
            self.cves = cves
            self.limit = limit
        }
    }

    /// One host that still has the CVE.
    public struct Exposure: Encodable, Sendable, Equatable {
        public var host: String
        /// Pending updates that fix it on this host, or (unfixed) the installed packages it is open on.
        public var packages: [String]
        public var installedVersion: String?
        /// The version that fixes it: the candidate offered to this host, else the feed's fixed version.
        public var fixedVersion: String?
        /// False: no fix this host can install ("no fix").
        public var fixable: Bool
        public var severity: Severity
        public var vendorSeverity: String?
        public var firstSeen: Date
        public var firstRun: String
        public var scanRun: String
        public var scannedAt: Date

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(host, forKey: .host)
            try c.encode(packages, forKey: .packages)
            try c.encode(installedVersion, forKey: .installedVersion)
            try c.encode(fixedVersion, forKey: .fixedVersion)
            try c.encode(fixable, forKey: .fixable)
            try c.encode(severity, forKey: .severity)
            try c.encode(vendorSeverity, forKey: .vendorSeverity)
            try c.encode(firstSeen, forKey: .firstSeen)
            try c.encode(firstRun, forKey: .firstRun)
            try c.encode(scanRun, forKey: .scanRun)
            try c.encode(scannedAt, forKey: .scannedAt)
        }

        enum CodingKeys: String, CodingKey {
            case host, packages
            case installedVersion = "installed_version"
            case fixedVersion = "fixed_version"
            case fixable, severity
            case vendorSeverity = "vendor_severity"
            case firstSeen = "first_seen"
            case firstRun = "first_run"
            case scanRun = "scan_run"
            case scannedAt = "scanned_at"
        }
    }

    /// A package and version that fixes the CVE somewhere in the fleet.
    public struct Fix: Encodable, Sendable, Equatable, Hashable {
        public var package: String
        public var version: String?
    }

    public struct Entry: Encodable, Sendable, Equatable {
        public var id: String
        /// The highest any host's feed gave it, and the feeds' own words (Debian urgency, Ubuntu priority...).
        public var severity: Severity
        public var vendorSeverities: [String]
        public var cvss: Double?
        public var kev: Bool
        public var hostCount: Int
        public var hosts: [Exposure]
        public var fixes: [Fix]
        /// Hosts with no installable fix.
        public var unfixedHosts: Int
        public var firstSeen: Date

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(severity, forKey: .severity)
            try c.encode(vendorSeverities, forKey: .vendorSeverities)
            try c.encode(cvss, forKey: .cvss)
            try c.encode(kev, forKey: .kev)
            try c.encode(hostCount, forKey: .hostCount)
            try c.encode(unfixedHosts, forKey: .unfixedHosts)
            try c.encode(fixes, forKey: .fixes)
            try c.encode(firstSeen, forKey: .firstSeen)
            try c.encode(hosts, forKey: .hosts)
        }

        enum CodingKeys: String, CodingKey {
            case id, severity
            case vendorSeverities = "vendor_severities"
            case cvss, kev
            case hostCount = "host_count"
            case unfixedHosts = "unfixed_hosts"
            case fixes
            case firstSeen = "first_seen"
            case hosts
        }
    }

    public struct Summary: Encodable, Sendable, Equatable {
        public var cves: Int
        public var kev: Int
        /// Hosts with at least one of the CVEs shown.
        public var hosts: Int
        public var unfixed: Int
        /// CVEs per severity name (critical... unknown), every name present.
        public var bySeverity: [String: Int]
        /// CVEs left out by --limit.
        public var omitted: Int

        enum CodingKeys: String, CodingKey {
            case cves, kev, hosts, unfixed
            case bySeverity = "by_severity"
            case omitted
        }
    }

    public var kind = "cves"
    public var generatedAt: Date
    public var database: String
    /// Stale or missing advisory feeds: the data below may be incomplete.
    public var warnings: [String]
    public var cves: [Entry]
    public var summary: Summary

    enum CodingKeys: String, CodingKey {
        case kind
        case generatedAt = "generated_at"
        case database, warnings, cves, summary
    }
}
