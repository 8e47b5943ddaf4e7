import Foundation
import Logging
import Testing
@testable import PatchCore

/// Issue 14 #6: the one neutraliser every table cell, text line, error line and log line goes through.
@Suite("Control characters made visible")
struct TerminalTextTests {
    @Test func escapeSequencesAreShownNotSent() {
        #expect(TerminalText.neutralised("a\u{1B}]0;pwned\u{07}b") == "a\\x1b]0;pwned\\x07b", "OSC 0: window title")
        #expect(TerminalText.neutralised("\u{1B}[2J") == "\\x1b[2J", "clear screen")
        #expect(TerminalText.neutralised("\u{1B}]52;c;Y2FsYw==\u{07}") == "\\x1b]52;c;Y2FsYw==\\x07", "OSC 52: clipboard write")
        #expect(TerminalText.neutralised("x\u{1B}[8my") == "x\\x1b[8my", "concealed text")
        #expect(TerminalText.neutralised("\u{1B}P1$r\u{1B}\\") == "\\x1bP1$r\\x1b\\", "DCS")
    }

    @Test func everyC0DelAndC1Character() {
        #expect(TerminalText.neutralised("a\rb") == "a\\rb")
        #expect(TerminalText.neutralised("a\nb") == "a\\nb")
        #expect(TerminalText.neutralised("a\tb") == "a\\tb")
        #expect(TerminalText.neutralised("a\u{0}b") == "a\\x00b")
        #expect(TerminalText.neutralised("\u{08}\u{0B}\u{0C}\u{1F}") == "\\x08\\x0b\\x0c\\x1f")
        #expect(TerminalText.neutralised("\u{7F}") == "\\x7f")
        #expect(TerminalText.neutralised("\u{9B}31m") == "\\u009b31m", "8-bit CSI")
        #expect(TerminalText.neutralised("\u{80}\u{85}\u{9D}\u{9F}") == "\\u0080\\u0085\\u009d\\u009f")
        for value in Array(0x00...0x1F) + Array(0x7F...0x9F) {
            let scalar = Unicode.Scalar(UInt8(value))
            let shown = TerminalText.neutralised("<\(Character(scalar))>")
            #expect(shown.hasPrefix("<\\") && shown.hasSuffix(">") && shown.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F },
                    "U+\(String(value, radix: 16)): \(shown.debugDescription)")
        }
    }

    @Test func bidiControlsAndSeparators() {
        #expect(TerminalText.neutralised("abc\u{202E}fdp.exe") == "abc\\u202efdp.exe", "right-to-left override")
        for value: UInt32 in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x200E, 0x200F, 0x061C, 0x2028, 0x2029] {
            let scalar = Unicode.Scalar(value)!
            #expect(TerminalText.neutralised("a\(Character(scalar))b") == "a\\u\(String(value, radix: 16))b".replacingOccurrences(of: "\\u61c", with: "\\u061c"))
        }
    }

    @Test func ordinaryTextIsUntouched() {
        for text in ["openssl", "3.0.15-1~deb12u1", "Debian-Security:12/oldstable-security", "café", "Grüße", "naïve façade",
                     "日本語のパッケージ", "한국어", "中文", "Ελληνικά", "עברית", "العربية", "🙂", "👨‍👩‍👧‍👦", "🇫🇷", "e\u{301}", "C:\\Program Files\\x",
                     "a b", ""] {
            #expect(TerminalText.neutralised(text) == text, "\(text)")
            #expect(TerminalText.neutralised(text).utf8.elementsEqual(text.utf8))
        }
    }

    @Test func nothingATerminalActsOnSurvivesAnyScalar() {
        // Every scalar of the BMP's first 12k and the C1/bidi blocks, alone and amid text.
        var scalars = (0..<0x3000).compactMap(Unicode.Scalar.init)
        scalars += [0xFEFF, 0xFFFD, 0x1F600, 0xE0001].compactMap(Unicode.Scalar.init)
        let text = String(String.UnicodeScalarView(scalars))
        let shown = TerminalText.neutralised(text)
        #expect(!shown.unicodeScalars.contains { TerminalText.isControl($0) })
        #expect(!shown.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value)
                                                   || (0x2066...0x2069).contains($0.value) })
        #expect(shown.unicodeScalars.count > text.unicodeScalars.count)
    }

    @Test func layoutNewlinesCanBeKept() {
        #expect(TerminalText.neutralised("a\nb\u{1B}c\r\n", keepingNewlines: true) == "a\nb\\x1bc\\r\n")
        #expect(TerminalText.neutralised("a\tb\r\nc\u{1B}", except: ["\t", "\r", "\n"]) == "a\tb\r\nc\\x1b")
        #expect("x\u{1B}".neutralisedForTerminal == "x\\x1b")
    }

    @Test func aTerminalLineNeutralisesWhatIsInterpolatedNotItsLayout() {
        let name = "evil\nweb2: ok\u{1B}[2J"
        let line: TerminalLine = "\(name): \(3) updates\n"
        #expect(line.text == "evil\\nweb2: ok\\x1b[2J: 3 updates\n")
        let optional: String? = "a\u{9B}"
        let other: TerminalLine = "\n\(optional ?? "-"):\n"
        #expect(other.text == "\na\\u009b:\n")
    }

    /// A handler that keeps what it is given, to see what the terminal's handler would print.
    final class Captured: LogHandler, @unchecked Sendable {
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        var events: [LogEvent] = []
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { events.append(event) }
    }

    @Test func logLinesAndTheirMetadataAreNeutralised() throws {
        let captured = Captured()
        var logger = Logger(label: "test") { _ in NeutralisingLogHandler(wrapping: captured) }
        logger.logLevel = .debug
        logger[metadataKey: "run\u{1B}"] = "r\u{1B}]0;t\u{07}"
        struct Remote: Error, CustomStringConvertible { var description: String { "remote \u{1B}[2J" } }
        logger.info("host failed\u{1B}[8m", metadata: [
            "host": "web\u{202E}1", "reason": "said \u{1B}]52;c;eA==\u{07}\nfake: line",
            "lines": .array(["\u{9B}1", .stringConvertible(42)]), "nested": .dictionary(["k\u{7F}": "v\r"]),
        ])
        logger.error("failed", error: Remote())
        #expect(captured.events.count == 2)
        let event = try #require(captured.events.first)
        #expect(event.message.description == "host failed\\x1b[8m")
        let metadata = try #require(event.metadata)
        #expect(metadata["host"]?.description == "web\\u202e1")
        #expect(metadata["reason"]?.description == "said \\x1b]52;c;eA==\\x07\\nfake: line")
        guard case let .array(lines)? = metadata["lines"], case let .dictionary(nested)? = metadata["nested"] else {
            Issue.record("metadata kinds changed: \(metadata)")
            return
        }
        #expect(lines.map(\.description) == ["\\u009b1", "42"])
        #expect(nested.map { "\($0.key)=\($0.value)" } == ["k\\x7f=v\\r"])
        #expect(captured.metadata["run\\x1b"]?.description == "r\\x1b]0;t\\x07", "handler metadata too")
        let failed = try #require(captured.events.last)
        #expect(failed.error == nil && failed.metadata?["error.message"]?.description == "remote \\x1b[2J")
    }
}
