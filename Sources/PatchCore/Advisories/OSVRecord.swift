import Foundation

/// The parts of an OSV record (schema 1.x, ossf.github.io/osv-schema) that become advisory
/// ranges; everything else in a record is ignored. Vendor-specific objects are read leniently:
/// a field of an unexpected type there is absent, not an error.
struct OSVRecord: Decodable {
    var id: String
    var summary: String?
    var withdrawn: String?
    var aliases: [String]?
    var upstream: [String]?
    var related: [String]?
    var severity: [OSVSeverity]?
    var affected: [OSVAffected]?
    var databaseSpecific: OSVSpecific?

    enum CodingKeys: String, CodingKey {
        case id, summary, withdrawn, aliases, upstream, related, severity, affected
        case databaseSpecific = "database_specific"
    }
}

struct OSVSeverity: Decodable {
    /// `CVSS_V2`, `CVSS_V3`, `CVSS_V4`, `Ubuntu` (whose score is Ubuntu's priority word).
    var type: String
    var score: String
}

struct OSVAffected: Decodable {
    var package: OSVPackage?
    var ranges: [OSVRange]?
    var versions: [String]?
    var severity: [OSVSeverity]?
    var ecosystemSpecific: OSVSpecific?
    var databaseSpecific: OSVSpecific?

    enum CodingKeys: String, CodingKey {
        case package, ranges, versions, severity
        case ecosystemSpecific = "ecosystem_specific"
        case databaseSpecific = "database_specific"
    }
}

struct OSVPackage: Decodable {
    var ecosystem: String
    var name: String
}

struct OSVRange: Decodable {
    /// `ECOSYSTEM`, `SEMVER` or `GIT`.
    var type: String
    var events: [OSVEvent]
}

struct OSVEvent: Decodable {
    var introduced: String?
    var fixed: String?
    var lastAffected: String?
    var limit: String?

    enum CodingKeys: String, CodingKey {
        case introduced, fixed, limit
        case lastAffected = "last_affected"
    }
}

/// `ecosystem_specific` / `database_specific`: free-form objects; the severity words some
/// vendors put there.
struct OSVSpecific: Decodable {
    var ubuntuPriority: String?
    var severity: String?

    enum CodingKeys: String, CodingKey {
        case ubuntuPriority = "ubuntu_priority"
        case severity
    }

    init(from decoder: any Decoder) throws {
        let container = try? decoder.container(keyedBy: CodingKeys.self)
        ubuntuPriority = try? container?.decodeIfPresent(String.self, forKey: .ubuntuPriority)
        severity = try? container?.decodeIfPresent(String.self, forKey: .severity)
    }
}
