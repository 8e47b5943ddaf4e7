import Foundation
import Testing
@testable import PatchCore

/// `affects` and `isFixed` in each platform's own version order.
@Suite struct AdvisoryRangeMatchingTests {
    static func range(_ introduced: String, _ fixed: String?) -> AdvisoryRange {
        AdvisoryRange(vulnerability: "CVE-2024-0001", ecosystem: "Debian:12", package: "p", introduced: introduced, fixed: fixed)
    }

    @Test(arguments: [
        // Debian stable updates: +deb12uN sorts after the release's own version and by N.
        ("2.36-9+deb12u4", "2.36-9+deb12u7", true),
        ("2.36-9+deb12u7", "2.36-9+deb12u7", false),
        ("2.36-9+deb12u10", "2.36-9+deb12u7", false),   // 10 > 7 numerically, not as text
        ("2.36-9", "2.36-9+deb12u1", true),
        // Epochs outweigh everything after them.
        ("1:1.0-1", "2.0-1", false),
        ("2.0-1", "1:1.0-1", true),
        ("1:1.0-1", "1:1.0-2", true),
        // "~" sorts before the empty string: a pre-release is older than the release.
        ("1.0~rc1-1", "1.0-1", true),
        ("1.0-1", "1.0~rc1-1", false),
        ("3.12.1-1ubuntu1~22.04.1", "3.12.1-1ubuntu1", true),
        // Ubuntu's kernel ABI numbers: 6.8.0-1017.19 vs the fixed 6.8.0-1017.19.1.
        ("6.8.0-1017.19", "6.8.0-1017.19.1", true),
    ])
    func dpkgOrder(installed: String, fixed: String, affected: Bool) {
        #expect(Self.range("0", fixed).affects(installed, scheme: .dpkg) == affected)
        #expect(Self.range("0", fixed).isFixed(by: installed, scheme: .dpkg) == !affected)
    }

    @Test(arguments: [
        // Release tags: el9_1 is a z-stream update of el9, el8_9 of el8.
        ("6.4.1-9.el9", "0:6.4.1-9.el9_1", true),
        ("6.4.1-9.el9_1", "0:6.4.1-9.el9_1", false),      // epoch 0 written or not is the same version
        ("4.18.0-513.5.1.el8_9", "4.18.0-513.9.1.el8_9", true),
        ("4.18.0-513.24.1.el8_9", "4.18.0-513.9.1.el8_9", false),
        ("5.5-6.el9_3.1", "7:5.5-6.el9_3.2", true),       // squid: epoch 7 in the fix, not in the query
        ("7:5.5-6.el9_3.2", "7:5.5-6.el9_3.2", false),
        ("1:5.5-6.el9_3.1", "7:5.5-6.el9_3.2", true),
        ("4.18.0-425.10.1.el8_7", "0:4.18.0-425.10.1.el8_7.cloud", true),
    ])
    func rpmOrder(installed: String, fixed: String, affected: Bool) {
        #expect(Self.range("0", fixed).affects(installed, scheme: .rpm) == affected)
    }

    @Test func introducedBoundsTheRangeFromBelow() {
        let range = Self.range("2.0-1", "2.0-5")
        #expect(!range.affects("1.9-9", scheme: .dpkg))
        #expect(range.affects("2.0-1", scheme: .dpkg))
        #expect(range.affects("2.0-4", scheme: .dpkg))
        #expect(!range.affects("2.0-5", scheme: .dpkg))
        // "0" is from the very start, even below versions that sort under "0" in dpkg order.
        #expect(Self.range("0", "1.0").affects("~0", scheme: .dpkg))
    }

    @Test func openRangeHasNoFix() {
        let open = Self.range("1.0", nil)
        #expect(open.affects("1.0", scheme: .dpkg))
        #expect(open.affects("99:9", scheme: .dpkg))
        #expect(!open.isFixed(by: "99:9", scheme: .dpkg))
        #expect(!open.affects("0.9", scheme: .dpkg))
    }

    /// An OSV record with several introduced/fixed pairs in one range, a last_affected, an entry
    /// with only a versions list, and a GIT range: read by OSVFeed, then matched.
    @Test func severalIntroducedFixedPairs() async throws {
        let dir = try ScratchDirectory()
        let record = """
            {"id": "DSA-9999-1", "related": ["CVE-2024-1111"], "affected": [
              {"package": {"ecosystem": "Debian:12", "name": "pairs"},
               "ranges": [{"type": "ECOSYSTEM", "events": [
                 {"introduced": "0"}, {"fixed": "1.2-1"}, {"introduced": "1.5-1"}, {"fixed": "1.5-3"},
                 {"introduced": "2.0~beta1-1"}, {"fixed": "2.0-1+deb12u1"}, {"introduced": "3:1.0-1"}]},
                 {"type": "GIT", "repo": "https://example.org/pairs.git", "events": [{"introduced": "0"}, {"fixed": "abc123"}]}]},
              {"package": {"ecosystem": "Debian:12", "name": "last"},
               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"last_affected": "1.4"}]}]},
              {"package": {"ecosystem": "Debian:12", "name": "listed"}, "versions": ["1.3-2", "1.1-1", "1.2-1"]}
            ]}
            """
        try dir.write("DSA-9999-1.json", Data(record.utf8))
        let ranges = try await OSVFeed.read(path: dir.file("DSA-9999-1.json"), kind: .osv, limits: .standard)
        let pairs = ranges.filter { $0.package == "pairs" }
        #expect(pairs.map(\.introduced) == ["0", "1.5-1", "2.0~beta1-1", "3:1.0-1"])
        #expect(pairs.map(\.fixed) == ["1.2-1", "1.5-3", "2.0-1+deb12u1", nil])
        func affected(_ version: String) -> Bool { pairs.contains { $0.affects(version, scheme: .dpkg) } }
        #expect(affected("1.1-1"))
        #expect(!affected("1.2-1"))
        #expect(!affected("1.4-1"))
        #expect(affected("1.5-2"))
        #expect(!affected("1.5-3"))
        #expect(affected("2.0~beta2-1"))
        #expect(affected("2.0-1"))
        #expect(!affected("2.0-1+deb12u1"))
        #expect(!affected("2.9-1"))
        #expect(affected("3:1.0-1"))
        // last_affected: kept open (no fix version is named); versions list: open from its lowest version.
        #expect(ranges.filter { $0.package == "last" }.map { [$0.introduced, $0.fixed] } == [["1.0", nil]])
        #expect(ranges.filter { $0.package == "listed" }.map { [$0.introduced, $0.fixed] } == [["1.1-1", nil]])
        #expect(ranges.allSatisfy { $0.vulnerability == "CVE-2024-1111" && $0.advisory == "DSA-9999-1" })
    }
}
