import Foundation

/// Text from endpoints, files and history made harmless for a terminal or a log: every control
/// character is shown as an escape (`\x1b`, `\r`, `\u202e`) instead of reaching the terminal, where
/// it could set the window title, clear the screen, write the clipboard (OSC 52), hide text,
/// overwrite a line or reorder what is shown (bidi overrides). Every table cell, text line, error
/// line and log line goes through `neutralised(_:)`; JSON has its own escaping and is left alone.
public enum TerminalText {
    /// C0 (tab and newline included: inside a value they would forge columns and rows), DEL, C1
    /// (U+0080–U+009F: U+009B is CSI on terminals that honour 8-bit controls), the bidi
    /// embeddings, overrides, isolates and marks, the Unicode line and paragraph separators, and
    /// the private-use characters patchctl's own tables mark colour with (`TextStyle`).
    @inlinable
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: return true
        case 0xE000...0xE00F: return true
        default: return false
        }
    }

    /// `text` with every control character made visible. With `keepingNewlines`, `\n` stays a line
    /// break: for whole documents whose own layout has newlines (values inside them are
    /// neutralised without it). Text without controls is returned as is.
    public static func neutralised(_ text: String, keepingNewlines: Bool = false) -> String {
        neutralised(text, except: keepingNewlines ? ["\n"] : [])
    }

    /// `text` with every control character but `kept` made visible (CSV keeps tab, CR and LF,
    /// which its quoting carries).
    public static func neutralised(_ text: String, except kept: Set<Unicode.Scalar>) -> String {
        func escaped(_ scalar: Unicode.Scalar) -> Bool { isControl(scalar) && !kept.contains(scalar) }
        guard text.unicodeScalars.contains(where: escaped) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if escaped(scalar) { out += visible(scalar) } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// `\n`, `\r`, `\t`; other C0 and DEL as `\x1b`; everything from U+0080 as `\u009b`, `\u202e`
    /// (a code point, not a byte: the text is Unicode by now).
    static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            let hex = String(scalar.value, radix: 16)
            return scalar.value < 0x80 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                : "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
    }
}

extension String {
    /// This text with its control characters made visible (see `TerminalText`).
    public var neutralisedForTerminal: String { TerminalText.neutralised(self) }
}

/// A line (or lines) of terminal output written as an interpolated literal: the literal parts are
/// the layout and stay as written; every interpolated value is neutralised, newlines included, so
/// a value can neither send escape sequences nor start a line of its own.
public struct TerminalLine: ExpressibleByStringInterpolation, Sendable {
    public var text: String

    public init(stringLiteral value: String) { text = value }

    public init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    public struct Interpolation: StringInterpolationProtocol {
        var text = ""

        public init(literalCapacity: Int, interpolationCount: Int) {
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        public mutating func appendLiteral(_ literal: String) { text += literal }

        public mutating func appendInterpolation<T>(_ value: T) {
            text += TerminalText.neutralised(String(describing: value))
        }
    }
}
