import Foundation
import Testing
@testable import PatchCore

/// Issue 12: a scan of the lab's real Debian 12 endpoint, matched against ranges written for its
/// real pending updates' source packages; the expected mapping is computed without patchctl,
/// from dpkg-query and apt-cache run in the same tree.
@Suite("Scan of the lab's Debian endpoint matched against advisories", .serialized, .enabled(if: Lab.enabled))
struct LabAdvisoryScanTests {
    @Test func eachPendingUpdateNamesExactlyTheCVEsItsSourceCandidateFixes() async throws {
        let root = try Lab.value("LAB_ROOT")
        // The independent answer: each installed binary's source, each pending candidate's source version.
        var sourceOf: [String: (name: String, version: String)] = [:]
        var binariesOf: [String: [String]] = [:]
        let dpkg = try Lab.inChroot(root, ["dpkg-query", "-W", "-f=${Package}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n"])
        for line in dpkg.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 4, fields[3].hasPrefix("ii") else { continue }
            sourceOf[fields[0]] = (fields[1], fields[2])
            binariesOf[fields[1], default: []].append(fields[0])
        }
        let simulation = try Lab.inChroot(root, ["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"])
        let pending = try DebianPlatform.parseSimulation(simulation)
        #expect(pending.count >= 2, "the lab tree should have pending updates")
        var candidateSource: [String: String] = [:]
        for update in pending {
            let show = try Lab.inChroot(root, ["apt-cache", "show", "--no-all-versions", "\(update.name)=\(update.availableVersion)"])
            // `Source: NAME (VERSION)` when the source version differs from the binary's, `Source: NAME` or nothing otherwise.
            let sourceLine = show.split(separator: "\n").first { $0.hasPrefix("Source: ") }
            let version = sourceLine.flatMap { line in line.firstIndex(of: "(").map { String(line[line.index(after: $0)..<line.index(before: line.endIndex)]) } }
            candidateSource[try #require(sourceOf[update.name]).name] = version ?? update.availableVersion
        }

        // Per pending source: a CVE its candidate fixes, a decoy fixed at the installed version, a TEMP- id.
        // One source also gets an open CVE, one a fix beyond the candidate; an unrelated source an open one.
        let feeds = try AdvisoryTestStore()
        let tracker = try feeds.feed(.debianTracker)
        let sources = candidateSource.keys.sorted()
        var ranges: [AdvisoryRange] = []
        for (index, source) in sources.enumerated() {
            let installed = try #require(binariesOf[source]?.first.flatMap { sourceOf[$0]?.version })
            ranges += [
                AdvisoryRange(vulnerability: "CVE-2099-\(10_000 + index)", ecosystem: "Debian:12", package: source, fixed: candidateSource[source], vendorSeverity: "high"),
                AdvisoryRange(vulnerability: "CVE-2099-\(20_000 + index)", ecosystem: "Debian:12", package: source, fixed: installed, vendorSeverity: "low"),
                AdvisoryRange(vulnerability: "TEMP-0999999-\(index)", ecosystem: "Debian:12", package: source, fixed: candidateSource[source]),
            ]
        }
        ranges.append(AdvisoryRange(vulnerability: "CVE-2099-30000", ecosystem: "Debian:12", package: sources[0], fixed: nil, vendorSeverity: "medium"))
        ranges.append(AdvisoryRange(vulnerability: "CVE-2099-30001", ecosystem: "Debian:12", package: sources[1],
                                    fixed: candidateSource[sources[1]]! + "+deb99u1", vendorSeverity: "critical"))
        ranges.append(AdvisoryRange(vulnerability: "CVE-2099-30002", ecosystem: "Debian:12", package: "bash", fixed: nil, vendorSeverity: "low"))
        try feeds.add(ranges, feed: tracker)
        try feeds.kev("CVE-2099-10000")

        let options = ScanOptions(forks: 2, advisories: try feeds.index())
        let results = await ScanRunner(engine: HostFanOut(options: try Lab.options())).scan([try Lab.host()], options: options)
        let scan = try #require(results.first)
        #expect(scan.status == .ok, "\(scan.error ?? "")")
        #expect(Set(scan.updates.map(\.name)) == Set(pending.map(\.name)))
        for update in scan.updates {
            let source = try #require(sourceOf[update.name]?.name)
            let index = try #require(sources.firstIndex(of: source))
            let id = "CVE-2099-\(10_000 + index)"
            #expect(update.cves == [CVEReference(id: id, severity: .high, vendorSeverity: "high", kev: id == "CVE-2099-10000",
                                                 fixedVersion: candidateSource[source], source: "debian-tracker")], "\(update.name) from \(source)")
        }
        #expect(scan.unfixedCVEs.map(\.id) == ["CVE-2099-30000", "CVE-2099-30001", "CVE-2099-30002"])
        for (unfixed, source) in zip(scan.unfixedCVEs, [sources[0], sources[1], "bash"]) {
            let binaries = try #require(binariesOf[source]).sorted()
            #expect(unfixed.source == source && unfixed.packages == binaries && unfixed.package == binaries[0])
        }
        #expect(scan.unfixedCVEs[1].fixedVersion == candidateSource[sources[1]]! + "+deb99u1" && scan.unfixedCVEs[1].severity == .critical)
        #expect(scan.unfixedCVEs[0].fixedVersion == nil && scan.unfixedCVEs[2].fixedVersion == nil)
    }
}
