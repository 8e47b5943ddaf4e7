/// The advisory feeds `advisories sync` reads. Raw values are the `--from KIND=…` names and what
/// history stores.
public enum AdvisoryFeedKind: String, Sendable, Codable, CaseIterable {
    /// The Debian Security Tracker JSON: source package → CVE → release → status, fixed version, urgency.
    case debianTracker = "debian-tracker"
    /// Ubuntu's OSV records (USN and UBUNTU-CVE), ecosystem `Ubuntu:22.04:LTS` and similar.
    case ubuntu
    /// Any OSV zip, directory or JSON file (Debian, Ubuntu, Rocky Linux, AlmaLinux, Red Hat, SUSE).
    case osv
    /// CISA's Known Exploited Vulnerabilities catalogue (JSON).
    case kev
    /// FIRST's EPSS scores (CSV, possibly gzipped).
    case epss
}
