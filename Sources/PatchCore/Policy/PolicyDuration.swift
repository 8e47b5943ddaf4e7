import Foundation

/// Durations written in policies: `90s`, `30m`, `24h`, `2d`, `1w`, combinations such as `1h30m`
/// (parts in any order, each unit once), or a bare number of seconds. Named so as not to clash
/// with `Swift.Duration`.
public enum PolicyDuration {
    static let unitSeconds: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]

    /// Seconds, or nil for anything else (negative values, unknown units, empty text).
    public static func parse(_ text: String) -> Double? {
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
        var rest = Int(seconds.rounded(.down))
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
              let value = Double(digits), value.isFinite
        else { return nil }
        return value
    }
}
