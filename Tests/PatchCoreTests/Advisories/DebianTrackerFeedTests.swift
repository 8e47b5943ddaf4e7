import Foundation
import Testing
@testable import PatchCore

@Suite struct DebianTrackerFeedTests {
    /// Vuls' own fixture, row by row: resolved with a version is fixed in it, `fixed_version "0"`
    /// makes no row, open (with nodsa) is unfixed, the TEMP- id is ignored, urgency is the vendor word.
    @Test func vulsFixtureFollowsVulsRules() throws {
        let rows = try DebianTrackerFeed.read(path: FeedFixture.path("debian-tracker/vuls-advisory.json"))
        #expect(rows == [
            AdvisoryRange(vulnerability: "CVE-2016-5405", ecosystem: "Debian:11", package: "389-ds-base", fixed: "1.3.5.15-1", vendorSeverity: "not yet assigned"),
            AdvisoryRange(vulnerability: "CVE-2016-5405", ecosystem: "Debian:sid", package: "389-ds-base", fixed: "1.3.5.15-1", vendorSeverity: "not yet assigned"),
            AdvisoryRange(vulnerability: "CVE-2016-5416", ecosystem: "Debian:11", package: "389-ds-base", fixed: nil, vendorSeverity: "not yet assigned"),
            AdvisoryRange(vulnerability: "CVE-2016-5416", ecosystem: "Debian:sid", package: "389-ds-base", fixed: nil, vendorSeverity: "not yet assigned"),
        ])
        #expect(rows.allSatisfy { $0.severity == .unknown && $0.introduced == "0" })
    }

    /// osv.dev's excerpt of the real tracker: CVE-2014-1424 ("0" everywhere) makes no row; the
    /// open releases of CVE-2016-1585 are unfixed while sid and trixie are fixed; `unimportant` is none.
    @Test func osvMockFixture() throws {
        let rows = try DebianTrackerFeed.read(path: FeedFixture.path("debian-tracker/osv-debian_security_tracker_mock.json"))
        #expect(rows.count == 10)
        #expect(!rows.contains { $0.vulnerability == "CVE-2014-1424" })
        let open = rows.filter { $0.vulnerability == "CVE-2016-1585" && $0.fixed == nil }.map(\.ecosystem).sorted()
        #expect(open == ["Debian:10", "Debian:11", "Debian:12"])
        let fixed = rows.filter { $0.vulnerability == "CVE-2016-1585" && $0.fixed != nil }
        #expect(Set(fixed.map(\.ecosystem)) == ["Debian:sid", "Debian:13"] && fixed.allSatisfy { $0.fixed == "3.0.12-1" })
        #expect(rows.filter { $0.vulnerability == "CVE-2016-1585" }.allSatisfy { $0.severity == .none && $0.vendorSeverity == "unimportant" })
        #expect(rows.filter { $0.vulnerability == "CVE-2017-6507" }.allSatisfy { $0.fixed == "2.11.0-3" && $0.package == "apparmor" })
    }

    /// The rules on statuses and urgencies the fixtures do not show: `undetermined` is unfixed,
    /// `resolved` without a version and unknown statuses make no row, `low**` is low, `end-of-life` is kept with severity unknown,
    /// escapes in keys are decoded.
    @Test func statusesAndUrgencies() throws {
        let document = #"""
            {"openssl": {
               "CVE-2024-0001": {"description": "a \"quoted\" \u00e9 text", "debianbug": 123, "releases": {
                 "bookworm": {"status": "undetermined", "repositories": {"bookworm": "3.0.11-1~deb12u2"}, "urgency": "low**"},
                 "bullseye": {"status": "resolved", "repositories": {}, "urgency": "high"},
                 "trixie": {"status": "frobbed", "fixed_version": "3.1", "urgency": "high"},
                 "buster": {"status": "resolved", "fixed_version": "1.1.1n-0+deb10u6", "urgency": "end-of-life", "nodsa": "x"}}},
               "TEMP-0000000-ABCDEF": {"releases": {"bookworm": {"status": "open", "urgency": "high"}}}},
             "lib\u0078ml2": {"CVE-2024-0002": {"releases": {"bookworm": {"status": "resolved", "fixed_version": "2.9.14+dfsg-1.3~deb12u1", "urgency": "medium"}}}}}
            """#
        let rows = try collect(document)
        #expect(rows == [
            AdvisoryRange(vulnerability: "CVE-2024-0001", ecosystem: "Debian:12", package: "openssl", fixed: nil, vendorSeverity: "low**", severity: .low),
            AdvisoryRange(vulnerability: "CVE-2024-0001", ecosystem: "Debian:10", package: "openssl", fixed: "1.1.1n-0+deb10u6", vendorSeverity: "end-of-life",
                          severity: .unknown),
            AdvisoryRange(vulnerability: "CVE-2024-0002", ecosystem: "Debian:12", package: "libxml2", fixed: "2.9.14+dfsg-1.3~deb12u1", vendorSeverity: "medium",
                          severity: .medium),
        ])
    }

    /// A file read in chunks as small as 7 bytes gives the same rows: values cut at any chunk
    /// boundary are read whole.
    @Test func chunkBoundariesDoNotMatter() throws {
        let path = try FeedFixture.path("debian-tracker/osv-debian_security_tracker_mock.json")
        let whole = try DebianTrackerFeed.read(path: path)
        var small: [AdvisoryRange] = []
        _ = try DebianTrackerFeed.forEach(JSONStreamReader(path: path, maxDepth: 64, chunkSize: 7), limits: .standard) { small.append($0) }
        #expect(small == whole)
    }

    @Test func truncatedFileIsAnError() throws {
        let bytes = try FeedFixture.data("debian-tracker/vuls-advisory.json")
        let error = #expect(throws: FeedFormatError.self) { try collect(bytes.prefix(bytes.count / 2)) }
        #expect(error?.message.contains("truncated") == true)
    }

    @Test(arguments: [
        #"{"p": {"CVE-1": {"releases": {"bookworm": {"status": "open",, }}}}}"#,
        #"{"p": {"CVE-1": {"releases": ["bookworm"]}}}"#,
        #"{"p": {"CVE-1": {"releases": {}}}} trailing"#,
        #"{"p": {"CVE-1": {"description": tru}}}"#,
        "[]",
    ])
    func malformedDocumentIsAnError(document: String) throws {
        #expect(throws: FeedFormatError.self) { try collect(document) }
    }

    /// Depth is bounded also inside fields that are skipped, and without recursion.
    @Test func nestingIsBounded() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = #expect(throws: FeedFormatError.self) { try collect(#"{"p": {"CVE-1": {"description": \#(deep)}}}"#) }
        #expect(error?.message.contains("nested deeper than 64") == true)
    }

    @Test func sizeAndRecordLimits() throws {
        let path = try FeedFixture.path("debian-tracker/osv-debian_security_tracker_mock.json")
        var limits = FeedLimits.standard
        limits.maxBytes = 1000
        #expect(throws: FeedFormatError.self) { try DebianTrackerFeed.read(path: path, limits: limits) }
        limits = .standard
        limits.maxRecords = 9
        let error = #expect(throws: FeedFormatError.self) { try DebianTrackerFeed.read(path: path, limits: limits) }
        #expect(error?.message == "more than 9 records")
    }

    private func collect(_ document: String) throws -> [AdvisoryRange] {
        try collect(Data(document.utf8))
    }

    private func collect(_ data: Data) throws -> [AdvisoryRange] {
        var rows: [AdvisoryRange] = []
        try DebianTrackerFeed.forEach(bytes: [UInt8](data)) { rows.append($0) }
        return rows
    }
}
