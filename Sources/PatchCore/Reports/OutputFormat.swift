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

    /// `2026-11-24T22:18:52.593Z`. Formatted by hand: a formatter per call cost more than the
    /// rest of a host's JSON, and a shared one is not Sendable.
    public static func timestamp(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000))
    }
}
