import Foundation
import Testing
@testable import PatchCore

/// Deployments against real endpoints: the lab's sshd chrooting each slot address into its own
/// fresh copy of the Debian 12 tree, where apt really installs. Policies restrict themselves to
/// the lab's local repository (`patchlab-*`) so no test downloads from the internet; the
/// independent answer is always dpkg's, read directly in the tree.
@Suite("Deploy against the lab's real sshd and apt", .serialized, .enabled(if: Lab.enabled))
struct LabDeployTests {
    /// An inventory file for these hosts (all in group `fleet`, plus any extra groups).
    static func inventory(_ hosts: [Host], groups: [String: [String]] = [:], timezones: [String: String] = [:]) throws -> String {
        var yaml = "all:\n  children:\n    fleet:\n      hosts:\n"
        for host in hosts {
            yaml += "        \(host.name):\n          address: \(host.address)\n          port: \(host.port)\n          user: root\n"
            yaml += "          private_key_file: \(host.privateKeyFile ?? "")\n"
            if let zone = timezones[host.name] { yaml += "          timezone: \(zone)\n" }
        }
        for (group, members) in groups.sorted(by: { $0.key < $1.key }) {
            yaml += "    \(group):\n      hosts:\n" + members.map { "        \($0):\n" }.joined()
        }
        let path = try Lab.temporaryDirectory().appendingPathComponent("inventory.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func policy(_ yaml: String) throws -> String {
        let path = try Lab.temporaryDirectory().appendingPathComponent("policy.yml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs a deployment the way `patchctl deploy` does (lock, history, rings), on a fresh database unless given one.
    static func deploy(policy: String, inventory: String, store: HistoryStore? = nil, dryRun: Bool = false, ring: String? = nil,
                       ignoreWindow: Bool = true, now: @escaping @Sendable () -> Date = { Date() }) async throws -> (DeployRunRecord, HistoryStore) {
        let store = try store ?? HistoryStore(path: Lab.temporaryDirectory().appendingPathComponent("history.db").path)
        let request = DeployJob.Request(policy: policy, inventory: inventory, ring: ring, ignoreWindow: ignoreWindow, forks: 4, dryRun: dryRun)
        let deployment = try DeployJob(request: request, policy: try Policy.load(path: policy))
        let run = try await deployment.execute(store: store, connection: try Lab.options(), user: "tester", version: "test", now: now)
        return (run, store)
    }

    /// dpkg's own answer in a tree: name → version of fully installed packages.
    static func installed(_ root: String, _ names: [String]) throws -> [String: String] {
        var versions: [String: String] = [:]
        for line in try Lab.inChroot(root, ["dpkg-query", "-W", "-f=${Package} ${Version} ${db:Status-Abbrev}\n"] + names).split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count >= 3, fields[2] == "ii" { versions[String(fields[0])] = String(fields[1]) }
        }
        return versions
    }

    static let localOnly = """
        refresh: false
        select:
          updates: security
          include: ["patchlab-*"]
        """

    @Test func securityOnlyDeployInstallsExactVersionsAndSkipsNonSecurity() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(1)
            let root = try Lab.slotRoot(1)
            let policy = try Self.policy("name: lab-security\ntargets: fleet\napproval: auto\nreboot: never\n" + Self.localOnly)
            let inventory = try Self.inventory([host])

            // Dry run: the plan, with the exact command, and nothing changed.
            let (plan, store) = try await Self.deploy(policy: policy, inventory: inventory, dryRun: true)
            let planned = try #require(plan.hosts.first)
            #expect(planned.status == .ok, "\(planned.error ?? "")")
            #expect(plan.outcome == .planned)
            #expect(planned.planned.map(\.name) == ["patchlab-canary"])
            #expect(planned.planned.first?.toVersion == "1.1")
            #expect(planned.commands.contains { $0.contains("install --only-upgrade -- patchlab-canary=1.1") })
            #expect(planned.skipped.contains { $0.name == "patchlab-tool" && $0.reason.contains("security") })
            #expect(try Self.installed(root, ["patchlab-canary", "patchlab-tool"]) == ["patchlab-canary": "1.0", "patchlab-tool": "1.0"])

            let (run, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store)
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(run.outcome == .finished)
            #expect(result.installed == [InstalledPackage(name: "patchlab-canary", fromVersion: "1.0", toVersion: "1.1")])
            #expect(result.failed.isEmpty)
            #expect(result.rebootRequired == true, "installing patchlab-canary 1.1 asks for a reboot")
            #expect(!result.rebooted)
            // dpkg agrees: the security update is in, the non-security one is not.
            #expect(try Self.installed(root, ["patchlab-canary", "patchlab-tool"]) == ["patchlab-canary": "1.1", "patchlab-tool": "1.0"])

            // History reprints the run exactly.
            let recorded = try store.deployRunReport(id: run.runId)
            #expect(try JSONOutput.encode(recorded.hosts, pretty: false) == JSONOutput.encode(run.hosts, pretty: false))
            #expect(recorded.outcome == .finished)
            let json = try JSONOutput.encode(run, pretty: false)
            #expect(json.contains("\"installed\":[{\"from_version\":\"1.0\",\"name\":\"patchlab-canary\",\"to_version\":\"1.1\"}]"))

            // Again: nothing left to do.
            let (again, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store)
            #expect(again.hosts.first?.status == .ok && again.hosts.first?.planned.isEmpty == true)
        }
    }

