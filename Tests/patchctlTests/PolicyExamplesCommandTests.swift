import Foundation
import Testing

/// Every file in policies/ as a newcomer would first try it: a dry run against the lab, unedited.
/// A policy names its lab inventory in a `# Lab inventory: PATH` comment; by default the lab's
/// read-only hosts (inventories/lab.yml). Each must load, reach its hosts and plan something.
@Suite("policies/ examples on the lab", .serialized, .enabled(if: CLI.labEnabled))
struct PolicyExamplesCommandTests {
    static var policies: [URL] {
        let folder = CLI.repository.appendingPathComponent("policies")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yml") || $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0) }
    }

    static func labInventory(of policy: URL) throws -> String {
        let text = try String(contentsOf: policy, encoding: .utf8)
        let marker = "# Lab inventory: "
        let named = text.split(separator: "\n").first { $0.hasPrefix(marker) }?.dropFirst(marker.count)
            .split(separator: " ").first.map(String.init)
        return CLI.repository.appendingPathComponent(named ?? "inventories/lab.yml").path
    }

    @Test func thereAreExamples() {
        #expect(Self.policies.count >= 3, "\(Self.policies)")
    }

    @Test(arguments: policies)
    func everyExamplePlansUpdatesOnTheLabAsShipped(policy: URL) async throws {
        try await CLI.withDeployEndpoints {
            let folder = try CLI.temporaryDirectory()
            let inventory = try Self.labInventory(of: policy)
            if inventory.hasSuffix("lab-deploy.yml") {
                // Slots in their initial state (other suites install on them).
                for slot in 1...3 { try DeployCommandTests.slotScript(["reset", String(slot)]) }
            }
            let result = try await CLI.runWaiting(["deploy", "--policy", policy.path, "-i", inventory, "--dry-run", "--output", "json",
                                                   "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", folder.appendingPathComponent("h.db").path])
            #expect(result.status == 0, "\(policy.lastPathComponent) on \(inventory): \(result.stderr)")
            let hosts = try #require(try CLI.json(result.stdout)["hosts"] as? [[String: Any]], "\(result.stdout)")
            #expect(!hosts.isEmpty && hosts.allSatisfy { $0["status"] as? String == "ok" }, "\(hosts.map { ($0["name"] ?? "", $0["status"] ?? "", $0["error"] ?? "") })")
            let planned = hosts.reduce(0) { $0 + (($1["planned"] as? [Any])?.count ?? 0) }
            #expect(planned > 0, "\(policy.lastPathComponent) plans nothing on the lab: \(hosts.map { ($0["name"] ?? "", $0["skipped"] ?? "") })")
        }
    }

    /// An unknown group in a policy's target list is left out with a note, as Ansible warns;
    /// a near miss stays an error, and it names the policy file.
    @Test func targetsLeaveOutUnknownGroupsButNotTyposAndErrorsNameThePolicy() async throws {
        let folder = try CLI.temporaryDirectory()
        let policy = folder.appendingPathComponent("typo.yml")
        try "name: typo\ntargets: [debain, ubuntu]\n".write(to: policy, atomically: true, encoding: .utf8)
        let inventory = CLI.repository.appendingPathComponent("inventories/lab.yml").path
        let common = ["-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", folder.appendingPathComponent("h.db").path, "--dry-run"]
        let typo = try await CLI.runWaiting(["deploy", "--policy", policy.path] + common)
        #expect(typo.status == 65, "\(typo.stderr)")
        #expect(typo.stderr.contains(policy.path + ": 'targets': invalid host pattern") && typo.stderr.contains("did you mean 'debian'?"), "\(typo.stderr)")
        try "name: mixed\ntargets: [debian, ubuntu]\nrefresh: false\n".write(to: policy, atomically: true, encoding: .utf8)
        let mixed = try await CLI.runWaiting(["deploy", "--policy", policy.path, "--limit", "lab-debian-2", "--output", "json"] + common)
        #expect(mixed.status == 0, "\(mixed.stderr)")
        let notes = try #require(try CLI.json(mixed.stdout)["notes"] as? [String])
        #expect(notes.contains("targets: 'ubuntu' matches no host or group of this inventory: left out"), "\(notes)")
        // An exclusion is never loosened: a mistyped one must not widen the run.
        try "name: strict\ntargets: 'debian:!ubuntu'\n".write(to: policy, atomically: true, encoding: .utf8)
        let strict = try await CLI.runWaiting(["deploy", "--policy", policy.path] + common)
        #expect(strict.status == 65 && strict.stderr.contains("unknown host or group 'ubuntu'"), "\(strict.stderr)")
    }
}
