import Foundation

/// How text output is laid out for where it goes: colour or not, and the width tables must fit.
/// The CLI decides once per command (`--color`, NO_COLOR, whether stdout is a terminal and how
/// wide it is); tables read it while they are built.
///
/// Colour is carried through the text as private-use marker characters (`TextStyle`), not as
/// escape sequences: the writer turns them into SGR sequences, or drops them, as its very last
/// step, after every control character was neutralised. Markers that come from endpoints, files or
/// history count as control characters (`TerminalText.isControl`) and are shown escaped, so only
/// patchctl's own code can colour anything, and only with the few styles below.
public struct TextLayout: Sendable, Equatable {
    public var colour: Bool
    /// Columns a table may use; nil: as wide as its widest row (a pipe or a file).
    public var width: Int?

    public init(colour: Bool, width: Int?) {
        self.colour = colour
        self.width = width.map { max(Self.minimumWidth, $0) }
    }

    /// No colour, no width limit: files, pipes, documents, tests.
    public static let plain = TextLayout(colour: false, width: nil)
    /// Narrower than this, fitting would make every cell an ellipsis: tables overflow instead.
    public static let minimumWidth = 40

    @TaskLocal public static var current = TextLayout.plain

    /// `text` (already neutralised) with the style markers turned into SGR sequences, or removed.
    public func finish(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: TextStyle.isMarker) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 32)
        for scalar in text.unicodeScalars {
            if let style = TextStyle(marker: scalar) {
                if colour { out += style.sgr }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// The styles tables use: status, security and overdue cells, and header rows.
public enum TextStyle: UInt32, CaseIterable, Sendable {
    case reset = 0xE000, bold, red, green, yellow, boldRed, dim

    static let markers: ClosedRange<UInt32> = 0xE000...0xE00F

    static func isMarker(_ scalar: Unicode.Scalar) -> Bool { markers.contains(scalar.value) }

    init?(marker scalar: Unicode.Scalar) {
        guard Self.isMarker(scalar) else { return nil }
        self = TextStyle(rawValue: scalar.value) ?? .reset
    }

    var marker: Character { Character(Unicode.Scalar(rawValue)!) }

    /// ECMA-48 Select Graphic Rendition.
    var sgr: String {
        switch self {
        case .reset: "\u{1B}[0m"
        case .bold: "\u{1B}[1m"
        case .red: "\u{1B}[31m"
        case .green: "\u{1B}[32m"
        case .yellow: "\u{1B}[33m"
        case .boldRed: "\u{1B}[1;31m"
        case .dim: "\u{1B}[2m"
        }
    }

    /// `text` (neutralised already) in this style.
    public func apply(_ text: String) -> String {
        text.isEmpty ? text : String(marker) + text + String(TextStyle.reset.marker)
    }

    /// The marker characters, for writers that keep them through neutralising (`TerminalText`).
    public static let markerScalars: Set<Unicode.Scalar> = Set(allCases.map { Unicode.Scalar($0.rawValue)! })
}
