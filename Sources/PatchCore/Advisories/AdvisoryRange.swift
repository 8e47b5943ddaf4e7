import Foundation

/// One vulnerability's affected range for one package in one ecosystem, as every range feed is
/// stored: affected when `introduced` ≤ installed < `fixed` in the ecosystem's version order
/// (`introduced` "0" is from the start; `fixed` nil: no fix yet, open or undetermined).
/// Feeds that key by source package (Debian tracker, Debian and Ubuntu OSV) name the source package.
public struct AdvisoryRange: Sendable, Equatable, Hashable, Codable {
    /// `CVE-…` where the feed has one (TEMP- ids are never stored); otherwise the feed's own id.
    public var vulnerability: String
    /// Normalised with `Ecosystem.normalize` (e.g. `Debian:12`, `Ubuntu:22.04`, `Rocky Linux:9`).
    public var ecosystem: String
    public var package: String
    public var introduced: String
    public var fixed: String?
    /// The vendor's word (Debian urgency, Ubuntu priority, …), as the feed writes it.
    public var vendorSeverity: String?
    /// `vendorSeverity` mapped, else the CVSS score's rating, else `unknown`.
    public var severity: Severity
    public var cvss: Double?
    /// The advisory that carries the fix where the feed names one (`DSA-5678-1`, `USN-6543-1`).
    public var advisory: String?

    public init(vulnerability: String, ecosystem: String, package: String, introduced: String = "0", fixed: String?,
                vendorSeverity: String? = nil, severity: Severity? = nil, cvss: Double? = nil, advisory: String? = nil) {
        self.vulnerability = vulnerability
        self.ecosystem = ecosystem
        self.package = package
        self.introduced = introduced
        self.fixed = fixed
        self.vendorSeverity = vendorSeverity
        self.severity = severity ?? vendorSeverity.flatMap(Severity.init(text:)) ?? cvss.map(Severity.init(cvss:)) ?? .unknown
        self.cvss = cvss
        self.advisory = advisory
    }
}

/// One entry of CISA's Known Exploited Vulnerabilities catalogue.
public struct KEVEntry: Sendable, Equatable, Codable {
    public var cve: String
    public var vendor: String
    public var product: String
    public var name: String
    public var dateAdded: String
    public var dueDate: String?
    /// `Known` when used in ransomware campaigns, as CISA writes it.
    public var ransomware: String?

    public init(cve: String, vendor: String, product: String, name: String, dateAdded: String, dueDate: String? = nil, ransomware: String? = nil) {
        self.cve = cve
        self.vendor = vendor
        self.product = product
        self.name = name
        self.dateAdded = dateAdded
        self.dueDate = dueDate
        self.ransomware = ransomware
    }
}

/// One CVE's FIRST EPSS score.
public struct EPSSScore: Sendable, Equatable, Codable {
    public var cve: String
    public var score: Double
    public var percentile: Double

    public init(cve: String, score: Double, percentile: Double) {
        self.cve = cve
        self.score = score
        self.percentile = percentile
    }
}
