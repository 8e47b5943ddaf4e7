import Foundation

/// The one timestamp format patchctl prints and history stores: `2026-11-24T22:18:52.593Z`
/// (UTC, milliseconds; readers also take whole seconds and longer fractions).
public enum Timestamp {
    /// Formatted by hand: a formatter per call cost more than the rest of a host's JSON.
    public static func format(_ date: Date) -> String {
        // Years 1 to 9999 (ISO 8601's four digits); a date outside (a tampered database, a
        // distant-future sentinel) is clamped instead of trapping in the Int64 conversion.
        // Rounded to the microsecond before the millisecond is cut: `.002` as parsed is a hair
        // below 0.002 and must print back as `.002`, not `.001`.
        let raw = ((date.timeIntervalSince1970 * 1_000_000).rounded() / 1000).rounded(.down)
        let milliseconds = raw.isNaN ? 0 : Int64(min(max(raw, -62_135_596_800_000), 253_402_300_799_999))
        // Floor division: before 1970 the millisecond part still counts up from the second.
        let fraction = ((milliseconds % 1000) + 1000) % 1000
        var seconds = time_t((milliseconds - fraction) / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Digits written out: `String(format:)` cost most of a report's JSON.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(Int(parts.tm_year) + 1900, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mon) + 1, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(Int(parts.tm_mday), 2)
        bytes.append(UInt8(ascii: "T"))
        digits(Int(parts.tm_hour), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_min), 2)
        bytes.append(UInt8(ascii: ":"))
        digits(Int(parts.tm_sec), 2)
        bytes.append(UInt8(ascii: "."))
        digits(Int(fraction), 3)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    private static let style = Date.ISO8601FormatStyle()

    /// Parses `format(_:)`'s output. A date that does not exist (month 13, 31 February, hour 24)
    /// is nil: Foundation's ISO 8601 style rolls those over, so the parsed date must format back
    /// to the same fields.
    public static func parse(_ text: String) -> Date? {
        let utf8 = text.utf8
        guard utf8.count >= 20, utf8.count <= 40, text.hasSuffix("Z") else { return nil }
        let whole = String(text.prefix(19))
        var fraction = 0.0
        if utf8.count > 20 {
            // The fraction is added as today's digits say: the style's own reading of `.593`
            // lands a hair below it, and the millisecond printed back would be `.592`.
            let digits = text.dropFirst(20).dropLast()
            guard text.dropFirst(19).first == ".", !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber),
                  let value = Double("0." + digits) else { return nil }
            fraction = value
        }
        guard let date = try? style.parse(whole + "Z"), style.format(date).prefix(19) == whole else { return nil }
        return date.addingTimeInterval(fraction)
    }
}
