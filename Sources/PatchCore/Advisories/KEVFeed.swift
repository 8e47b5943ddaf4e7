import Foundation

/// CISA's Known Exploited Vulnerabilities catalogue (JSON, ~1.5 MB):
/// `{"vulnerabilities": [{cveID, vendorProject, product, vulnerabilityName, dateAdded, dueDate,
/// knownRansomwareCampaignUse, …}]}`.
public enum KEVFeed {
    public static func read(path: String, limits: FeedLimits = .standard) throws -> [KEVEntry] {
        try parse(FeedFile.contents(path, limit: limits.maxBytes), limits: limits)
    }

    public static func parse(_ data: Data, limits: FeedLimits = .standard) throws -> [KEVEntry] {
        guard data.count <= limits.maxBytes else { throw FeedFormatError("document is \(data.count) bytes, over the limit of \(limits.maxBytes)") }
        // Syntax and depth checked by our bounded reader before Foundation builds anything.
        let reader = JSONStreamReader(bytes: [UInt8](data), maxDepth: limits.maxDepth)
        try reader.skipValue()
        try reader.finish()
        let catalogue: Catalogue
        do {
            catalogue = try JSONDecoder().decode(Catalogue.self, from: data)
        } catch let error as DecodingError {
            throw FeedFormatError("not a KEV catalogue: \(describe(error))")
        }
        guard catalogue.vulnerabilities.count <= limits.maxRecords else { throw FeedFormatError("more than \(limits.maxRecords) records") }
        return try catalogue.vulnerabilities.enumerated().map { index, entry in
            let cve = entry.cveID.trimmingCharacters(in: .whitespaces)
            guard cve.hasPrefix("CVE-"), cve.count <= 64 else { throw FeedFormatError("vulnerabilities[\(index)]: cveID '\(entry.cveID)' is not a CVE id") }
            return KEVEntry(cve: cve, vendor: entry.vendorProject, product: entry.product, name: entry.vulnerabilityName,
                            dateAdded: entry.dateAdded, dueDate: entry.dueDate, ransomware: entry.knownRansomwareCampaignUse)
        }
    }

    private struct Catalogue: Decodable {
        var vulnerabilities: [Entry]
    }

    private struct Entry: Decodable {
        var cveID: String
        var vendorProject: String
        var product: String
        var vulnerabilityName: String
        var dateAdded: String
        var dueDate: String?
        var knownRansomwareCampaignUse: String?
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, context): return "missing '\(key.stringValue)' at \(path(context))"
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            return "\(context.debugDescription) at \(path(context))"
        @unknown default: return String(describing: error)
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
    }
}
