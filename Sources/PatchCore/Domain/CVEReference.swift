import Foundation

/// One CVE a pending update fixes: the feed's word for it, mapped onto patchctl's scale.
/// JSON: `{id, severity, vendor_severity, cvss, kev, epss, fixed_version, source}`; `source` is
/// the feed that said so (`debian-tracker`, `ubuntu`, `osv`, `updateinfo`, `msrc`).
public struct CVEReference: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var severity: Severity
    /// The vendor's own word (Debian urgency, Ubuntu priority, RHEL/SUSE/MSRC severity), as written.
    public var vendorSeverity: String?
    /// CVSS base score, where the feed has one.
    public var cvss: Double?
    /// On CISA's Known Exploited Vulnerabilities catalogue.
    public var kev: Bool
    /// FIRST EPSS probability (0-1), where synced.
    public var epss: Double?
    /// The first version that fixes it, where the feed names one (the source package's version on Debian and Ubuntu).
    public var fixedVersion: String?
    public var source: String

    public init(id: String, severity: Severity, vendorSeverity: String? = nil, cvss: Double? = nil, kev: Bool = false,
                epss: Double? = nil, fixedVersion: String? = nil, source: String) {
        self.id = id
        self.severity = severity
        self.vendorSeverity = vendorSeverity
        self.cvss = cvss
        self.kev = kev
        self.epss = epss
        self.fixedVersion = fixedVersion
        self.source = source
    }

    /// `CVE-YYYY-NNNN…` (four or more digits), the only form an id from an endpoint or a feed is
    /// kept in; anything else (TEMP- ids, free text) is not a CVE.
    public static func isCVEIdentifier(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 3 && parts[0] == "CVE" && parts[1].count == 4 && parts[2].count >= 4 && parts[2].count <= 12
            && (parts[1] + parts[2]).allSatisfy { $0 >= "0" && $0 <= "9" }
    }

    // Written by hand so absent values print as null: consumers can rely on every key existing.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(severity, forKey: .severity)
        try container.encode(vendorSeverity, forKey: .vendorSeverity)
        try container.encode(cvss, forKey: .cvss)
        try container.encode(kev, forKey: .kev)
        try container.encode(epss, forKey: .epss)
        try container.encode(fixedVersion, forKey: .fixedVersion)
        try container.encode(source, forKey: .source)
    }

    enum CodingKeys: String, CodingKey {
        case id, severity
        case vendorSeverity = "vendor_severity"
        case cvss, kev, epss
        case fixedVersion = "fixed_version"
        case source
    }
}

/// A CVE open on an installed package with no fix this host can install: the feed marks it open
/// (or undetermined), or the fixing version is not offered by the host's repositories.
/// One entry per CVE and source package; `package` is an installed binary package built from it
/// (the first by name), `packages` all of them.
public struct UnfixedCVE: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var package: String
    public var packages: [String]
    /// The source package the feed keys it by (the binary's own name where the platform has no source packages).
    public var source: String
    public var severity: Severity
    public var vendorSeverity: String?
    public var cvss: Double?
    public var kev: Bool
    /// Where a fix exists but the host is not offered it, its version; nil while the CVE is open.
    public var fixedVersion: String?
    /// The feed that said so.
    public var feed: String

    public init(id: String, package: String, packages: [String], source: String, severity: Severity, vendorSeverity: String? = nil,
                cvss: Double? = nil, kev: Bool = false, fixedVersion: String? = nil, feed: String) {
        self.id = id
        self.package = package
        self.packages = packages
        self.source = source
        self.severity = severity
        self.vendorSeverity = vendorSeverity
        self.cvss = cvss
        self.kev = kev
        self.fixedVersion = fixedVersion
        self.feed = feed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(package, forKey: .package)
        try container.encode(packages, forKey: .packages)
        try container.encode(source, forKey: .source)
        try container.encode(severity, forKey: .severity)
        try container.encode(vendorSeverity, forKey: .vendorSeverity)
        try container.encode(cvss, forKey: .cvss)
        try container.encode(kev, forKey: .kev)
        try container.encode(fixedVersion, forKey: .fixedVersion)
        try container.encode(feed, forKey: .feed)
    }

    enum CodingKeys: String, CodingKey {
        case id, package, packages, source, severity
        case vendorSeverity = "vendor_severity"
        case cvss, kev
        case fixedVersion = "fixed_version"
        case feed
    }
}

/// One installed binary package and the source package it was built from, as the scan read them
/// (dpkg's `${source:Package}`/`${source:Version}`; on RPM platforms the source RPM where read).
/// Used to match feeds keyed by source package; not stored in history.
public struct InstalledBinary: Sendable, Equatable, Hashable {
    public var name: String
    public var architecture: String?
    public var version: String
    public var sourceName: String
    public var sourceVersion: String

    public init(name: String, architecture: String? = nil, version: String, sourceName: String, sourceVersion: String) {
        self.name = name
        self.architecture = architecture
        self.version = version
        self.sourceName = sourceName
        self.sourceVersion = sourceVersion
    }
}
