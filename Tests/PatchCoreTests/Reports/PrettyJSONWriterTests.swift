import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Reports go out piece by piece (host by host, patch by patch) and must print exactly what one
/// encoder pass over the whole document prints.
@Suite("Streamed report JSON")
struct PrettyJSONWriterTests {
    typealias G = GeneratedHistory

    @Test func streamedReportsPrintWhatOneEncoderPassPrints() throws {
        let (fleet, inventory, _) = try G.fleet()
        let random = try ComplianceStandingTests.randomHistory(seed: 11)
        let hostile = try G.hostile()
        let reports = [
            // What hostile endpoints said, in every field a finding has: escaped as the encoder escapes it.
            try ComplianceReport.build(hostile.history.request(asOf: Date(), inventory: hostile.inventory, since: "400d")),
            try ComplianceReport.build(fleet.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20)),
            try ComplianceReport.build(fleet.request(asOf: G.day(40, hour: 12), staleDays: 20)),
            try ComplianceReport.build(fleet.request(asOf: G.day(40, hour: 12), inventory: inventory, since: "5d", staleDays: 20)),
            try ComplianceReport.build(random.request(asOf: G.day(64), since: "30d", staleDays: 3)),
        ]
        #expect(reports[0].hosts.contains { $0.updates.contains { $0.package.contains("\u{1b}") } })
        #expect(reports[1].groups.count == 2 && reports[1].policies.count == 1 && !reports[1].exceptions.isEmpty)
        #expect(reports[4].summary.timeToPatch.patches.count > 10, "patches are streamed one by one")
        #expect(reports[4].hosts.flatMap(\.updates).contains { $0.exceptionId != nil && $0.dueAt != nil && $0.daysOverdue != nil })
        for report in reports {
            for kind in [ComplianceRequest.Kind.compliance, .hosts, .trend] {
                // (HTML is written section by section by the one function that makes it whole.)
                for format in [ReportFormat.json, .ndjson] {
                    var pieces = 0
                    var streamed = ""
                    try report.render(kind, as: format) { piece in
                        pieces += 1
                        streamed += piece
                    }
                    let whole = try report.whole(kind, as: format)
                    #expect(streamed == whole, "\(kind) \(format)")
                    if format == .json && kind != .trend { #expect(pieces > report.hosts.count, "\(kind): host by host, not whole") }
                }
            }
        }
    }

