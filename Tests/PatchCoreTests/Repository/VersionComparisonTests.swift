import LabSupport
import Testing
@testable import PatchCore

@Suite("Version ordering per platform")
struct VersionComparisonTests {
    // dpkg's own answers (`dpkg --compare-versions A lt B` is true for every pair).
    @Test(arguments: [
        ("1.0~rc1", "1.0"), ("1.0", "1.0-1"), ("1.0-1", "1.0-1+deb12u1"), ("2.0", "1:0.9"), ("1.9", "1.10"),
        ("3.0.11-1~deb12u2", "3.0.15-1~deb12u1"), ("1.0a", "1.0b"), ("1.0", "1.0.1"), ("1.0~~", "1.0~"),
        ("5.36.0-7+deb12u1", "5.36.0-7+deb12u2"), ("2.4.1", "2.4.10"),
    ])
    func dpkgOrder(lower: String, higher: String) {
        #expect(VersionComparison.dpkg(lower, higher) < 0)
        #expect(VersionComparison.dpkg(higher, lower) > 0)
        #expect(VersionComparison.dpkg(lower, lower) == 0)
    }

    // rpmvercmp's documented cases (rpm's tests/rpmvercmp.at).
    @Test(arguments: [
        ("1.0-1", "1.0-2"), ("1.9", "1.10"), ("1.0~rc1", "1.0"), ("1.0", "1.0^post1"), ("1.0", "1.0.1"),
        ("2.0a", "2.0.1"), ("1:1.0-1", "2:0.1-1"), ("3.0.7-16.el9", "3.0.7-18.el9_2"), ("1.0a", "1.0b"),
    ])
    func rpmOrder(lower: String, higher: String) {
        #expect(VersionComparison.rpm(lower, higher) < 0)
        #expect(VersionComparison.rpm(higher, lower) > 0)
    }

    @Test func rpmEqualities() {
        #expect(VersionComparison.rpm("1.0-1", "1.0-1") == 0)
        #expect(RPMVersion.compare("1.0", "1_0") == 0)
        #expect(RPMVersion.compare("2.0.01", "2.0.1") == 0)
    }

    @Test func semanticOrder() {
        #expect(VersionComparison.semantic("2.4.1", "2.4.10") < 0)
        #expect(VersionComparison.semantic("2.4.1-beta", "2.4.1") < 0)
        #expect(VersionComparison.semantic("10.0.19041.1", "10.0.19041.1") == 0)
        #expect(VersionComparison.semantic("2.5", "2.4.9") > 0)
    }

    @Test func dpkgAgreesWithDpkgItself() async throws {
        let pairs = [("1.2.3-1", "1.2.3-1ubuntu1"), ("0.9+git20240101", "0.9.1"), ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12")]
        for (a, b) in pairs {
            let dpkg = try await TestProcess.run("/usr/bin/dpkg", ["--compare-versions", a, "lt", b])
            #expect((VersionComparison.dpkg(a, b) < 0) == (dpkg.status == 0), "\(a) vs \(b)")
        }
    }
}

import Foundation
