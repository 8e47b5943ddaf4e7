import Foundation
import Testing
@testable import PatchCore

/// Issue 13: tables fit a terminal's width (text columns give way, numbers never) and colour
/// status, security, severity and overdue cells; colour is patchctl's own and nothing else's.
@Suite("Tables on a terminal: width and colour")
struct TableLayoutTests {
    static let header = ["HOST", "STATUS", "PENDING", "SOURCE"]
    static let rows = [
        ["web-frontend-01.example.internal", "ok", "12", "Debian-Security:12/oldstable-security"],
        ["db1", "unreachable", "-", "connection refused by 10.0.0.2:22 after 3 attempts"],
    ]

    static func render(_ layout: TextLayout) -> String {
        TextLayout.$current.withValue(layout) { TableReport.render(header: header, rows: rows, rightAligned: [2]) }
    }

    @Test func withoutAWidthEveryCellIsWholeAndThereIsNoColour() {
        let text = Self.render(.plain)
        #expect(text.contains("connection refused by 10.0.0.2:22 after 3 attempts\n"))
        #expect(!text.contains("…") && !text.unicodeScalars.contains { TextStyle.isMarker($0) })
        #expect(text.split(separator: "\n").map(\.count).max()! > 100)
    }

    @Test func aNarrowTerminalCutsTheWidestTextColumnsFirstAndKeepsNumbers() {
        let text = Self.render(TextLayout(colour: false, width: 72))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.allSatisfy { $0.count <= 72 }, "\(lines)")
        // The free-text column gave way, with a visible cut; the counts are whole and aligned.
        #expect(lines[1].hasSuffix("…") && lines[2].hasSuffix("…"), "\(lines)")
        #expect(lines[1].contains(" 12  ") && lines[2].contains("  -  "), "\(lines)")
        #expect(lines[2].hasPrefix("db1  ") && lines[2].contains("unreachable"))
    }

    @Test func aVeryNarrowTerminalKeepsEveryColumnRecognisable() {
        let widths = TableReport.fitted([32, 11, 7, 51], header: Self.header, rightAligned: [2], into: 10)
        // Text columns stop at their floor (5, or their header's width up to 8); the number column keeps its width.
        #expect(widths == [5, 6, 7, 6])
        #expect(TableReport.fitted([9, 9, 38], header: ["  PACKAGE", "INSTALLED", "SOURCE"], rightAligned: [], into: 10) == [8, 8, 6])
        // The free text at the end gives way before anything else does.
        #expect(TableReport.fitted([20, 18, 38], header: ["  PACKAGE", "INSTALLED", "SOURCE"], rightAligned: [], into: 60) == [20, 18, 18])
    }

    @Test func columnsEmptyInEveryRowGoWhenTheTableIsTooWide() {
        let rows = [["openssl", "3.0.14-1", "", "Debian-Security:12/oldstable-security"]]
        let header = ["PACKAGE", "INSTALLED", "CVES", "SOURCE"]
        let narrow = TextLayout.$current.withValue(TextLayout(colour: false, width: 50)) {
            TableReport.render(header: header, rows: rows, rightAligned: [2])
        }
        #expect(narrow == "PACKAGE  INSTALLED  SOURCE\nopenssl  3.0.14-1   Debian-Security:12/oldstable-…\n", "\(narrow)")
        let wide = TextLayout.$current.withValue(TextLayout(colour: false, width: 120)) {
            TableReport.render(header: header, rows: rows, rightAligned: [2])
        }
        #expect(wide.hasPrefix("PACKAGE  INSTALLED  CVES  SOURCE"), "a table that fits keeps every column")
        #expect(TableReport.cut("abcdefghij", to: 4) == "abc…" && TableReport.cut("abc", to: 4) == "abc")
    }

    @Test func colourMarksStatusAndCountsAndTheWriterTurnsItIntoSGR() {
        let layout = TextLayout(colour: true, width: nil)
        let text = Self.render(layout)
        let shown = layout.finish(text)
        #expect(shown.contains("\u{1B}[1mHOST\u{1B}[0m"), "\(shown.debugDescription)")
        #expect(shown.contains("\u{1B}[32mok\u{1B}[0m") && shown.contains("\u{1B}[31munreachable\u{1B}[0m"))
        // Without colour the markers go, leaving the plain table byte for byte.
        #expect(TextLayout.plain.finish(text) == Self.render(.plain))
        #expect(TableReport.cellStyle(column: "SEVERITY", value: "critical") == .boldRed)
        #expect(TableReport.cellStyle(column: "OVERDUE", value: "3") == .red && TableReport.cellStyle(column: "OVERDUE", value: "0") == nil)
        #expect(TableReport.cellStyle(column: "SECURITY", value: "4") == .yellow)
        #expect(TableReport.cellStyle(column: "STATUS", value: "host_key_unknown") == .red)
        #expect(TableReport.cellStyle(column: "STATUS", value: "deferred") == .yellow)
        #expect(TableReport.cellStyle(column: "HOST", value: "ok") == nil)
    }

    /// A marker character that arrives from an endpoint (or history) is shown escaped with its
    /// cell, so it can never switch colour on or off in the operator's terminal.
    @Test func markersFromEndpointsAreShownNotObeyed() {
        let red = String(Character(Unicode.Scalar(TextStyle.red.rawValue)!))
        let layout = TextLayout(colour: true, width: nil)
        let text = TextLayout.$current.withValue(layout) {
            TableReport.render(header: ["HOST", "SOURCE"], rows: [["web1", "repo\(red)x"]], rightAligned: [])
        }
        let shown = layout.finish(text)
        #expect(shown.contains("repo\\ue002x"), "\(shown.debugDescription)")
        #expect(!shown.contains("\u{1B}[31m"))
        #expect(TerminalText.neutralised("a\(red)b") == "a\\ue002b")
    }

    /// An expired exception's moment in a compliance reason: UTC said, and a whole day said as one.
    @Test func expiryTextSaysUTCAndWholeDays() {
        let endOfDay = Date(timeIntervalSince1970: 1_770_336_000 - 0.001)  // 2026-02-05T23:59:59.999Z
        #expect(ReportDate.expiryText(endOfDay) == "2026-02-05 (end of the day, UTC)")
        #expect(ReportDate.expiryText(Date(timeIntervalSince1970: 1_770_300_000)) == "2026-02-05 14:00 UTC")
    }
}