    /// Empty arrays and objects, nulls, nested optionals and strings with newlines, as the encoder lays them out.
    /// A fleet's hosts and patches are made on every core (`ParallelText`), more of them than one
    /// thread makes in one go and in rounds that end unevenly: still what one encoder pass prints.
    @Test func largeArraysMadeOnEveryCorePrintWhatTheEncoderPrints() throws {
        let (fleet, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(fleet.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        let patch = try #require(report.summary.timeToPatch.patches.first)
        let count = ParallelText.chunk * 5 + 7
        let hosts = (0..<count).map { index in
            var host = report.hosts[index % report.hosts.count]
            host.name = "host\(index)"
            return host
        }
        let patches = (0..<count).map { index in
            var copy = patch
            copy.host = "host\(index)"
            return copy
        }
        var streamed = "", pieces = 0
        try PrettyJSONWriter { piece in
            streamed += piece
            pieces += 1
        }.write(hosts)
        #expect(streamed == (try JSONOutput.encode(hosts, pretty: true)) && pieces > 2)
        streamed = ""
        try PrettyJSONWriter { streamed += $0 }.write(patches, depth: 2)
        #expect(streamed == PrettyJSONWriter.indented(Data(try JSONOutput.encode(patches, pretty: true).utf8), depth: 2))
    }

    @Test func edgeCasesLayOutAsTheEncoderDoes() throws {
        struct Leaf: Encodable { var text: String; var list: [Int]; var date: Date?; var nested: [String: [String]]; var empty: [String: Int] }
        struct Inner: StreamedJSON {
            var leaves: [Leaf]; var empty: [Leaf]; var maybe: Leaf?; var none: Leaf?; var number: Double?; var count: Int; var big: Int64
            var yes: Bool; var no: Bool?; var word: String?; var missing: String?
        }
        struct Outer: StreamedJSON { var inner: Inner; var inners: [Inner]; var absent: Inner?; var strings: [String]; var flag: Bool }
        // Every control character, DEL, C1, quote, backslash, slash, line separators and a character outside the BMP.
        let nasty = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self) + "\u{7F}\u{85}\"\\/\u{2028}\u{2029}é😀"
        let leaf = Leaf(text: "a\nb \"c\" \u{1b}[31m", list: [], date: Date(timeIntervalSince1970: 0), nested: ["k": [], "j": ["x"]], empty: [:])
        let inner = Inner(leaves: [leaf, leaf], empty: [], maybe: leaf, none: nil, number: 1.5, count: -3, big: 1 << 40, yes: true, no: false,
                          word: nasty, missing: nil)
        let value = Outer(inner: inner, inners: [inner, Inner(leaves: [], empty: [], maybe: nil, none: nil, number: nil, count: 0, big: 0, yes: false,
                                                              no: nil, word: "", missing: nil)], absent: nil,
                          strings: ["x", "y\nz", nasty], flag: true)
        var streamed = ""
        try PrettyJSONWriter { streamed += $0 }.write(value)
        #expect(streamed == (try JSONOutput.encode(value, pretty: true)))

        // A finding writes itself: every member set, then every optional one empty.
        var finding = ComplianceReport.Finding(
            package: nasty, installedVersion: "1:2.3-4", availableVersion: "1:2.3-5", source: "Debian-Security", security: true, severity: "Important",
            firstSeen: Date(timeIntervalSince1970: 1_767_225_600.123), firstSeenRun: "20260101T000000Z-ab", ageDays: 40,
            releasedAt: Date(timeIntervalSince1970: 1_767_000_000), releaseAgeDays: 42, rule: "critical", withinDays: 30,
            dueAt: Date(timeIntervalSince1970: 1_769_000_000), status: .excepted, daysOverdue: 3, exceptionId: 1 << 33, exceptionState: .active,
            exceptionUntil: Date(timeIntervalSince1970: 1_770_000_000), normalizedSeverity: .high, kev: true, cves: ["CVE-2026-1", nasty])
        struct Holder: StreamedJSON { var findings: [ComplianceReport.Finding] }
        var bare = finding
        (bare.severity, bare.releasedAt, bare.releaseAgeDays, bare.rule, bare.withinDays, bare.dueAt) = (nil, nil, nil, nil, nil, nil)
        (bare.daysOverdue, bare.exceptionId, bare.exceptionState, bare.exceptionUntil, bare.cves) = (nil, nil, nil, nil, [])
        finding.status = .overdue
        let holder = Holder(findings: [finding, bare])
        var written = ""
        try PrettyJSONWriter { written += $0 }.write(holder)
        #expect(written == (try JSONOutput.encode(holder, pretty: true)))

        // Patches (days as the encoder prints numbers) and contacts write themselves too.
        struct Others: StreamedJSON { var patches: [ComplianceReport.Patch]; var contacts: [ComplianceReport.Contact?] }
        let patches = [0, 10, 10.5, 0.1, 1234.5, 0.00001, 3e16].map { days in
            ComplianceReport.Patch(host: nasty, package: "p", version: "1", security: days > 1, firstSeen: Date(timeIntervalSince1970: 0),
                                   patchedAt: Date(timeIntervalSince1970: days), days: days, via: "scan", runId: "r", policy: days > 5 ? "linux" : nil)
        }
        let contacts: [ComplianceReport.Contact?] = [
            ComplianceReport.Contact(runId: "r1", kind: .deploy, at: Date(timeIntervalSince1970: 5), status: .failed, error: nasty),
            ComplianceReport.Contact(runId: "r2", kind: .scan, at: Date(timeIntervalSince1970: 6), status: .ok, error: nil), nil,
        ]
        written = ""
        try PrettyJSONWriter { written += $0 }.write(Others(patches: patches, contacts: contacts))
        #expect(written == (try JSONOutput.encode(Others(patches: patches, contacts: contacts), pretty: true)))
    }

    @Test func scansOfAHostShareTheirIntervals() {
        let updates = (0..<4).map { ReportHistory.Update(package: "p\($0)", installedVersion: "1", availableVersion: "2", source: "s", security: true) }
        let table = ReportHistory.Updates.Table(updates)
        let monday = ReportHistory.Updates(table: table, positions: [0, 1, 2])
        let tuesday = ReportHistory.Updates(table: table, positions: [1, 2, 3])
        #expect(Array(monday) == Array(updates[0...2]) && monday == ReportHistory.Updates(Array(updates[0...2])))
        #expect(monday.notShared(with: tuesday).map(\.package) == ["p0"])
        // Lists from different tables share nothing, even when equal.
        #expect(monday.notShared(with: ReportHistory.Updates(Array(updates[0...2]))).count == 3)
    }

    @Test func columnsAreReadByNameWhateverTheirOrder() {
        var index = ColumnIndex()
        let rows: [Row] = [["a": 1, "b": "x", "c": nil], ["c": 3, "a": 2, "b": "y"], ["b": "z", "c": nil, "a": 4]]
        let read = rows.map { row -> String in
            let columns = index(row)
            let a: Int = columns["a"], b: String = columns["b"], c: Int? = columns["c"]
            return "\(a) \(b) \(c.map(String.init) ?? "nil")"
        }
        #expect(read == ["1 x nil", "2 y 3", "4 z nil"])
    }
}
