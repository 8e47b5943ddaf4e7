import Foundation

/// The one timestamp format patchctl prints and history stores: `2026-11-24T22:18:52.593Z`
/// (UTC, milliseconds; readers also take whole seconds and longer fractions).
public enum Timestamp {
    /// Formatted by hand: a formatter per call cost more than the rest of a host's JSON.
    public static func format(_ date: Date) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        append(date, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `format(date)`'s bytes appended to `bytes` (a report's JSON is built of bytes).
    static func append(_ date: Date, to bytes: inout [UInt8]) {
        // Years 1 to 9999 (ISO 8601's four digits); a date outside (a tampered database, a
        // distant-future sentinel) is clamped instead of trapping in the Int64 conversion.
        // Rounded to the microsecond before the millisecond is cut: `.002` as parsed is a hair
        // below 0.002 and must print back as `.002`, not `.001`.
        let raw = ((date.timeIntervalSince1970 * 1_000_000).rounded() / 1000).rounded(.down)
        let milliseconds = raw.isNaN ? 0 : Int64(min(max(raw, -62_135_596_800_000), 253_402_300_799_999))
        // Floor division: before 1970 the millisecond part still counts up from the second.
        let fraction = Int(((milliseconds % 1000) + 1000) % 1000)
        let seconds = Int((milliseconds - Int64(fraction)) / 1000)
        // The proleptic Gregorian calendar, as gmtime's, by arithmetic: gmtime takes a process-wide
        // lock, and a report's threads format a million dates.
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let time = seconds - days * 86_400
        let civil = CivilDay(daysSinceEpoch: days)
        let (year, month, day) = (civil.year, civil.month, civil.day)
        // Digits written out: `String(format:)` cost most of a report's JSON.
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
        digits(year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(time / 3600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(time / 60 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(time % 60, 2)
        bytes.append(UInt8(ascii: "."))
        digits(fraction, 3)
        bytes.append(UInt8(ascii: "Z"))
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
