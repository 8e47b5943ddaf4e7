import Foundation
import Testing
@testable import PatchCore

/// Issue 14 #7: a CSV opened in a spreadsheet never runs what an endpoint said.
@Suite("CSV formula injection")
struct CSVReportTests {
    typealias G = GeneratedHistory
    typealias H = GeneratedHistory.Hostile

    static let triggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    @Test func formulaTriggersGetAQuoteAndFieldsStayRFC4180() {
        #expect(CSVReport.field("=cmd|'/c calc'!A1") == "'=cmd|'/c calc'!A1")
        #expect(CSVReport.field("+1") == "'+1")
        #expect(CSVReport.field("-2+3") == "'-2+3")
        #expect(CSVReport.field("@SUM(A1:A9)") == "'@SUM(A1:A9)")
        #expect(CSVReport.field("\t=1") == "'\t=1")
        #expect(CSVReport.field("\r=1") == "\"'\r=1\"", "quoted: it holds a CR")
        #expect(CSVReport.field("=HYPERLINK(\"http://x\",\"a,b\")") == "\"'=HYPERLINK(\"\"http://x\"\",\"\"a,b\"\")\"")
        // Only the first character counts; ordinary values are untouched.
        #expect(CSVReport.field("a=b") == "a=b" && CSVReport.field("1:2.3-4") == "1:2.3-4" && CSVReport.field("x,-y") == "\"x,-y\"")
        #expect(CSVReport.field("") == "" && CSVReport.field("openssl") == "openssl" && CSVReport.field("café") == "café")
        // Control characters other than tab, CR and LF are shown, as in the terminal.
        #expect(CSVReport.field("a\u{1B}]0;t\u{07}\u{202E}") == "a\\x1b]0;t\\x07\\u202e")
        #expect(CSVReport.field("a\nb") == "\"a\nb\"")
        // Numbers patchctl computed stay numbers, negative ones too.
        #expect(CSVReport.field("-3", numeric: true) == "-3")
        #expect(CSVReport.document(header: ["release_age_days", "package"], rows: [["-1", "-1"]], numeric: ["release_age_days"])
                == "release_age_days,package\r\n-1,'-1\r\n")
    }

    static func expectSafe(_ rows: [[String]], header: [String], numeric: Set<String>, sourceLocation: SourceLocation = #_sourceLocation) {
        for row in rows.dropFirst() {
            for (column, cell) in zip(header, row) {
                if numeric.contains(column) {
                    #expect(cell.isEmpty || Int(cell) != nil || Double(cell) != nil, "\(column): \(cell)", sourceLocation: sourceLocation)
                } else if let first = cell.unicodeScalars.first {
                    #expect(!Self.triggers.contains(first), "\(column) starts with a formula trigger: \(cell.debugDescription)", sourceLocation: sourceLocation)
                }
                #expect(!cell.unicodeScalars.contains { $0 != "\t" && $0 != "\r" && $0 != "\n" && TerminalText.isControl($0) },
                        "\(column): \(cell.debugDescription)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func complianceCSVFromAHostileHistory() throws {
        let runs = try G.hostile()
        let report = try ComplianceReport.build(runs.history.request(asOf: G.day(4), inventory: runs.inventory))
        let csv = try report.rendered(.compliance, as: .csv)
        #expect(!csv.utf8.contains(0x1B))
        let rows = try CSVParser.parse(csv)
        #expect(rows.first == CSVReport.complianceColumns)
        Self.expectSafe(rows, header: CSVReport.complianceColumns, numeric: CSVReport.complianceNumericColumns)
        let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(CSVReport.complianceColumns, $0)) }
        let formula = try #require(records.first { $0["package"] == "'=cmd|'/c calc'!A1" }, "\(records.map { $0["package"] })")
        #expect(formula["installed_version"] == "'+1" && formula["available_version"] == "'-2+3" && formula["source"] == "'@SUM(A1:A9)")
        #expect(formula["host"] == "web\\u202e1" && formula["platform"] == "Debian\\x1b[8m 12\\u009b31m")
        #expect(Int(formula["age_days"] ?? "") != nil, "numbers stay numbers")
        let hostile = try #require(records.first { $0["package"] == "pkg\\x1b]0;pwned\\x07\\x1b[2J" })
        #expect(hostile["installed_version"] == "1.0\\x1b[8m\r2.0", "a CR inside a quoted field is data, as RFC 4180 allows")
        #expect(records.contains { $0["package"] == "fake\nweb9  ok\tx" })

        let trend = try ComplianceReport.build(runs.history.request(.trend, asOf: G.day(4), inventory: runs.inventory)).rendered(.trend, as: .csv)
        Self.expectSafe(try CSVParser.parse(trend), header: CSVReport.trendColumns, numeric: CSVReport.trendNumericColumns)
    }

    @Test func diffCSVFromAHostileHistory() throws {
        let runs = try G.hostile()
        let csv = CSVReport.diff(try FindingsDiff.build(store: runs.history.store, since: "last"))
        let rows = try CSVParser.parse(csv)
        #expect(rows.first == CSVReport.diffColumns)
        Self.expectSafe(rows, header: CSVReport.diffColumns, numeric: [])
        #expect(rows.contains { $0[2] == "'=cmd|'/c calc'!A1" && $0[4] == "'-2+3" && $0[7] == "'@SUM(A1:A9)" }, "\(rows)")
    }
}
