import Foundation

/// Durations written in policies: `90s`, `30m`, `24h`, `2d`, `1w`, combinations such as `1h30m`
/// (parts in any order, each unit once), or a bare number of seconds. Named so as not to clash
/// with `Swift.Duration`.
public enum PolicyDuration {
    static let unitSeconds: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// No duration anywhere in patchctl is longer (10 years): with it every sum of durations and
    /// dates stays far inside what Date, Int and nanosecond counts hold.
    public static let maximum: Double = 3650 * 86_400

    /// Checked seconds-to-nanoseconds for sleeping: NaN and negatives are 0, anything longer
    /// than `maximum` is `maximum` (never a trap in UInt64(_:)).
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard !seconds.isNaN, seconds > 0 else { return 0 }
        return UInt64(min(seconds, maximum) * 1_000_000_000)
    }

    /// Seconds, or nil for anything else (negative values, unknown units, empty text, more
    /// than `maximum`).
    public static func parse(_ text: String) -> Double? {
        guard let seconds = unbounded(text), seconds <= maximum else { return nil }
        return seconds
    }

    /// Written like a duration, whatever its size: "999999999w" is a duration out of range,
    /// not gibberish.
    public static func isWellFormed(_ text: String) -> Bool {
        unbounded(text) != nil
    }

    /// Seconds as written, possibly infinite when the digits are absurdly many.
    private static func unbounded(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return nil }
        if trimmed.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            return number(trimmed)
        }
        var total = 0.0
        var digits = ""
        var seen = Set<Character>()
        for character in trimmed {
            if character.isASCII, character.isNumber || character == "." {
                digits.append(character)
            } else if let unit = unitSeconds[character] {
                guard let value = number(digits), seen.insert(character).inserted else { return nil }
                total += value * unit
                digits = ""
            } else if character == " ", digits.isEmpty {
                continue  // "1h 30m"
            } else {
                return nil
            }
        }
        // Trailing digits without a unit ("1h30") are ambiguous.
        return digits.isEmpty ? total : nil
    }

    /// The shortest form `parse` reads back, e.g. `1h30m`, `2d`, `0s`; fractions of a second
    /// are dropped.
    public static func format(_ seconds: Double) -> String {
        // Checked: a Double beyond Int's range must not trap here.
        var rest = Int(exactly: min(max(0, seconds), maximum).rounded(.down)) ?? 0
        guard rest > 0 else { return "0s" }
        var text = ""
        for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            text += "\(rest / size)\(unit)"
            rest %= size
        }
        return text
    }

    private static func number(_ digits: String) -> Double? {
        guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1, digits.first != ".", digits.last != ".",
              let value = Double(digits)
        else { return nil }
        return value
    }
}
