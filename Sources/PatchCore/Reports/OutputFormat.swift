import Foundation

/// How results are printed: a table for people, JSON for programs, NDJSON for pipelines
/// that want each host the moment it finishes.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, ndjson
}

public enum JSONOutput {
    /// Stable, diff-friendly JSON with ISO 8601 UTC timestamps.
    public static func encoder(pretty: Bool) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// Throws when a value has no JSON form (a NaN or infinite number).
    public static func encode<T: Encodable>(_ value: T, pretty: Bool) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }

    /// Parses `timestamp(_:)`'s format (milliseconds optional).
    public static func parseTimestamp(_ text: String) -> Date? { Timestamp.parse(text) }

    /// `2026-11-24T22:18:52.593Z`.
    public static func timestamp(_ date: Date) -> String { Timestamp.format(date) }
}
