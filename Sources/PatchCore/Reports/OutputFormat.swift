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

    public static func encode<T: Encodable>(_ value: T, pretty: Bool) -> String {
        // Our records contain only strings, numbers, bools and dates: encoding cannot fail.
        guard let data = try? encoder(pretty: pretty).encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
