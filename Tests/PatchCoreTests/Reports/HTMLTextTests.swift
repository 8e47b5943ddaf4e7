import Foundation
import Testing
@testable import PatchCore

/// The HTML report's per-row texts, made without Foundation's formatting: the same text as before.
@Suite("HTML report texts")
struct HTMLTextTests {
    @Test func statusWordsAreTheRawValueInWords() {
        let statuses: [ComplianceReport.Finding.Status] = [.withinDeadline, .overdue, .excepted, .outOfScope]
        for status in statuses {
            #expect(HTMLReport.statusWords(status) == status.rawValue.replacingOccurrences(of: "_", with: " "))
        }
    }

    @Test func oneDecimalIsFoundationsFormat() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [0, -0.0, 0.05, 0.15, 0.25, 0.35, 2.45, 1e15 + 0.05, -0.05, 1e21, 1e300, -1e300, .nan, .infinity, -.infinity,
                                .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for _ in 0..<20_000 {
            values.append(Double.random(in: 0...400, using: &generator))
            values.append(Double(Int.random(in: 0...4000, using: &generator)) / 10 + 0.05)
            values.append(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &generator)))
        }
        let mismatches = values.filter { HTMLReport.oneDecimal($0) != String(format: "%.1f", $0) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
