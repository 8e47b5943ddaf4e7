import Testing
@testable import PatchCore

/// CVSS v3 base scores against published vector/score pairs.
@Suite struct CVSSTests {
    /// NVD's CVSS 3.x base scores (nvd.nist.gov/vuln/detail/<CVE>), and two from this project's fixtures.
    @Test(arguments: [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),   // CVE-2021-44228 (Log4Shell)
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),    // CVE-2014-0160 (Heartbleed)
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),    // CVE-2021-3156 (sudo, Baron Samedit)
        ("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:C/C:H/I:N/A:N", 5.6),    // CVE-2017-5754 (Meltdown): PR:L under changed scope
        ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 8.6),    // CVE-2019-5736 (runc)
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:L/I:N/A:N", 3.4),    // CVE-2014-3566 (POODLE), a 3.0 vector
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),    // CVE-2013-1937, FIRST's CVSS v3.0 examples document
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H", 8.1),    // CVE-2022-42920 (RLSA-2023:0005 in rocky-all.zip)
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:N/I:H/A:N", 6.5),    // CVE-2024-51988 (UBUNTU-CVE-2024-51988 in osv-all.tar.xz)
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),    // no impact: 0 whatever the exploitability
    ])
    func baseScore(vector: String, score: Double) {
        #expect(CVSS.baseScore(vector) == score)
    }

    @Test func temporalAndEnvironmentalMetricsDoNotChangeTheBaseScore() {
        #expect(CVSS.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/E:U/RL:O/RC:C/CR:H") == 7.5)
    }

    @Test(arguments: [
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",                    // no version prefix (a v2-style vector)
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",   // v4 is not scored
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N",                // A missing
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N/A:H",        // A twice
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",            // undefined value
        "",
    ])
    func invalidOrUnsupportedVectorsHaveNoScore(vector: String) {
        #expect(CVSS.baseScore(vector) == nil)
    }

    /// CVSS 3.1 specification, Appendix A: Roundup(4.02) is 4.1 and Roundup(4.00) is 4.0, also when
    /// floating point makes the latter 4.000000000000001.
    @Test func roundUpAsSpecified() {
        #expect(CVSS.roundUp31(4.02) == 4.1)
        #expect(CVSS.roundUp31(4.0) == 4.0)
        #expect(CVSS.roundUp31(4.000000000000001) == 4.0)
        #expect(CVSS.roundUp30(4.02) == 4.1)
        #expect(CVSS.roundUp31(9.99) == 10.0)
    }
}
