import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// Reports from a database filled the way patchctl fills it: real scans over the lab's sshd and a
/// real deployment with apt in a fresh slot tree. The independent answer is apt's and dpkg's own,
/// read directly in each tree.
@Suite("Compliance reports from real scans and deploys against the lab", .serialized, .enabled(if: Lab.enabled))
struct LabComplianceTests {
    /// `apt list --upgradable` in a tree: name → (version, security).
    static func upgradable(_ root: String) throws -> [String: (version: String, security: Bool)] {
        var found: [String: (version: String, security: Bool)] = [:]
        for line in try Lab.inChroot(root, ["apt", "list", "--upgradable"]).split(separator: "\n") where line.contains("[upgradable from:") {
            let fields = line.split(separator: " ")
            let nameAndSuites = fields[0].split(separator: "/")
            found[String(nameAndSuites[0])] = (String(fields[1]), nameAndSuites[1].split(separator: ",").contains { $0.hasSuffix("-security") })
        }
        return found
    }

    /// Scans `hosts` and records the run as `patchctl scan` does (RunRecorder); returns the run id.
    static func scan(_ hosts: [Host], store: HistoryStore, inventory: String) async throws -> String {
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: inventory, hostPattern: nil, options: nil, version: "test")
        let recorder = RunRecorder<HostScan>(store: store, runId: id)
        for result in await Lab.scan(hosts, try Lab.options()) { recorder.add(result) }
        try recorder.finish(at: Date())
        return id
    }

    @Test func reportFollowsRealScansAndADeployment() async throws {
        try await Lab.withDeployEndpoints {
            let slot1 = try Lab.resetSlot(1)
            let slot2 = try Lab.resetSlot(2)
            var gone = try Lab.resetSlot(3)
            gone.name = "gone"
            let folder = try Lab.temporaryDirectory()
            let store = try HistoryStore(path: folder.appendingPathComponent("history.db").path)
            var yaml = "all:\n  children:\n    fleet:\n      hosts:\n"
            for host in [slot1, slot2, gone] {
                yaml += "        \(host.name): {address: \(host.address), port: \(host.port), user: root, private_key_file: \(host.privateKeyFile ?? "")}\n"
            }
            yaml += "        spare1: {address: 127.0.3.98, port: 1}\n    canaries:\n      hosts:\n        slot1:\n"
            let inventory = folder.appendingPathComponent("inventory.yml").path
            try yaml.write(toFile: inventory, atomically: true, encoding: .utf8)
            let policy = folder.appendingPathComponent("lab-security.yml").path
            try "name: lab-security\ntargets: canaries\napproval: auto\nreboot: never\nrefresh: false\nselect:\n  updates: security\n  include: [\"patchlab-*\"]\n"
                .write(toFile: policy, atomically: true, encoding: .utf8)

            let first = try await Self.scan([slot1, slot2, gone], store: store, inventory: inventory)
            let request = DeployJob.Request(policy: policy, inventory: inventory, ignoreWindow: true, forks: 4)
            let deployment = try DeployJob(request: request, policy: try Policy.load(path: policy))
            let run = try await deployment.execute(store: store, connection: try Lab.options(), user: "tester", version: "test", now: { Date() })
            #expect(run.hosts.map(\.name) == ["slot1"] && run.hosts.first?.installed.map(\.name) == ["patchlab-canary"], "\(run.hosts.first?.error ?? "")")
            // "gone" stops answering: the same name, now on a port nothing listens on.
            var unreachable = gone
            unreachable.port = 1
            let second = try await Self.scan([slot1, slot2, unreachable], store: store, inventory: inventory)

            let asOf = ReportDate.now()
            let report = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, inventory: inventory, asOf: asOf,
                                                                      currentDirectory: folder.path))
            #expect(report.hosts.map(\.name) == ["gone", "slot1", "slot2", "spare1"])
            let byName = Dictionary(uniqueKeysWithValues: report.hosts.map { ($0.name, $0) })

            // Each host's pending updates are exactly what apt in its tree says.
            for (name, slot) in [("slot1", 1), ("slot2", 2)] {
                let host = try #require(byName[name])
                let apt = try Self.upgradable(try Lab.slotRoot(slot))
                #expect(Set(host.updates.map(\.package)) == Set(apt.keys), "\(name)")
                for update in host.updates {
                    #expect(update.availableVersion == apt[update.package]?.version && update.security == apt[update.package]?.security, "\(name) \(update.package)")
                }
                #expect(host.compliant && host.lastScan?.runId == second && host.platform == "Debian GNU/Linux 12", "\(host.reasons)")
                #expect(host.missing.total == apt.count && host.missing.security == apt.values.filter(\.security).count)
            }
            let slot1Entry = try #require(byName["slot1"])
            #expect(!slot1Entry.updates.contains { $0.package == "patchlab-canary" })
            #expect(try LabDeployTests.installed(try Lab.slotRoot(1), ["patchlab-canary"]) == ["patchlab-canary": "1.1"])
            #expect(slot1Entry.rebootRequired == true, "patchlab-canary 1.1 asks for a reboot")
            #expect(slot1Entry.lastDeployment?.runId == run.runId && slot1Entry.lastDeployment?.result == .ok
                    && slot1Entry.lastDeployment?.installed == 1 && slot1Entry.lastDeployment?.policy == "lab-security")
            let canary = try #require(byName["slot2"]?.updates.first { $0.package == "patchlab-canary" })
            #expect(canary.security && canary.firstSeenRun == first && canary.status == .withinDeadline && canary.rule == "critical security updates")

            // Went unreachable: still judged on its last successful scan, with a warning.
            let goneEntry = try #require(byName["gone"])
            #expect(goneEntry.lastScan?.runId == first && goneEntry.lastContact?.runId == second && goneEntry.reachable == false)
            #expect(goneEntry.compliant && goneEntry.warnings.first?.contains("unreachable") == true, "\(goneEntry.warnings)")
            let spare = try #require(byName["spare1"])
            #expect(!spare.compliant && spare.lastScan == nil && spare.reachable == nil)

            // Time to patch: the deployment's install, counted from the first scan that saw it.
            let patch = try #require(report.summary.timeToPatch.patches.first { $0.host == "slot1" && $0.package == "patchlab-canary" })
            #expect(patch.via == "deploy" && patch.version == "1.1" && patch.security && patch.runId == run.runId && patch.policy == "lab-security")
            #expect(patch.firstSeen < patch.patchedAt && patch.days < 0.1)
            #expect(report.policies.map(\.name) == ["lab-security"] && report.policies.first?.timeToPatch.patched == 1)
            #expect(report.summary.hosts == 4 && report.summary.compliant == 3 && report.summary.neverScanned == 1 && report.summary.unreachable == 1)
            #expect(Set(report.evidence.runs) == [first, run.runId, second])

            // A month later without another scan: the security updates are past PCI DSS's 30 days,
            // and (default 7 days) every host is stale.
            let later = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, inventory: inventory,
                                                                     asOf: asOf.addingTimeInterval(31 * 86_400), currentDirectory: folder.path))
            let slot2Later = try #require(later.hosts.first { $0.name == "slot2" })
            #expect(!slot2Later.compliant && slot2Later.stale)
            #expect(slot2Later.updates.filter(\.security).allSatisfy { $0.status == .overdue && $0.ageDays == 31 })
            #expect(slot2Later.updates.first { $0.package == "patchlab-tool" }?.status == .outOfScope)
            #expect(later.summary.compliant == 0)
            // Real scans and a real deployment, now and a month on, as the documented JSON.
            JSONSchema.validate(try report.rendered(.compliance, as: .json), schema: "compliance-report")
            JSONSchema.validate(try later.rendered(.compliance, as: .json), schema: "compliance-report")

            // The same database gives the same report again; the diff sees the deployment and the lost host.
            let again = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, inventory: inventory, asOf: asOf,
                                                                     currentDirectory: folder.path))
            #expect(try again.rendered(.compliance, as: .html) == report.rendered(.compliance, as: .html))
            let diff = try FindingsDiff.build(store: store, since: "last")
            #expect(diff.baseRun == first && diff.targetRun == second)
            #expect(diff.hosts.first { $0.name == "slot1" }?.removed.map(\.package) == ["patchlab-canary"])
            #expect(diff.hosts.first { $0.name == "slot2" }?.change == .unchanged)
            #expect(diff.hosts.first { $0.name == "gone" }?.change == .failed)
        }
    }

    /// A deployment run with no scan before it (cron runs `patchctl deploy` alone): the updates
    /// its policy left alone are the host's findings, and the CSV carries their installed
    /// versions as dpkg has them, not blanks.
    @Test func deployOnlyHistoryGivesTheCSVInstalledVersions() async throws {
        try await Lab.withDeployEndpoints {
            let slot = try Lab.resetSlot(1)
            let folder = try Lab.temporaryDirectory()
            let store = try HistoryStore(path: folder.appendingPathComponent("history.db").path)
            let inventory = folder.appendingPathComponent("inventory.yml").path
            try "all:\n  hosts:\n    \(slot.name): {address: \(slot.address), port: \(slot.port), user: root, private_key_file: \(slot.privateKeyFile ?? "")}\n"
                .write(toFile: inventory, atomically: true, encoding: .utf8)
            let policy = folder.appendingPathComponent("lab-security.yml").path
            try "name: lab-security\ntargets: all\napproval: auto\nreboot: never\nrefresh: false\nselect:\n  updates: security\n  include: [\"patchlab-*\"]\n"
                .write(toFile: policy, atomically: true, encoding: .utf8)
            let request = DeployJob.Request(policy: policy, inventory: inventory, ignoreWindow: true, forks: 4)
            let run = try await DeployJob(request: request, policy: try Policy.load(path: policy))
                .execute(store: store, connection: try Lab.options(), user: "tester", version: "test", now: { Date() })
            let host = try #require(run.hosts.first)
            #expect(host.installed.map(\.name) == ["patchlab-canary"], "\(host.error ?? "")")
            #expect(host.skipped.contains { $0.name == "patchlab-tool" && $0.installedVersion == "1.0" && $0.security == false })

            let report = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, inventory: inventory,
                                                                      asOf: ReportDate.now(), currentDirectory: folder.path))
            let rows = try CSVParser.parse(report.rendered(.compliance, as: .csv))
            let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(CSVReport.complianceColumns, $0)) }
                .filter { !($0["package"] ?? "").isEmpty }
            // Exactly what apt still offers, each at the version dpkg has installed.
            let apt = try Self.upgradable(try Lab.slotRoot(1))
            #expect(Set(records.map { $0["package"] ?? "" }) == Set(apt.keys))
            let dpkg = try LabDeployTests.installed(try Lab.slotRoot(1), Array(apt.keys))
            #expect(records.contains { $0["package"] == "patchlab-tool" })
            for record in records {
                let package = record["package"] ?? ""
                #expect(record["installed_version"] == dpkg[package] && record["last_deploy_run"] == run.runId, "\(package)")
                #expect(!(record["source"] ?? "").isEmpty, "\(package): the source the deployment's scan saw")
            }
        }
    }
}
