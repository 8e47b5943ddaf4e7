import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// Scans and deployments against the lab's Debian 13 endpoint: the lab's sshd chrooting port
/// LAB_TRIXIE_PORT into a `debootstrap --variant=minbase trixie` tree with apt 3.0, trixie-security
/// and the lab's own repository (lab/build-trixie.sh). The independent answer is apt's or dpkg's own,
/// run directly in the tree with apt's configuration as the tree ships it; each test starts from a
/// fresh tree (lab/trixie.sh reset).
@Suite("Scan and deploy against the lab's real sshd and Debian 13's apt 3.0", .serialized, .enabled(if: Lab.trixieEnabled))
struct LabTrixieTests {
    typealias Listed = (version: String, installed: String, architecture: String, security: Bool)

    /// `apt list --upgradable` in the tree: name → candidate, installed version, architecture, and whether
    /// a suite offering it is a security suite (`stable-security`, the lab's `lab-security`).
    static func aptList() throws -> [String: Listed] {
        var listed: [String: Listed] = [:]
        // `NAME/SUITE[,SUITE...] VERSION ARCH [upgradable from: INSTALLED]`
        for line in try Lab.inChroot(try Lab.trixieRoot(), ["apt", "list", "--upgradable"]).split(separator: "\n")
        where line.hasSuffix("]") && line.contains(" [upgradable from: ") {
            let fields = line.split(separator: " ")
            let nameAndSuites = fields[0].split(separator: "/")
            let suites = nameAndSuites[1].split(separator: ",")
            listed[String(nameAndSuites[0])] = (String(fields[1]), String(fields[5].dropLast()), String(fields[2]),
                                                suites.contains { $0.hasSuffix("-security") })
        }
        return listed
    }

    /// dpkg's own answer in the tree: name → version of fully installed packages.
    static func installed(_ names: [String]) throws -> [String: String] {
        try LabDeployTests.installed(try Lab.trixieRoot(), names)
    }

    @Test func scanEqualsAptListUpgradable() async throws {
        try await Lab.withTrixieEndpoint {
            let host = try Lab.resetTrixie()
            let root = try Lab.trixieRoot()
            // apt's configuration as shipped: every file in apt.conf.d belongs to a package (nothing the lab added).
            for file in try FileManager.default.contentsOfDirectory(atPath: root + "/etc/apt/apt.conf.d") {
                #expect(!(try Lab.inChroot(root, ["dpkg-query", "-S", "/etc/apt/apt.conf.d/" + file]).isEmpty), "\(file) is not a package's")
            }
            #expect(try Lab.inChroot(root, ["dpkg-query", "-W", "-f=${Version}", "apt"]).hasPrefix("3."))

            // The host as the shipped inventory names it (inventories/lab-debian13.yml), read as patchctl reads it.
            let inventory = try Inventory.load(path: Lab.repository.appendingPathComponent("inventories/lab-debian13.yml").path)
            let named = try #require(inventory.hosts.first { $0.name == "lab-debian13" })
            #expect(named.address == host.address && named.port == host.port && named.user == "root")
            let scan = try #require(await Lab.scan([named], try Lab.options()).first)
            #expect(scan.status == .ok, "\(scan.error ?? "")")
            #expect(scan.os?.family == .debian && scan.os?.id == "debian" && scan.os?.version == "13" && scan.os?.codename == "trixie")

            let listed = try Self.aptList()
            #expect(listed["patchlab-canary"]?.security == true && listed["patchlab-tool"]?.security == false)
            #expect(Set(scan.updates.map(\.name)) == Set(listed.keys))
            for update in scan.updates {
                let apt = try #require(listed[update.name])
                #expect(update.availableVersion == apt.version && update.installedVersion == apt.installed, "\(update.name)")
                #expect(update.architecture == apt.architecture, "\(update.name)")
                #expect(update.security == apt.security, "\(update.name): \(update.source)")
            }
            // Debian's own security updates of the day, if any, come as trixie-security's label.
            for update in scan.updates where update.security && !update.name.hasPrefix("patchlab-") {
                #expect(update.source.contains("Debian-Security:13/stable-security"), "\(update.name): \(update.source)")
            }

            let packages = try Lab.inChroot(root, ["dpkg-query", "-W", "-f=${db:Status-Abbrev}\n"]).split(separator: "\n")
            #expect(scan.installedCount == packages.filter { $0.hasPrefix("ii") }.count)
            #expect(scan.rebootRequired == false)
        }
    }

    @Test func securityDeployInstallsExactlyTheSecurityUpdates() async throws {
        try await Lab.withTrixieEndpoint {
            let host = try Lab.resetTrixie()
            let listed = try Self.aptList()
            let security = Set(listed.filter { $0.value.security }.keys), others = Set(listed.filter { !$0.value.security }.keys)
            #expect(security.contains("patchlab-canary") && others.contains("patchlab-tool"))
            #expect(try Self.installed(Array(listed.keys)) == listed.mapValues { $0.installed })

            let policy = try LabDeployTests.policy("name: trixie-security\ntargets: fleet\napproval: auto\nreboot: never\nrefresh: false\nselect: security\n")
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: try LabDeployTests.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "") \(result.steps.map(\.output))")
            #expect(result.os?.version == "13")
            #expect(Set(result.installed.map(\.name)) == security)
            for package in result.installed {
                #expect(package.fromVersion == listed[package.name]?.installed && package.toVersion == listed[package.name]?.version, "\(package.name)")
            }
            #expect(Set(result.skipped.map(\.name)) == others)

            // dpkg agrees: the security updates at their candidates exactly, everything else where it was.
            var expected = listed.mapValues { $0.installed }
            for name in security { expected[name] = listed[name]?.version }
            #expect(try Self.installed(Array(listed.keys)) == expected)
            // And apt: only the others are left; patchlab-canary's postinst asked for a reboot.
            #expect(Set(try Self.aptList().keys) == others)
            let rescan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(rescan.status == .ok && Set(rescan.updates.map(\.name)) == others, "\(rescan.error ?? "")")
            #expect(rescan.rebootRequired == true && rescan.rebootPackages == ["patchlab-canary"])
        }
    }
}
