import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// Scans and deployments against the lab's SUSE endpoint: the lab's sshd chrooting port
/// LAB_SUSE_PORT into a SLES 15 SP5 look-alike where Debian's real zypper 1.14, libzypp and rpm
/// manage the lab's rpm packages and patches (lab/build-suse.sh). The independent answer is always
/// zypper's or rpm's own, run directly in the tree; each test starts from a fresh tree (lab/suse.sh reset).
@Suite("Scan and deploy against the lab's real sshd and zypper", .serialized, .enabled(if: Lab.suseEnabled))
struct LabSuseTests {
    static let patch = "SUSE-SLE-Module-Basesystem-15-SP5-2025-"
    static let security = patch + "1001", utilsPatch = patch + "1002", rebootPatch = patch + "1003"
    static let names = ["patchlab-openssl", "libpatchlab-ssl3", "patchlab-utils", "patchlab-kernel-default", "patchlab-tool"]
    static let old = ["patchlab-openssl": "1.1.1-150500.1.1", "libpatchlab-ssl3": "1.1.1-150500.1.1", "patchlab-utils": "1.0-150500.1.1",
                      "patchlab-kernel-default": "5.14.21-150500.55.1", "patchlab-tool": "1.0-150500.1.1"]

    /// zypper in the tree (`--non-interactive --no-refresh`), stdout only.
    static func zypper(_ arguments: [String]) throws -> String {
        try Lab.inChroot(try Lab.suseRoot(), ["zypper", "--non-interactive", "--no-refresh"] + arguments)
    }

    /// The attributes of every `<update …>` start tag of a `--xmlout` list (zypper prints one per tag,
    /// attributes in double quotes), read with a regular expression, not patchctl's XML reader.
    static func xmlUpdates(_ arguments: [String]) throws -> [[String: String]] {
        let xml = try zypper(["--xmlout"] + arguments)
        let tag = try NSRegularExpression(pattern: "<update ([^>]*)>"), attribute = try NSRegularExpression(pattern: "([a-z-]+)=\"([^\"]*)\"")
        let text = xml as NSString
        return tag.matches(in: xml, range: NSRange(location: 0, length: text.length)).map { match in
            let attributes = text.substring(with: match.range(at: 1)) as NSString
            var values: [String: String] = [:]
            for pair in attribute.matches(in: attributes as String, range: NSRange(location: 0, length: attributes.length)) {
                values[attributes.substring(with: pair.range(at: 1))] = attributes.substring(with: pair.range(at: 2))
            }
            return values
        }
    }

