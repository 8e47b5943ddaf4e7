import Foundation
import GRDB
import Testing
@testable import PatchCore

/// A history database with advisory feeds in it, written row by row as `advisories sync` stores them.
struct AdvisoryTestStore {
    let store: HistoryStore

    init() throws {
        store = try HistoryStore(path: try Lab.temporaryDirectory().appendingPathComponent("history.db").path)
    }

    @discardableResult
    func feed(_ kind: AdvisoryFeedKind, _ location: String = "test") throws -> Int64 {
        try store.write { db in
            try db.execute(sql: "INSERT INTO advisory_feeds (kind, location, synced_at, record_count) VALUES (?, ?, ?, 0)",
                           arguments: [kind.rawValue, location, Date()])
            return db.lastInsertedRowID
        }
    }

    func add(_ ranges: [AdvisoryRange], feed: Int64) throws {
        try store.write { db in
            for range in ranges {
                try db.execute(sql: """
                    INSERT INTO advisory_ranges (feed_id, vulnerability, ecosystem, package, introduced, fixed, vendor_severity, severity, cvss, advisory)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [feed, range.vulnerability, range.ecosystem, range.package, range.introduced, range.fixed,
                                     range.vendorSeverity, range.severity.name, range.cvss, range.advisory])
            }
        }
    }

    func kev(_ cve: String) throws {
        let feed = try self.feed(.kev, "kev-\(cve)")
        try store.write { db in
            try db.execute(sql: "INSERT INTO kev (cve, feed_id, vendor, product, name, date_added) VALUES (?, ?, 'v', 'p', 'n', '2026-01-01')",
                           arguments: [cve, feed])
        }
    }

    func epss(_ cve: String, _ score: Double) throws {
        let feed = try self.feed(.epss, "epss-\(cve)")
        try store.write { db in
            try db.execute(sql: "INSERT INTO epss (cve, feed_id, score, percentile) VALUES (?, ?, ?, 0.5)", arguments: [cve, feed, score])
        }
    }

    func index() throws -> AdvisoryIndex {
        try #require(try AdvisoryIndex.open(store))
    }
}

@Suite("Advisories matched to a host's updates and installed packages")
struct AdvisoryMatcherTests {
    static let bookworm = OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm")

    /// The lab's Debian 12 scan recorded on one day: `apt-get -s` and the binaries section (SOURCE.md).
    static func labFindings() throws -> ScanFindings {
        let apt = try Fixture.text("debian12/apt-get-s-dist-upgrade-source-day.txt")
        let binaries = try Fixture.text("debian12/dpkg-query-source.txt")
        return try DebianPlatform(os: bookworm).parseScan(
            "@@patchctl apt\n\(apt)\n@@patchctl apt-exit\n0\n@@patchctl binaries\n\(binaries)@@patchctl reboot\nnone\n")
    }

    static func range(_ cve: String, _ package: String, introduced: String = "0", fixed: String?, urgency: String? = "medium",
                      ecosystem: String = "Debian:12", cvss: Double? = nil) -> AdvisoryRange {
        AdvisoryRange(vulnerability: cve, ecosystem: ecosystem, package: package, introduced: introduced, fixed: fixed,
                      vendorSeverity: urgency, cvss: cvss)
    }

    // MARK: The scan's binaries section

    @Test func binariesSectionReadsEveryInstalledPackageWithItsSource() throws {
        let findings = try Self.labFindings()
        #expect(findings.installedBinaries.count == 102 && findings.installedCount == 102)
        let byName = Dictionary(uniqueKeysWithValues: findings.installedBinaries.map { ($0.name, $0) })
        #expect(byName["bash"] == InstalledBinary(name: "bash", architecture: "amd64", version: "5.2.15-2+b13", sourceName: "bash", sourceVersion: "5.2.15-2"))
        #expect(byName["bsdutils"] == InstalledBinary(name: "bsdutils", architecture: "amd64", version: "1:2.38.1-5+deb12u3",
                                                      sourceName: "util-linux", sourceVersion: "2.38.1-5+deb12u3"))
        #expect(byName["libpam-runtime"]?.architecture == "all" && byName["libpam-runtime"]?.sourceName == "pam")
        #expect(findings.updates.count == 14)
        #expect(DebianPlatform.scanCommand(refresh: false).contains(
            "dpkg-query -W -f='${Package}\\t${Architecture}\\t${Version}\\t${source:Package}\\t${source:Version}\\t${db:Status-Abbrev}\\n'"))
    }

    @Test func binariesSectionIsBoundedAndValidated() {
        let text = [
            "libfoo1\tamd64\t1.0-1+b1\t\t\tii ",                        // no source fields: its own name and version
            "half\tamd64\t1.0\thalf\t1.0\tiU ",                          // not fully installed
            "-oAPT::x\tamd64\t1.0\tsrc\t1.0\tii ",                       // not a package name
            "evil\tamd64\t1.0$(id)\tevil\t1.0\tii ",                     // not a version
            "ok\tamd64\t2.0\tsrc\t2.0\tii ",
            "short\tamd64",                                             // truncated row
        ].joined(separator: "\n")
        #expect(DebianPlatform.parseBinaries(text) == [
            InstalledBinary(name: "libfoo1", architecture: "amd64", version: "1.0-1+b1", sourceName: "libfoo1", sourceVersion: "1.0-1+b1"),
            InstalledBinary(name: "ok", architecture: "amd64", version: "2.0", sourceName: "src", sourceVersion: "2.0"),
        ])
        let many = String(repeating: "pkg\tamd64\t1.0\tpkg\t1.0\tii \n", count: DebianPlatform.maxBinaries + 10)
        #expect(DebianPlatform.parseBinaries(many).count == DebianPlatform.maxBinaries)
    }

    // MARK: The candidate's source version

    @Test func candidateSourceVersionFollowsTheInstalledBinarysRule() {
        let derive = AdvisoryMatcher.sourceVersion
        #expect(derive("1:1.2.13.dfsg-1+deb12u1", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1") == "1:1.2.13.dfsg-1+deb12u1")
        // binNMU: bash 5.2.15-2+b13 from bash 5.2.15-2.
        #expect(derive("5.2.15-3+b1", "5.2.15-2+b13", "5.2.15-2") == "5.2.15-3")
        #expect(derive("5.2.15-3", "5.2.15-2+b13", "5.2.15-2") == "5.2.15-3")
        // An epoch the source lacks: bsdutils 1:2.38.1-5+deb12u3 from util-linux 2.38.1-5+deb12u3.
        #expect(derive("1:2.38.1-5+deb12u4", "1:2.38.1-5+deb12u3", "2.38.1-5+deb12u3") == "2.38.1-5+deb12u4")
        // Both, the epoch shared: libcap2 1:2.66-4+deb12u3+b1 from libcap2 1:2.66-4+deb12u3.
        #expect(derive("1:2.66-4+deb12u4+b1", "1:2.66-4+deb12u3+b1", "1:2.66-4+deb12u3") == "1:2.66-4+deb12u4")
        // Versioned apart from the source: no rule.
        #expect(derive("12.3-1", "12.2-1", "1.5-3") == nil)
        #expect(derive("1.0+b1x", "1.0+b1x", "1.0") == nil)
    }

    // MARK: Matching the recorded lab scan

    @Test func labScanMatchesExactlyWhatTheFeedSaysTheCandidateFixes() throws {
        let feeds = try AdvisoryTestStore()
        let tracker = try feeds.feed(.debianTracker)
        try feeds.add([
            // perl: fixed by the candidate, fixed before the installed version, open, fixed beyond the candidate.
            Self.range("CVE-2026-90001", "perl", fixed: "5.36.0-7+deb12u4", urgency: "high"),
            Self.range("CVE-2026-90002", "perl", fixed: "5.36.0-7+deb12u2"),
            Self.range("CVE-2026-90003", "perl", fixed: nil, urgency: "unimportant"),
            Self.range("CVE-2026-90004", "perl", fixed: "5.36.0-7+deb12u5", urgency: "low"),
            // zlib: an epoch in the installed, candidate and fixed versions.
            Self.range("CVE-2026-90010", "zlib", fixed: "1:1.2.13.dfsg-1+deb12u1", urgency: "low**"),
            // pam: every binary of the source names it.
            Self.range("CVE-2026-90020", "pam", fixed: "1.5.2-6+deb12u3", urgency: nil, cvss: 9.8),
            // bash (5.2.15-2+b13 from bash 5.2.15-2, nothing pending): open, and one fixed at exactly the installed source.
            Self.range("CVE-2026-90030", "bash", fixed: nil, urgency: "medium"),
            Self.range("CVE-2026-90031", "bash", fixed: "5.2.15-2"),
            // Not affected at all (the tracker's fixed_version "0"), and a TEMP- id that should never have been stored.
            Self.range("CVE-2026-90040", "xz-utils", fixed: "0"),
            Self.range("TEMP-0000000-ABCDEF", "xz-utils", fixed: "5.4.1-1+deb12u2"),
            // Another release's range, and a package the host does not have.
            Self.range("CVE-2026-90050", "perl", fixed: "5.40.1-1", ecosystem: "Debian:13"),
            Self.range("CVE-2026-90060", "nginx", fixed: nil),
        ], feed: tracker)
        try feeds.kev("CVE-2026-90001")
        try feeds.epss("CVE-2026-90001", 0.93)

        var findings = try Self.labFindings()
        let index = try feeds.index()
        try index.match(&findings, os: Self.bookworm)
        let cves = Dictionary(uniqueKeysWithValues: findings.updates.map { ($0.name, $0.cves) })

        #expect(cves["perl-base"] == [CVEReference(id: "CVE-2026-90001", severity: .high, vendorSeverity: "high", kev: true, epss: 0.93,
                                                   fixedVersion: "5.36.0-7+deb12u4", source: "debian-tracker")])
        #expect(cves["zlib1g"] == [CVEReference(id: "CVE-2026-90010", severity: .low, vendorSeverity: "low**",
                                                fixedVersion: "1:1.2.13.dfsg-1+deb12u1", source: "debian-tracker")])
        let pam = CVEReference(id: "CVE-2026-90020", severity: .critical, cvss: 9.8, fixedVersion: "1.5.2-6+deb12u3", source: "debian-tracker")
        for name in ["libpam0g", "libpam-modules", "libpam-modules-bin", "libpam-runtime"] { #expect(cves[name] == [pam], "\(name)") }
        let named = Set(["perl-base", "zlib1g", "libpam0g", "libpam-modules", "libpam-modules-bin", "libpam-runtime"])
        let others = findings.updates.filter { !named.contains($0.name) }
        #expect(others.count == 8 && others.allSatisfy { $0.cves.isEmpty })
        #expect(findings.updates.first { $0.name == "perl-base" }?.normalizedSeverity == .high)
        #expect(findings.updates.first { $0.name == "perl-base" }?.fixesKEV == true)

        #expect(findings.unfixedCVEs == [
            UnfixedCVE(id: "CVE-2026-90003", package: "perl-base", packages: ["perl-base"], source: "perl", severity: .none,
                       vendorSeverity: "unimportant", feed: "debian-tracker"),
            UnfixedCVE(id: "CVE-2026-90004", package: "perl-base", packages: ["perl-base"], source: "perl", severity: .low,
                       vendorSeverity: "low", fixedVersion: "5.36.0-7+deb12u5", feed: "debian-tracker"),
            UnfixedCVE(id: "CVE-2026-90030", package: "bash", packages: ["bash"], source: "bash", severity: .medium,
                       vendorSeverity: "medium", feed: "debian-tracker"),
        ])
        // Memory holds the ecosystem of the hosts matched, not every synced one.
        #expect(index.loadedEcosystems == ["Debian:12"])
    }

    @Test func theDistributionsTrackerWinsOverOSVPerCVEAndPackage() throws {
        let feeds = try AdvisoryTestStore()
        // OSV first (a lower feed id): the order rows come in must not decide.
        let osv = try feeds.feed(.osv)
        let tracker = try feeds.feed(.debianTracker)
        try feeds.add([
            // Both speak of it: OSV says fixed beyond the candidate, the tracker says the candidate fixes it.
            Self.range("CVE-2026-91001", "xz-utils", fixed: "5.4.1-1+deb12u3", urgency: nil, cvss: 5.5),
            // Only OSV speaks of it: its word stands, several introduced/fixed pairs, the installed version in the second.
            Self.range("CVE-2026-91002", "xz-utils", introduced: "0", fixed: "5.2.5-1", urgency: nil, cvss: 7.5),
            Self.range("CVE-2026-91002", "xz-utils", introduced: "5.4.0-1", fixed: "5.4.1-1+deb12u2", urgency: nil, cvss: 7.5),
            // OSV: in neither pair (fixed, then reintroduced later than the candidate).
            Self.range("CVE-2026-91003", "xz-utils", introduced: "0", fixed: "5.4.1-1", urgency: nil),
            Self.range("CVE-2026-91003", "xz-utils", introduced: "5.6.0-1", fixed: nil, urgency: nil),
        ], feed: osv)
        try feeds.add([Self.range("CVE-2026-91001", "xz-utils", fixed: "5.4.1-1+deb12u2", urgency: "medium")], feed: tracker)
        var findings = try Self.labFindings()
        try feeds.index().match(&findings, os: Self.bookworm)
        let lzma = try #require(findings.updates.first { $0.name == "liblzma5" })
        #expect(lzma.cves == [
            CVEReference(id: "CVE-2026-91001", severity: .medium, vendorSeverity: "medium", fixedVersion: "5.4.1-1+deb12u2", source: "debian-tracker"),
            CVEReference(id: "CVE-2026-91002", severity: .high, cvss: 7.5, fixedVersion: "5.4.1-1+deb12u2", source: "osv"),
        ])
        #expect(findings.unfixedCVEs.isEmpty)
    }

    @Test func epochsAndBinNMUsAreComparedAsSourceVersions() {
        // util-linux 2.38.1-5+deb12u3 builds bsdutils with an epoch (1:) and mount without; a binNMU'd libfoo.
        let installed = [
            InstalledBinary(name: "bsdutils", architecture: "amd64", version: "1:2.38.1-5+deb12u3", sourceName: "util-linux", sourceVersion: "2.38.1-5+deb12u3"),
            InstalledBinary(name: "mount", architecture: "amd64", version: "2.38.1-5+deb12u3", sourceName: "util-linux", sourceVersion: "2.38.1-5+deb12u3"),
            InstalledBinary(name: "libfoo1", architecture: "amd64", version: "1.0-1+b2", sourceName: "foo", sourceVersion: "1.0-1"),
            InstalledBinary(name: "gcc-tool", architecture: "amd64", version: "7.1-1", sourceName: "toolchain", sourceVersion: "30"),
        ]
        let updates = [
            PendingUpdate(name: "bsdutils", installedVersion: "1:2.38.1-5+deb12u3", availableVersion: "1:2.38.1-5+deb12u4", source: "s", security: true, architecture: "amd64"),
            PendingUpdate(name: "libfoo1", installedVersion: "1.0-1+b2", availableVersion: "1.0-1+deb12u1+b1", source: "s", security: true, architecture: "amd64"),
            PendingUpdate(name: "gcc-tool", installedVersion: "7.1-1", availableVersion: "7.2-1", source: "s", security: true, architecture: "amd64"),
        ]
        let vulnerabilities: [String: [PackageVulnerability]] = [
            "util-linux": [
                PackageVulnerability(id: "CVE-2026-92001", feed: .debianTracker, ranges: [Self.range("CVE-2026-92001", "util-linux", fixed: "2.38.1-5+deb12u4")]),
                // Beyond the candidate: read with bsdutils' epoch, 1:2.38.1-5+deb12u4 would pass for a fix.
                PackageVulnerability(id: "CVE-2026-92002", feed: .debianTracker, ranges: [Self.range("CVE-2026-92002", "util-linux", fixed: "2.38.1-5+deb12u5")]),
            ],
            "foo": [PackageVulnerability(id: "CVE-2026-92003", feed: .debianTracker, ranges: [Self.range("CVE-2026-92003", "foo", fixed: "1.0-1+deb12u1")])],
            "toolchain": [PackageVulnerability(id: "CVE-2026-92004", feed: .debianTracker, ranges: [Self.range("CVE-2026-92004", "toolchain", fixed: "31")])],
        ]
        let result = AdvisoryMatcher.match(updates: updates, installed: installed, data: AdvisoryData(scheme: .dpkg, vulnerabilities: vulnerabilities))
        #expect(result.updates.map { $0.cves.map(\.id) } == [["CVE-2026-92001"], ["CVE-2026-92003"], []])
        // The source's unfixed CVE names both its binaries; a candidate whose source version cannot be known fixes nothing.
        #expect(result.unfixed.map { [$0.id, $0.source, $0.packages.joined(separator: ","), $0.fixedVersion ?? "-"] } == [
            ["CVE-2026-92002", "util-linux", "bsdutils,mount", "2.38.1-5+deb12u5"],
            ["CVE-2026-92004", "toolchain", "gcc-tool", "31"],
        ])
    }

    @Test func endpointCVEsGainKEVAndEPSSAndNoFeedMeansNoIndex() throws {
        let feeds = try AdvisoryTestStore()
        #expect(try AdvisoryIndex.open(feeds.store) == nil, "nothing synced: nothing to match, nothing loaded")
        try feeds.kev("CVE-2025-10003")
        try feeds.epss("CVE-2025-10004", 0.12)
        let rocky = OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.5")
        var findings = ScanFindings(updates: [
            PendingUpdate(name: "patchlab-openssl-lib", installedVersion: "1.0-1.el9", availableVersion: "1.1-1.el9", source: "PLSA-2025:0003 (baseos)",
                          security: true, architecture: "x86_64", severity: "important", cves: [
                              CVEReference(id: "CVE-2025-10003", severity: .high, vendorSeverity: "Important", fixedVersion: "1.1-1.el9", source: "updateinfo"),
                              CVEReference(id: "CVE-2025-10004", severity: .high, vendorSeverity: "Important", fixedVersion: "1.1-1.el9", source: "updateinfo"),
                          ]),
        ], installedCount: 5, rebootRequired: false)
        let index = try feeds.index()
        try index.match(&findings, os: rocky)
        #expect(findings.updates[0].cves.map(\.kev) == [true, false])
        #expect(findings.updates[0].cves.map(\.epss) == [nil, 0.12])
        #expect(findings.updates[0].cves.map(\.source) == ["updateinfo", "updateinfo"])
        #expect(findings.unfixedCVEs.isEmpty)
    }
}

/// The matcher's own controller CPU per host (bench/advisories-scan.sh runs it on its generated
/// feed): the recorded lab scan matched against the database PATCHCTL_BENCH_ADVISORY_DB names.
/// Prints the figures; off unless that variable is set.
@Suite("Advisory matching CPU", .enabled(if: ProcessInfo.processInfo.environment["PATCHCTL_BENCH_ADVISORY_DB"] != nil))
struct AdvisoryMatchingBenchmark {
    static func cpu() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    @Test func matchingCPUPerHost() throws {
        let path = try #require(ProcessInfo.processInfo.environment["PATCHCTL_BENCH_ADVISORY_DB"])
        let index = try #require(try AdvisoryIndex.open(try HistoryStore(path: path)))
        let findings = try AdvisoryMatcherTests.labFindings()
        let os = AdvisoryMatcherTests.bookworm
        var first = findings
        let start = Self.cpu()
        try index.match(&first, os: os)
        let load = Self.cpu() - start
        let hosts = 200
        let cachedStart = Self.cpu()
        for _ in 0..<hosts {
            var copy = findings
            try index.match(&copy, os: os)
            #expect(copy.unfixedCVEs.count == first.unfixedCVEs.count)
        }
        let cached = (Self.cpu() - cachedStart) / Double(hosts)
        let data = try index.data(names: Ecosystem.of(os).names, scheme: .dpkg, extra: [])
        let uncachedStart = Self.cpu()
        for _ in 0..<hosts {
            let result = AdvisoryMatcher.match(updates: findings.updates, installed: findings.installedBinaries, data: data)
            #expect(result.unfixed.count == first.unfixedCVEs.count)
        }
        let uncached = (Self.cpu() - uncachedStart) / Double(hosts)
        print(String(format: "matching: first host (loading Debian:12, KEV, EPSS) %.1f ms; then per host %.3f ms with the run's verdict cache, %.3f ms without; %d update CVEs, %d unfixed",
                     load * 1000, cached * 1000, uncached * 1000, first.updates.reduce(0) { $0 + $1.cves.count }, first.unfixedCVEs.count))
    }
}