    @Test func selectAllInstallsTheNonSecurityUpdateToo() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(1)
            let policy = try Self.policy("""
                name: lab-all
                targets: fleet
                refresh: false
                select: {updates: all, include: ["patchlab-*"], hold: ["patchlab-canary"]}
                """)
            let (run, _) = try await Self.deploy(policy: policy, inventory: try Self.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(result.installed.map(\.name) == ["patchlab-tool"])
            #expect(result.skipped.contains { $0.name == "patchlab-canary" && $0.reason.contains("hold") })
            #expect(try Self.installed(try Lab.slotRoot(1), ["patchlab-canary", "patchlab-tool"]) == ["patchlab-canary": "1.0", "patchlab-tool": "2.0"])
        }
    }

    @Test func failingTestRingHaltsProduction() async throws {
        try await Lab.withDeployEndpoints {
            let test = try Lab.resetSlot(1)
            let production = try Lab.resetSlot(2)
            // The test host's health check fails.
            try Data().write(to: URL(fileURLWithPath: try Lab.slotRoot(1) + "/etc/patchctl-unhealthy"))
            let policy = try Self.policy("""
                name: lab-rings
                targets: fleet
                rings:
                  - {name: test, targets: canaries}
                  - {name: production, max_fail_percent: 50}
                approval: after_test
                pre: ["test ! -e /etc/patchctl-unhealthy"]
                \(Self.localOnly)
                """)
            let inventory = try Self.inventory([test, production], groups: ["canaries": [test.name]])
            let (run, store) = try await Self.deploy(policy: policy, inventory: inventory)
            #expect(run.outcome == .halted)
            #expect(run.hosts.map(\.name) == [test.name])
            #expect(run.hosts.first?.status == .failed)
            #expect(run.hosts.first?.error?.contains("pre check failed") == true)
            #expect(run.rings.map(\.state) == [.halted, .notStarted])
            #expect(try Self.installed(try Lab.slotRoot(2), ["patchlab-canary"]) == ["patchlab-canary": "1.0"], "production untouched")

            // A later run (e.g. cron) still refuses to start production while the test ring's last run halted...
            let (blocked, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store, ring: nil)
            #expect(blocked.outcome == .halted)
            // ...and once the test host is healthy, the test ring installs, then production follows (after_test, no soak).
            try FileManager.default.removeItem(atPath: try Lab.slotRoot(1) + "/etc/patchctl-unhealthy")
            let (fixed, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store)
            #expect(fixed.outcome == .finished, "\(fixed.notes)")
            #expect(fixed.hosts.map(\.status) == [.ok, .ok], "\(fixed.hosts.map { $0.error ?? "" })")
            #expect(fixed.hosts.last?.installed.map(\.name) == ["patchlab-canary"])
            #expect(try Self.installed(try Lab.slotRoot(2), ["patchlab-canary"]) == ["patchlab-canary": "1.1"])
        }
    }

    @Test func afterTestWaitsForSoakAndManualApprovalGoesFirst() async throws {
        try await Lab.withDeployEndpoints {
            let test = try Lab.resetSlot(1)
            let production = try Lab.resetSlot(2)
            let policy = try Self.policy("""
                name: lab-soak
                targets: fleet
                rings:
                  - {name: test, targets: canaries}
                  - {name: production, soak: 2h}
                approval: after_test
                \(Self.localOnly)
                """)
            let inventory = try Self.inventory([test, production], groups: ["canaries": [test.name]])
            let (first, store) = try await Self.deploy(policy: policy, inventory: inventory)
            #expect(first.outcome == .waiting)
            #expect(first.hosts.map(\.name) == [test.name])
            #expect(first.rings.last?.state == .waiting)
            #expect(first.rings.last?.note?.contains("soak until") == true)

            // Explicitly deploying production before the soak: the package waits for approval (after_test evidence is too young).
            let (early, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store, ring: "production")
            let waiting = try #require(early.hosts.first)
            #expect(waiting.installed.isEmpty)
            #expect(waiting.skipped.contains { $0.name == "patchlab-canary" && $0.awaitingApproval && $0.reason.contains("soaking") })
            #expect(try store.approvals(policy: "lab-soak", all: false).map(\.package) == ["patchlab-canary"])

            // Two hours later (the clock is the run's), production goes by itself.
            let later = Date().addingTimeInterval(2 * 3600 + 60)
            let (soaked, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store, now: { later })
            #expect(soaked.outcome == .finished, "\(soaked.notes)")
            #expect(soaked.hosts.last?.installed.map(\.name) == ["patchlab-canary"])
        }
    }

    @Test func manualApprovalInstallsOnlyWhatWasApprovedAndRejectionSticks() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(1)
            let policy = try Self.policy("""
                name: lab-manual
                targets: fleet
                approval: manual
                refresh: false
                select: {updates: all, include: ["patchlab-*"]}
                """)
            let inventory = try Self.inventory([host])
            let (first, store) = try await Self.deploy(policy: policy, inventory: inventory)
            #expect(first.hosts.first?.installed.isEmpty == true)
            #expect(Set(try store.approvals(policy: "lab-manual", all: false).map(\.package)) == ["patchlab-canary", "patchlab-tool"])

            try store.decide(policy: "lab-manual", package: "patchlab-canary", version: "1.1", state: .approved, by: "cab", note: "CAB-1", at: Date())
            try store.decide(policy: "lab-manual", package: "patchlab-tool", version: "2.0", state: .rejected, by: "cab", note: "breaks X", at: Date())
            let (second, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store)
            let result = try #require(second.hosts.first)
            #expect(result.installed.map(\.name) == ["patchlab-canary"])
            #expect(result.skipped.contains { $0.name == "patchlab-tool" && $0.reason.contains("rejected by cab: breaks X") })
            #expect(try Self.installed(try Lab.slotRoot(1), ["patchlab-canary", "patchlab-tool"]) == ["patchlab-canary": "1.1", "patchlab-tool": "1.0"])
            #expect(try store.events().map(\.action.rawValue).filter { $0 != "deploy" }.sorted() == ["approve", "reject"])
            let deploys = try store.events().filter { $0.action == .deploy }
            #expect(deploys.map(\.runId) == [second.runId, first.runId])
            #expect(deploys.first?.user == "tester" && deploys.first?.detail?.hasPrefix("finished: 1 hosts, 1 packages installed") == true)
        }
    }

    @Test func rebootWaitsForTheHostToComeBackWithANewBootID() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetRebootHost()
            let root = try Lab.rebootRoot()
            let before = try Lab.bootID(root: root)
            let policy = try Self.policy("""
                name: lab-reboot
                targets: fleet
                reboot: {mode: if_required, grace_minutes: 0, message: "patchctl lab reboot"}
                reboot_timeout: 60s
                \(Self.localOnly)
                """)
            let (run, _) = try await Self.deploy(policy: policy, inventory: try Self.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(result.installed.map(\.name) == ["patchlab-canary"])
            #expect(result.rebooted)
            #expect(result.rebootRequired == false, "re-verified after the reboot")
            #expect(try Lab.bootID(root: root) != before)
            #expect(result.steps.contains { $0.phase == "reboot" && $0.command == "shutdown -r now 'patchctl lab reboot'" })
        }
    }

    // The time limit catches a wait without end; the message proves the 1 s reboot_timeout ended it.
    @Test(.timeLimit(.minutes(10))) func hostThatDoesNotComeBackIsReportedNotWaitedOnForever() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetRebootHost()
            // The endpoint stays down for LAB_REBOOT_DOWNTIME (2 s) seconds; a 1 s reboot_timeout is too short.
            let policy = try Self.policy("""
                name: lab-no-return
                targets: fleet
                reboot: {mode: always, grace_minutes: 0}
                reboot_timeout: 1s
                \(Self.localOnly)
                """)
            let (run, _) = try await Self.deploy(policy: policy, inventory: try Self.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .failed)
            #expect(result.error?.contains("did not come back with a new boot id within 1 s") == true, "\(result.error ?? "")")
            #expect(result.installed.map(\.name) == ["patchlab-canary"], "what was installed stays recorded")
            #expect(!result.rebooted)
        }
    }

    @Test func failingPostCheckFailsTheHostAndMissingShutdownIsReported() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(2)
            let policy = try Self.policy("""
                name: lab-post
                targets: fleet
                post: ["test -e /etc/patchctl-service-ok"]
                \(Self.localOnly)
                """)
            let (run, _) = try await Self.deploy(policy: policy, inventory: try Self.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .failed)
            #expect(result.error == "post check failed (exit 1): test -e /etc/patchctl-service-ok")
            #expect(result.installed.map(\.name) == ["patchlab-canary"])

            // A slot has no shutdown command: asking for a reboot fails the host with the reason.
            _ = try Lab.resetSlot(2)
            let rebooting = try Self.policy("name: lab-noshutdown\ntargets: fleet\nreboot: always\n" + Self.localOnly)
            let (second, _) = try await Self.deploy(policy: rebooting, inventory: try Self.inventory([host]))
            let failed = try #require(second.hosts.first)
            #expect(failed.status == .failed)
            #expect(failed.error?.contains("boot id") == true || failed.error?.contains("reboot command failed") == true, "\(failed.error ?? "")")
        }
    }

    @Test func loggedInUsersDeferUntilDeferralsAreUsedUp() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(3)
            try Lab.login(slot: "3", user: "alice")
            defer { try? Lab.logout(slot: "3") }
            let policy = try Self.policy("""
                name: lab-defer
                targets: fleet
                deferment: {max_deferrals: 2}
                \(Self.localOnly)
                """)
            let inventory = try Self.inventory([host])
            let (first, store) = try await Self.deploy(policy: policy, inventory: inventory)
            #expect(first.hosts.first?.status == .deferred)
            #expect(first.hosts.first?.deferral?.contains("alice") == true)
            let (second, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store)
            #expect(second.hosts.first?.status == .deferred)
            #expect(try Self.installed(try Lab.slotRoot(3), ["patchlab-canary"]) == ["patchlab-canary": "1.0"])
            let (third, _) = try await Self.deploy(policy: policy, inventory: inventory, store: store)
            let forced = try #require(third.hosts.first)
            #expect(forced.status == .ok, "\(forced.error ?? "")")
            #expect(forced.forced)
            #expect(forced.installed.map(\.name) == ["patchlab-canary"])
            #expect(try store.events().map(\.action).filter { $0 != .deploy } == [.forced, .deferred, .deferred])
        }
    }

    @Test func manualDeferralHoldsTheHostBack() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(3)
            let policy = try Self.policy("name: lab-hold\ntargets: fleet\n" + Self.localOnly)
            let store = try HistoryStore(path: Lab.temporaryDirectory().appendingPathComponent("history.db").path)
            _ = try store.addDeferral(host: host.name, policy: nil, until: Date().addingTimeInterval(3600), reason: "quarter close", by: "ops", at: Date())
            let (run, _) = try await Self.deploy(policy: policy, inventory: try Self.inventory([host]), store: store)
            #expect(run.hosts.first?.status == .deferred)
            #expect(run.hosts.first?.deferral?.contains("quarter close") == true)
            #expect(try Self.installed(try Lab.slotRoot(3), ["patchlab-canary"]) == ["patchlab-canary": "1.0"])
        }
    }

    @Test func brokenPackageManagerIsReportedWithItsRepair() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(4)
            try Lab.breakDpkg(slot: "4")
            let policy = try Self.policy("name: lab-broken\ntargets: fleet\n" + Self.localOnly)
            let (run, _) = try await Self.deploy(policy: policy, inventory: try Self.inventory([host]))
            let result = try #require(run.hosts.first)
            #expect(result.status == .error)
            #expect(result.repair?.contains("dpkg --configure -a") == true)
            #expect(result.installed.isEmpty)
        }
    }

    @Test func windowIsReadInEachHostsTimeZone() async throws {
        try await Lab.withDeployEndpoints {
            let inside = try Lab.resetSlot(5)
            var outside = try Lab.resetSlot(6)
            outside.name = "far-east"
            // A window around the current UTC time; the second host lives 14 hours ahead, outside it.
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let now = Date()
            let start = utc.date(byAdding: .hour, value: -1, to: now)!
            let end = utc.date(byAdding: .hour, value: 1, to: now)!
            func hhmm(_ date: Date) -> String { String(format: "%02d:%02d", utc.component(.hour, from: date), utc.component(.minute, from: date)) }
            let policy = try Self.policy("""
                name: lab-window
                targets: fleet
                window: {days: [mon, tue, wed, thu, fri, sat, sun], start: "\(hhmm(start))", end: "\(hhmm(end))", timezone: UTC}
                \(Self.localOnly)
                """)
            let inventory = try Self.inventory([inside, outside], timezones: ["far-east": "Pacific/Kiritimati"])
            let deployment = try DeployJob(request: .init(policy: policy, inventory: inventory), policy: try Policy.load(path: policy))
            #expect(deployment.closedWindowMessage(at: now) == nil)
            let (run, _) = try await Self.deploy(policy: policy, inventory: inventory, ignoreWindow: false)
            #expect(run.hosts.map(\.status) == [.ok, .skipped])
            #expect(run.hosts.last?.error?.contains("outside the maintenance window") == true)
            #expect(try Self.installed(try Lab.slotRoot(6), ["patchlab-canary"]) == ["patchlab-canary": "1.0"])
            // Four hours later every host is outside: nothing is contacted.
            #expect(deployment.closedWindowMessage(at: now.addingTimeInterval(4 * 3600))?.contains("outside its maintenance window") == true)
        }
    }

    @Test func secondDeploymentOfTheSamePolicyIsRefusedWhileOneRuns() throws {
        let store = try HistoryStore(path: Lab.temporaryDirectory().appendingPathComponent("history.db").path)
        do {
            let held = try PolicyLock(policy: "busy", databasePath: store.path, runDescription: "pid 1, user test")
            #expect(throws: PatchError.locked(policy: "busy", holder: "pid 1, user test")) {
                _ = try PolicyLock(policy: "busy", databasePath: store.path, runDescription: "pid 2")
            }
            withExtendedLifetime(held) {}
        }
        // Released with its owner (as the kernel releases it when a process dies).
        #expect(throws: Never.self) { _ = try PolicyLock(policy: "busy", databasePath: store.path, runDescription: "pid 3") }
    }
}
