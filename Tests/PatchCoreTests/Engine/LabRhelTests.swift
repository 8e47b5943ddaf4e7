import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// Scans and deployments against the lab's RHEL-family endpoint: the lab's sshd chrooting port
/// LAB_RHEL_PORT into a Rocky Linux 9 look-alike where Debian's real dnf 4 and rpm manage the
/// lab's rpm packages (lab/build-rhel.sh). The independent answer is always dnf's or rpm's own,
/// run directly in the tree; each test starts from a fresh tree (lab/rhel.sh reset).
@Suite("Scan and deploy against the lab's real sshd and dnf", .serialized, .enabled(if: Lab.rhelEnabled))
struct LabRhelTests {
    static let openssl = "patchlab-openssl-lib", utils = "patchlab-utils", long = "patchlab-python3-extremely-long-package-name-wraps"

    /// rpm's own answer in the tree: name → `[EPOCH:]VERSION-RELEASE` (epoch only when not 0).
    static func installed(_ names: [String]) throws -> [String: String] {
        var versions: [String: String] = [:]
        let output = try Lab.inChroot(try Lab.rhelRoot(), ["rpm", "-q", "--qf", "%{NAME} %{EPOCHNUM} %{VERSION}-%{RELEASE}\n"] + names)
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3 else { continue }
            versions[String(fields[0])] = (fields[1] == "0" ? "" : "\(fields[1]):") + fields[2]
        }
        return versions
    }

    /// dnf's own list of upgrades in the tree, newest per name: name → (evr, arch, repository).
    static func dnfUpgrades(_ filters: [String] = []) throws -> [String: (evr: String, arch: String, repo: String)] {
        let output = try Lab.inChroot(try Lab.rhelRoot(), ["dnf", "-q", "-C", "repoquery", "--upgrades", "--latest-limit", "1"] + filters
                                      + ["--qf", "%{name} %{evr} %{arch} %{reponame}"])
        var upgrades: [String: (evr: String, arch: String, repo: String)] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 4 { upgrades[String(fields[0])] = (String(fields[1]), String(fields[2]), String(fields[3])) }
        }
        return upgrades
    }

    @Test func scanEqualsDnfsOwnAnswer() async throws {
        try await Lab.withRhelEndpoint {
            let host = try Lab.resetRhel()
            let scan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(scan.status == .ok, "\(scan.error ?? "")")
            #expect(scan.os?.family == .rhel && scan.os?.id == "rocky" && scan.os?.version == "9.5" && scan.os?.codename == "Blue Onyx")

            // Versions, architectures and repositories: `dnf repoquery --upgrades` in the tree.
            let upgrades = try Self.dnfUpgrades()
            #expect(Set(upgrades.keys) == [Self.openssl, Self.utils, Self.long])
            #expect(Set(scan.updates.map(\.name)) == Set(upgrades.keys))
            for update in scan.updates {
                let dnf = try #require(upgrades[update.name])
                #expect(update.availableVersion == dnf.evr && update.architecture == dnf.arch, "\(update.name)")
                #expect(update.source.hasSuffix("(\(dnf.repo))") || update.source == dnf.repo, "\(update.name): \(update.source)")
            }
            // Installed versions: rpm's.
            let installed = try Self.installed(scan.updates.map(\.name))
            for update in scan.updates { #expect(update.installedVersion == installed[update.name], "\(update.name)") }

            // Security flag: dnf's `--security` filter; severity: the highest `--sec-severity` that still lists it.
            let security = try Self.dnfUpgrades(["--security"])
            for update in scan.updates { #expect(update.security == (security[update.name] != nil), "\(update.name)") }
            for update in scan.updates where update.security {
                let severity = try ["Critical", "Important", "Moderate", "Low"].first { try Self.dnfUpgrades(["--sec-severity=\($0)"])[update.name] != nil }
                #expect(update.severity == severity?.lowercased(), "\(update.name)")
            }
            let openssl = try #require(scan.updates.first { $0.name == Self.openssl })
            #expect(openssl.security && openssl.severity == "important" && openssl.source == "PLSA-2025:0003, PLSA-2025:0001 (patchlab-baseos)")
            #expect(scan.updates.first { $0.name == Self.utils }?.source == "PLBA-2025:0002 (patchlab-baseos)")
            // Issue 13: the advisory ids as a field of their own, from the real dnf.
            #expect(openssl.advisories == ["PLSA-2025:0003", "PLSA-2025:0001"])
            #expect(scan.updates.first { $0.name == Self.utils }?.advisories == ["PLBA-2025:0002"])
            let document = try JSONOutput.encode(ScanRun(runId: "20261204T000000Z-abcdef", startedAt: scan.startedAt, finishedAt: scan.finishedAt,
                                                         hosts: [scan]), pretty: true)
            JSONSchema.validate(document, schema: "scan-run")

            let count = try Lab.inChroot(try Lab.rhelRoot(), ["rpm", "-qa"]).split(separator: "\n").count
            #expect(scan.installedCount == count)
            #expect(scan.rebootRequired == false)
        }
    }

    @Test func rockyThatAlsoCarriesAptGetIsScannedWithDnf() async throws {
        // The scan script used to take the first family whose tools exist (apt-get first) while the
        // parser goes by os-release: such a host got apt's scan, then "scan output lacks the
        // check-update section". Its os-release says Rocky, so dnf scans it.
        try await Lab.withRhelEndpoint {
            let host = try Lab.resetRhel()
            let root = try Lab.rhelRoot(), ran = "/var/tmp/apt-get-ran"
            #expect(FileManager.default.isExecutableFile(atPath: root + "/usr/bin/dpkg-query"))
            // An apt-get that records being run (the tree's real one was purged when it was built).
            try "#!/bin/sh\necho \"$*\" >> \(ran)\n".write(toFile: root + "/usr/bin/apt-get", atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root + "/usr/bin/apt-get")
            defer { try? FileManager.default.removeItem(atPath: root + "/usr/bin/apt-get") }
            let scan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(scan.status == .ok, "\(scan.error ?? "")")
            #expect(scan.os?.family == .rhel && scan.os?.id == "rocky")
            #expect(Set(scan.updates.map(\.name)) == Set(try Self.dnfUpgrades().keys))
            #expect(!FileManager.default.fileExists(atPath: root + ran), "apt-get ran: \((try? String(contentsOfFile: root + ran, encoding: .utf8)) ?? "")")
        }
    }

    @Test func refreshRunsMakecacheFirst() async throws {
        try await Lab.withRhelEndpoint {
            let host = try Lab.resetRhel()
            // Without a cache a plain scan fails and says how to get one; --refresh makes it.
            try FileManager.default.removeItem(atPath: try Lab.rhelRoot() + "/var/cache/dnf")
            let cold = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(cold.status == .error)
            #expect(cold.error?.contains("no metadata cache yet: scan with --refresh") == true, "\(cold.error ?? "")")
            let refreshed = try #require(await Lab.scan([host], try Lab.options(), refresh: true).first)
            #expect(refreshed.status == .ok, "\(refreshed.error ?? "")")
            #expect(refreshed.updates.count == 3)
        }
    }

    @Test func securityDeployUpgradesOnlyTheAdvisoryPackageToItsExactVersion() async throws {
        try await Lab.withRhelEndpoint {
            let host = try Lab.resetRhel()
            let inventory = try LabDeployTests.inventory([host])
            let before = try Self.installed([Self.openssl, Self.utils, Self.long])
            #expect(before == [Self.openssl: "1.0-1.el9", Self.utils: "1:1.0-1.el9", Self.long: "1.0-1.el9"])

            // A minimum severity above the advisory's: nothing to do.
            let critical = try LabDeployTests.policy("name: rhel-critical\ntargets: fleet\nrefresh: false\nselect: {updates: security, min_severity: critical}\n")
            let (strict, _) = try await LabDeployTests.deploy(policy: critical, inventory: inventory, dryRun: true)
            #expect(strict.hosts.first?.planned.isEmpty == true)
            #expect(strict.hosts.first?.skipped.contains { $0.name == Self.openssl && $0.reason == "severity high (important) below minimum critical" } == true)

            let policy = try LabDeployTests.policy("name: rhel-security\ntargets: fleet\napproval: auto\nreboot: never\nrefresh: false\nselect: security\n")
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: inventory)
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "") \(result.steps.map(\.output))")
            #expect(result.os?.id == "rocky")
            #expect(result.commands.contains { $0.hasSuffix("-y upgrade -- patchlab-openssl-lib-1.1-1.el9.x86_64") })
            #expect(result.installed == [InstalledPackage(name: Self.openssl, fromVersion: "1.0-1.el9", toVersion: "1.1-1.el9")])
            #expect(Set(result.skipped.map(\.name)) == [Self.utils, Self.long])
            // rpm agrees: 1.1 exactly (not just "newer"), and nothing else moved.
            #expect(try Self.installed([Self.openssl, Self.utils, Self.long]) == [Self.openssl: "1.1-1.el9", Self.utils: "1:1.0-1.el9", Self.long: "1.0-1.el9"])
            // needs-restarting lists patchlab-openssl-lib: installed after boot, a reboot is pending...
            #expect(result.rebootRequired == true)
            // ...until the endpoint "boots" again.
            try Lab.rhel(["boot"])
            let rescan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(rescan.rebootRequired == false && !rescan.updates.contains { $0.name == Self.openssl })
        }
    }

    @Test func allDeployUpgradesEveryNamedPackageIncludingEpochs() async throws {
        try await Lab.withRhelEndpoint {
            let host = try Lab.resetRhel()
            let policy = try LabDeployTests.policy("name: rhel-all\ntargets: fleet\napproval: auto\nreboot: never\nrefresh: false\nselect: all\n")
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: try LabDeployTests.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "") \(result.steps.map(\.output))")
            #expect(Set(result.installed.map(\.name)) == [Self.openssl, Self.utils, Self.long])
            #expect(result.installed.first { $0.name == Self.utils }?.toVersion == "1:2.0-1.el9")
            #expect(try Self.installed([Self.openssl, Self.utils, Self.long, "patchlab-legacy"])
                    == [Self.openssl: "1.1-1.el9", Self.utils: "1:2.0-1.el9", Self.long: "1.0-2.el9", "patchlab-legacy": "1.0-1.el9"])
            // dnf agrees nothing is left (the obsoletion is not an update of an installed name).
            #expect(try Self.dnfUpgrades().isEmpty)
            let rescan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(rescan.status == .ok && rescan.updates.isEmpty, "\(rescan.error ?? "")")
        }
    }

    @Test func duplicatePackagesStopTheDeployWithTheirRepair() async throws {
        try await Lab.withRhelEndpoint {
            let host = try Lab.resetRhel()
            try Lab.rhel(["break-rpm"])
            let policy = try LabDeployTests.policy("name: rhel-broken\ntargets: fleet\nrefresh: false\nselect: security\n")
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: try LabDeployTests.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .error)
            #expect(result.error?.contains("is a duplicate with") == true, "\(result.error ?? "")")
            #expect(result.repair?.hasPrefix("dnf remove --duplicates") == true)
            #expect(result.installed.isEmpty)
            #expect(try Self.installed([Self.openssl])[Self.openssl] == "1.0-1.el9")
        }
    }
}