    /// The packages `zypper patch --dry-run` with `filters` would upgrade (its "going to be upgraded" list).
    static func patchDryRun(_ filters: [String]) throws -> Set<String> {
        let output = try zypper(["patch", "--dry-run", "--with-interactive"] + filters)
        var names = Set<String>(), inList = false
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains("going to be upgraded:") { inList = true; continue }
            if inList, line.hasPrefix("  ") { names.formUnion(line.split(separator: " ").map(String.init)); continue }
            inList = false
        }
        return names
    }

    /// rpm's own answer in the tree: name → VERSION-RELEASE.
    static func installed() throws -> [String: String] {
        let output = try Lab.inChroot(try Lab.suseRoot(), ["rpm", "-q", "--qf", "%{NAME} %{VERSION}-%{RELEASE}\n"] + names)
        var versions: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count == 2 { versions[String(fields[0])] = String(fields[1]) }
        }
        return versions
    }

    /// `zypper needs-rebooting`'s exit code in the tree (102: reboot needed, 0: not).
    static func needsRebooting() throws -> Int? {
        Int(try Lab.inChroot(try Lab.suseRoot(), ["sh", "-c", "zypper needs-rebooting >/dev/null 2>&1; echo $?"]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func scanEqualsZyppersOwnAnswer() async throws {
        try await Lab.withSuseEndpoint {
            let host = try Lab.resetSuse()
            let scan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(scan.status == .ok, "\(scan.error ?? "")")
            #expect(scan.os?.family == .suse && scan.os?.id == "sles" && scan.os?.version == "15.5" && scan.os?.name == "SLES")

            // Names, versions, architectures, repositories: `zypper --xmlout list-updates`.
            let updates = try Self.xmlUpdates(["list-updates"])
            #expect(Set(updates.compactMap { $0["name"] }) == Set(Self.names))
            #expect(Set(scan.updates.map(\.name)) == Set(updates.compactMap { $0["name"] }), "every patch is tied to its packages")
            for update in scan.updates {
                let zypper = try #require(updates.first { $0["name"] == update.name })
                #expect(update.availableVersion == zypper["edition"] && update.installedVersion == zypper["edition-old"]
                        && update.architecture == zypper["arch"], "\(update.name)")
                #expect(update.source.hasPrefix("patchlab-sle-updates"), "\(update.name): \(update.source)")
            }
            // Patches: every needed one of `list-patches`, and nothing else, is some update's advisory.
            let patches = try Self.xmlUpdates(["list-patches"])
            #expect(Set(patches.compactMap { $0["name"] }) == [Self.security, Self.utilsPatch, Self.rebootPatch])
            #expect(Set(scan.updates.flatMap(\.advisories)) == Set(patches.compactMap { $0["name"] }))
            for patch in patches {
                let covered = scan.updates.filter { $0.advisories.contains(patch["name"] ?? "") }
                // Category and severity: what zypper lists for the patch, on each package it covers.
                #expect(!covered.isEmpty && covered.allSatisfy { $0.security == (patch["category"] == "security") && $0.severity == patch["severity"] },
                        "\(patch)")
            }
            // Which packages: zypper's own patch command, by category and by severity.
            #expect(Set(scan.updates.filter(\.security).map(\.name)) == (try Self.patchDryRun(["--category", "security"])))
            for severity in ["important", "moderate", "low"] {
                #expect(Set(scan.updates.filter { $0.severity == severity }.map(\.name)) == (try Self.patchDryRun(["--severity", severity])), "\(severity)")
            }
            let openssl = try #require(scan.updates.first { $0.name == "patchlab-openssl" })
            #expect(openssl.cves.map(\.id) == ["CVE-2025-20001", "CVE-2025-20002"] && openssl.source == "patchlab-sle-updates, patch:\(Self.security)")
            #expect(scan.updates.first { $0.name == "patchlab-tool" }.map { $0.advisories.isEmpty && !$0.security } == true, "no patch covers it")

            let count = try Lab.inChroot(try Lab.suseRoot(), ["rpm", "-qa"]).split(separator: "\n").count
            #expect(scan.installedCount == count)
            #expect(try Self.needsRebooting() == 0 && scan.rebootRequired == false)
        }
    }

    @Test func openSuseLeapIsDetectedFromItsOsRelease() async throws {
        try await Lab.withSuseEndpoint {
            let host = try Lab.resetSuse("leap")
            try Lab.suse(["os", "leap"])
            let scan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(scan.status == .ok, "\(scan.error ?? "")")
            #expect(scan.os?.family == .suse && scan.os?.id == "opensuse-leap" && scan.os?.version == "15.5" && scan.os?.name == "openSUSE Leap")
            #expect(Set(scan.updates.map(\.name)) == Set(Self.names))
        }
    }

    @Test func securityDeployInstallsExactlyTheSecurityPatch() async throws {
        try await Lab.withSuseEndpoint {
            let host = try Lab.resetSuse()
            #expect(try Self.installed() == Self.old)
            let policy = try LabDeployTests.policy("name: suse-security\ntargets: fleet\napproval: auto\nreboot: never\nrefresh: false\nselect: security\n")
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: try LabDeployTests.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "") \(result.steps.map(\.output))")
            #expect(result.os?.id == "sles")
            #expect(result.commands.contains { $0.contains("-- libpatchlab-ssl3=1.1.1-150500.3.1 patchlab-openssl=1.1.1-150500.3.1 patch:\(Self.security);") },
                    "\(result.commands)")
            #expect(result.installed.sorted { $0.name < $1.name }
                    == [InstalledPackage(name: "libpatchlab-ssl3", fromVersion: "1.1.1-150500.1.1", toVersion: "1.1.1-150500.3.1"),
                        InstalledPackage(name: "patchlab-openssl", fromVersion: "1.1.1-150500.1.1", toVersion: "1.1.1-150500.3.1")])
            #expect(Set(result.skipped.map(\.name)) == ["patchlab-utils", "patchlab-kernel-default", "patchlab-tool"])
            // rpm: the patch's two packages at its edition exactly, nothing else moved.
            var expected = Self.old
            expected["patchlab-openssl"] = "1.1.1-150500.3.1"
            expected["libpatchlab-ssl3"] = "1.1.1-150500.3.1"
            #expect(try Self.installed() == expected)
            // zypper: the security patch applied, the other two still needed, no reboot asked for.
            let patches = try Self.xmlUpdates(["list-patches", "--all"])
            #expect(patches.first { $0["name"] == Self.security }?["status"] == "applied")
            #expect(Set(patches.filter { $0["status"] == "needed" }.compactMap { $0["name"] }) == [Self.utilsPatch, Self.rebootPatch])
            #expect(try Self.needsRebooting() == 0 && result.rebootRequired == false)
        }
    }

    @Test func rebootFollowsThePatchThatSuggestsIt() async throws {
        try await Lab.withSuseEndpoint {
            let host = try Lab.resetSuse()
            let policy = try LabDeployTests.policy("name: suse-all\ntargets: fleet\napproval: auto\nreboot: never\nrefresh: false\nselect: all\n")
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: try LabDeployTests.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "") \(result.steps.map(\.output))")
            #expect(Set(result.installed.map(\.name)) == Set(Self.names))
            #expect(try Self.installed() == ["patchlab-openssl": "1.1.1-150500.3.1", "libpatchlab-ssl3": "1.1.1-150500.3.1", "patchlab-utils": "2.0-150500.1.1",
                                             "patchlab-kernel-default": "5.14.21-150500.55.7", "patchlab-tool": "1.1-150500.1.1"])
            // zypper: nothing left, every patch applied, and the reboot patch's request kept.
            #expect(try Self.xmlUpdates(["list-updates"]).isEmpty)
            #expect(try Self.xmlUpdates(["list-patches", "--all"]).allSatisfy { $0["status"] == "applied" })
            #expect(try Self.needsRebooting() == 102 && result.rebootRequired == true)
            // ...until the endpoint "boots" (a real boot empties /run).
            try Lab.suse(["boot"])
            let rescan = try #require(await Lab.scan([host], try Lab.options()).first)
            #expect(rescan.status == .ok && rescan.updates.isEmpty && rescan.rebootRequired == false, "\(rescan.error ?? "")")
        }
    }
}
