import Foundation
import Testing
@testable import PatchCore

/// Real OSV exports (Fixtures/advisories/osv and ubuntu, see their SOURCE.md) read into ranges.
@Suite struct OSVFeedTests {
    @Test func debianAllZip() async throws {
        let ranges = try await OSVFeed.read(path: try AdvisoryFixture.path("osv/debian-all.zip"), kind: .osv, limits: .standard)
        #expect(ranges.count == 4)
        let kismet = ranges.filter { $0.package == "kismet" }
        #expect(kismet.map(\.vulnerability) == ["CVE-2005-2626", "CVE-2005-2627"])
        #expect(kismet.allSatisfy { $0.ecosystem == "Debian:4.0" && $0.introduced == "0" && $0.fixed == "2005.08.R1-0.1etch1" })
        #expect(kismet.allSatisfy { $0.advisory == "DTSA-1-1" && $0.severity == .unknown && $0.vendorSeverity == nil && $0.cvss == nil })
        let gnutls = try #require(ranges.first { $0.package == "gnutls26" })
        #expect(gnutls == AdvisoryRange(vulnerability: "CVE-2014-3466", ecosystem: "Debian:6.0", package: "gnutls26",
                                        fixed: "2.8.6-1+squeeze4", advisory: "DLA-0001-1"))
        #expect(gnutls.affects("2.8.6-1+squeeze3", scheme: .dpkg))
        #expect(!gnutls.affects("2.8.6-1+squeeze4", scheme: .dpkg))
        // Kind ubuntu keeps Ubuntu ecosystems only.
        #expect(try await OSVFeed.read(path: try AdvisoryFixture.path("osv/debian-all.zip"), kind: .ubuntu, limits: .standard).isEmpty)
    }

    @Test func rockyAllZipHasRedHatSeverityWordsAndCVSS() async throws {
        let ranges = try await OSVFeed.read(path: try AdvisoryFixture.path("osv/rocky-all.zip"), kind: .osv, limits: .standard)
        let bcel = try #require(ranges.first { $0.package == "bcel" })
        #expect(bcel.vulnerability == "CVE-2022-42920")
        #expect(bcel.ecosystem == "Rocky Linux:9")
        #expect(bcel.fixed == "0:6.4.1-9.el9_1")
        #expect(bcel.vendorSeverity == "Important")
        #expect(bcel.severity == .high)
        #expect(bcel.cvss == 8.1)
        #expect(bcel.advisory == "RLSA-2023:0005")
        #expect(bcel.affects("6.4.1-8.el9", scheme: .rpm))
        #expect(bcel.isFixed(by: "6.4.1-9.el9_1", scheme: .rpm))
        let kernel = ranges.filter { $0.package == "kernel" }
        #expect(Set(kernel.map(\.vulnerability)) == ["CVE-2022-2964", "CVE-2022-4139"])
        #expect(kernel.allSatisfy { $0.ecosystem == "Rocky Linux:8" && $0.cvss == 7.8 && $0.severity == .high })
    }

    @Test func almaRecordsWithoutCVEsKeepTheirOwnIds() async throws {
        let ranges = try await OSVFeed.read(path: try AdvisoryFixture.path("osv/alma-all.zip"), kind: .osv, limits: .standard)
        let bugfix = ranges.filter { $0.vulnerability == "ALBA-2022:8256" }
        #expect(Set(bugfix.map(\.package)) == ["qatzip", "qatzip-devel", "qatzip-libs"])
        #expect(bugfix.allSatisfy { $0.advisory == "ALBA-2022:8256" && $0.vendorSeverity == "Important" })
        let squid = try #require(ranges.first { $0.package == "squid" })
        #expect(squid.vulnerability == "CVE-2023-5824")
        #expect(squid.fixed == "7:5.5-6.el9_3.2")
        #expect(squid.affects("7:5.5-6.el9_3.1", scheme: .rpm))
        let kernel = ranges.filter { $0.advisory == "ALSA-2023:7549" }
        #expect(Set(kernel.map(\.vulnerability)).count == 7)
        // One range per CVE and package: every package of the advisory carries all seven.
        #expect(kernel.count == 7 * Set(kernel.map(\.package)).count)
    }

    @Test(arguments: [AdvisoryFeedKind.ubuntu, .osv])
    func ubuntuOSVAllTarXZ(kind: AdvisoryFeedKind) async throws {
        let ranges = try await OSVFeed.read(path: try AdvisoryFixture.path("ubuntu/osv-all.tar.xz"), kind: kind, limits: .standard)
        // UBUNTU-CVE: 1 CVE in 4 releases; LSN: 7 CVEs in 6 Pro releases; USN: 196 CVEs in 3 packages.
        let expected: Int = 4 + 7 * 6 + 196 * 3
        #expect(ranges.count == expected)
        let rabbit = ranges.filter { $0.package == "rabbitmq-server" }
        #expect(rabbit.map(\.ecosystem) == ["Ubuntu:20.04", "Ubuntu:22.04", "Ubuntu:24.10", "Ubuntu:24.04"])
        #expect(rabbit.allSatisfy { $0.vulnerability == "CVE-2024-51988" && $0.advisory == nil })
        #expect(rabbit.allSatisfy { $0.vendorSeverity == "medium" && $0.severity == .medium && $0.cvss == 6.5 })
        #expect(rabbit[1].fixed == "3.9.27-0ubuntu0.1")
        let usn = ranges.filter { $0.advisory == "USN-7095-1" }
        let usnCount: Int = 196 * 3
        #expect(usn.count == usnCount)
        #expect(usn.allSatisfy { $0.vulnerability.hasPrefix("CVE-") && $0.severity == .unknown })
        #expect(usn.contains { $0.vulnerability == "CVE-2024-25741" && $0.package == "linux-nvidia-6.8" && $0.fixed == "6.8.0-1017.19~22.04.1" })
        let livepatch = ranges.filter { $0.advisory == "LSN-0108-1" }
        #expect(Set(livepatch.map(\.ecosystem)) == ["Ubuntu:Pro:14.04", "Ubuntu:Pro:16.04", "Ubuntu:Pro:18.04", "Ubuntu:Pro:20.04", "Ubuntu:Pro:22.04", "Ubuntu:Pro:24.04"])
    }

    @Test func singleFileAndDirectory() async throws {
        let single = try await OSVFeed.read(path: try AdvisoryFixture.path("ubuntu/UBUNTU-CVE-2024-51988.json"), kind: .ubuntu, limits: .standard)
        #expect(single.count == 4)
        let dir = try ScratchDirectory()
        try dir.write("a/2024/UBUNTU-CVE-2024-51988.json", Data(contentsOf: URL(fileURLWithPath: try AdvisoryFixture.path("ubuntu/UBUNTU-CVE-2024-51988.json"))))
        try dir.write("b/DSA-135.json", Data(contentsOf: URL(fileURLWithPath: try AdvisoryFixture.path("osv/DSA-135.json"))))
        try dir.write("b/README.md", Data("not a record".utf8))
        let all = try await OSVFeed.read(path: dir.path, kind: .osv, limits: .standard)
        #expect(all.count == 5)
        #expect(all.last?.vulnerability == "CVE-2002-0653")
        #expect(try await OSVFeed.read(path: dir.path, kind: .ubuntu, limits: .standard) == single)
        // The same record gzipped.
        try await dir.run("gzip -c a/2024/UBUNTU-CVE-2024-51988.json > record.json.gz")
        #expect(try await OSVFeed.read(path: dir.file("record.json.gz"), kind: .ubuntu, limits: .standard) == single)
    }

    @Test func withdrawnRecordsAndIdsWithoutCVE() async throws {
        let dir = try ScratchDirectory()
        try dir.write("w.json", Data("""
            {"id": "DSA-1-1", "withdrawn": "2024-01-01T00:00:00Z", "related": ["CVE-2024-0001"],
             "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1"}]}]}]}
            """.utf8))
        #expect(try await OSVFeed.read(path: dir.file("w.json"), kind: .osv, limits: .standard).isEmpty)
        // A CVE record, UBUNTU-CVE ids in related, a severity only in CVSS v4, an Ubuntu severity entry.
        try dir.write("c.json", Data("""
            [{"id": "CVE-2024-0002", "related": ["UBUNTU-CVE-2024-0003"],
              "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
              "affected": [{"package": {"ecosystem": "Debian:12", "name": "x"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]},
             {"id": "USN-1-1", "related": ["UBUNTU-CVE-2024-0004", "CVE-2024-0004", "LP: 123"],
              "severity": [{"type": "Ubuntu", "score": "high"}],
              "affected": [{"package": {"ecosystem": "Ubuntu:24.04:LTS", "name": "y"}, "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2"}]}]}]}]
            """.utf8))
        let ranges = try await OSVFeed.read(path: dir.file("c.json"), kind: .osv, limits: .standard)
        #expect(ranges.map(\.vulnerability) == ["CVE-2024-0002", "CVE-2024-0004"])
        #expect(ranges[0].advisory == nil && ranges[0].cvss == nil && ranges[0].severity == .unknown && ranges[0].fixed == nil)
        #expect(ranges[1].advisory == "USN-1-1" && ranges[1].vendorSeverity == "high" && ranges[1].severity == .high)
    }

    /// Ubuntu states each fix in the USN and in the UBUNTU-CVE record: one range comes out, with
    /// the USN's id and the CVE record's priority and CVSS. A different fix version stays apart.
    @Test func sameFixFromUSNAndCVERecordIsOneRange() async throws {
        let dir = try ScratchDirectory()
        try dir.write("osv/usn/USN-7100-1.json", Data("""
            {"id": "USN-7100-1", "related": ["CVE-2024-51988", "UBUNTU-CVE-2024-51988"],
             "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "rabbitmq-server"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.9.27-0ubuntu0.1"}]}]},
                          {"package": {"ecosystem": "Ubuntu:20.04:LTS", "name": "rabbitmq-server"},
                           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.8.3-0ubuntu0.2"}]}]}]}
            """.utf8))
        try dir.write("osv/cve/2024/UBUNTU-CVE-2024-51988.json", Data(contentsOf: URL(fileURLWithPath: try AdvisoryFixture.path("ubuntu/UBUNTU-CVE-2024-51988.json"))))
        let ranges = try await OSVFeed.read(path: dir.path, kind: .ubuntu, limits: .standard)
        #expect(ranges.count == 4 + 1)
        let jammy = ranges.filter { $0.ecosystem == "Ubuntu:22.04" }
        #expect(jammy == [AdvisoryRange(vulnerability: "CVE-2024-51988", ecosystem: "Ubuntu:22.04", package: "rabbitmq-server",
                                        fixed: "3.9.27-0ubuntu0.1", vendorSeverity: "medium", cvss: 6.5, advisory: "USN-7100-1")])
        let focal = ranges.filter { $0.ecosystem == "Ubuntu:20.04" }.map(\.fixed)
        #expect(Set(focal) == ["3.8.3-0ubuntu0.1", "3.8.3-0ubuntu0.2"])
    }

    @Test func boundsAndDamage() async throws {
        let zip = try AdvisoryFixture.path("osv/debian-all.zip")
        var limits = FeedLimits.standard
        limits.maxRecords = 2
        #expect(await feedFailure { _ = try await OSVFeed.read(path: zip, kind: .osv, limits: limits) } == .tooLarge)
        limits = .standard
        limits.maxBytes = 1000
        #expect(await feedFailure { _ = try await OSVFeed.read(path: zip, kind: .osv, limits: limits) } == .tooLarge)
        limits = .standard
        // record { affected [ { ranges [ { events [ { : seven levels.
        limits.maxDepth = 6
        #expect(await feedFailure { _ = try await OSVFeed.read(path: zip, kind: .osv, limits: limits) } == .malformed)
        limits.maxDepth = 7
        #expect(try await OSVFeed.read(path: zip, kind: .osv, limits: limits).count == 4)

        let dir = try ScratchDirectory()
        try dir.write("deep.json", Data((String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8))
        #expect(await feedFailure { _ = try await OSVFeed.read(path: dir.file("deep.json"), kind: .osv, limits: .standard) } == .malformed)
        try dir.write("bad.json", Data("{\"id\": \"DSA-1\", \"affected\": [{\"package\": 5}]}".utf8))
        #expect(await feedFailure { _ = try await OSVFeed.read(path: dir.file("bad.json"), kind: .osv, limits: .standard) } == .malformed)
        try dir.write("cut.json", Data("{\"id\": \"DSA-1\", \"affected\": [".utf8))
        #expect(await feedFailure { _ = try await OSVFeed.read(path: dir.file("cut.json"), kind: .osv, limits: .standard) } == .malformed)
        let tarXZ = try Data(contentsOf: URL(fileURLWithPath: try AdvisoryFixture.path("ubuntu/osv-all.tar.xz")))
        try dir.write("cut.tar.xz", tarXZ.prefix(tarXZ.count / 2))
        #expect(await feedFailure { _ = try await OSVFeed.read(path: dir.file("cut.tar.xz"), kind: .ubuntu, limits: .standard) } == .truncated)
        let zipData = try Data(contentsOf: URL(fileURLWithPath: zip))
        try dir.write("cut.zip", zipData.prefix(zipData.count - 40))
        #expect(await feedFailure { _ = try await OSVFeed.read(path: dir.file("cut.zip"), kind: .osv, limits: .standard) } == .truncated)
        #expect(await feedFailure { _ = try await OSVFeed.read(path: zip, kind: .kev, limits: .standard) } == .unsupported)
        #expect(await feedFailure { _ = try await OSVFeed.read(path: dir.file("absent.zip"), kind: .osv, limits: .standard) } == .io)
    }
}
