import Foundation
import LabSupport
import Testing

/// `patchctl deploy` and its companions as a sysadmin or cron runs them: the real binary against
/// the lab's slot endpoints (fresh Debian trees per test), with signals, locks and exit codes.
@Suite("patchctl deploy CLI", .serialized, .enabled(if: CLI.labEnabled))
struct DeployCommandTests {
    /// Fresh slots, an inventory of them and a policy file; returns the common arguments.
    struct Setup {
        var folder: URL
        var db: String
        var policy: String
        var inventory: String
        var roots: [String]

        var common: [String] { ["-i", inventory, "--known-hosts", (try? CLI.lab("LAB_KNOWN_HOSTS")) ?? "", "--db", db] }
    }

    static func setup(slots: [Int], policy: String) throws -> Setup {
        let folder = try CLI.temporaryDirectory()
        var yaml = "all:\n  vars: {ansible_user: root, ansible_port: \(try CLI.lab("LAB_DEPLOY_PORT")), ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}\n  children:\n    fleet:\n      hosts:\n"
        var roots: [String] = []
        for slot in slots {
            try slotScript(["reset", String(slot)])
            yaml += "        slot\(slot): {ansible_host: \(try CLI.lab("LAB_SLOT_ADDRESS_PREFIX"))\(slot)}\n"
            roots.append(try CLI.lab("LAB_SLOTS_ROOT") + "/\(slot)")
        }
        let inventory = folder.appendingPathComponent("inventory.yml")
        try yaml.write(to: inventory, atomically: true, encoding: .utf8)
        let policyFile = folder.appendingPathComponent("lab-cli.yml")
        try policy.write(to: policyFile, atomically: true, encoding: .utf8)
        return Setup(folder: folder, db: folder.appendingPathComponent("h.db").path, policy: policyFile.path, inventory: inventory.path, roots: roots)
    }

    static func slotScript(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try CLI.lab("LAB_SLOT_SCRIPT"))
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let status = process.waitForExit()
        #expect(status == 0, "slot.sh \(arguments)")
    }

    /// Makes every dpkg run in a tree first leave a marker file, then take `seconds` longer: a
    /// package operation provably running when the test acts.
    static func slowDpkg(_ root: String, seconds: Int) throws {
        try? FileManager.default.removeItem(atPath: root + "/tmp/patchctl-dpkg-running")
        try "DPkg::Pre-Invoke {\"touch /tmp/patchctl-dpkg-running; sleep \(seconds)\";};\n"
            .write(toFile: root + "/etc/apt/apt.conf.d/99patchctl-slow", atomically: true, encoding: .utf8)
    }

    /// Makes every dpkg run in a tree leave the marker file `slowDpkg` leaves, then wait until the
    /// test calls `release` (at most 300 s): an install the test holds while it acts, however slowly
    /// the machine runs the rest of the test.
    static func holdDpkg(_ root: String) throws -> DpkgHold {
        let hold = DpkgHold(root: root)
        try? FileManager.default.removeItem(atPath: root + "/tmp/patchctl-dpkg-running")
        try? FileManager.default.removeItem(atPath: hold.releaseFile)
        try """
            touch /tmp/patchctl-dpkg-running
            i=0
            while [ ! -e /tmp/patchctl-dpkg-release ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done

            """.write(toFile: root + "/tmp/patchctl-dpkg-hold.sh", atomically: true, encoding: .utf8)
        try "DPkg::Pre-Invoke {\"sh /tmp/patchctl-dpkg-hold.sh\";};\n"
            .write(toFile: root + "/etc/apt/apt.conf.d/99patchctl-slow", atomically: true, encoding: .utf8)
        return hold
    }

    struct DpkgHold {
        let root: String
        var releaseFile: String { root + "/tmp/patchctl-dpkg-release" }
        /// Lets the held dpkg go on, and every later one run unheld.
        func release() {
            try? FileManager.default.removeItem(atPath: root + "/etc/apt/apt.conf.d/99patchctl-slow")
            FileManager.default.createFile(atPath: releaseFile, contents: nil)
        }
    }

    /// Runs `action` on a thread of its own the moment dpkg runs in the tree (the shared test
    /// thread pool can be held for seconds by other suites' blocking waits; this cannot).
    /// Wait on the returned semaphore for the action to be done.
    static func whenDpkgRuns(_ root: String, _ action: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: root + "/tmp/patchctl-dpkg-running"), Date() < deadline { usleep(20_000) }
            action()
            done.signal()
        }
        return done
    }

    static func audit(_ root: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        process.arguments = [root, "dpkg", "--audit"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func canary(_ root: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/chroot")
        process.arguments = [root, "dpkg-query", "-W", "-f=${Version} ${db:Status-Abbrev}", "patchlab-canary"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespaces)
    }

    static let localPolicy = """
        name: lab-cli
        targets: fleet
        refresh: false
        select: {updates: security, include: ["patchlab-*"]}

        """

    @Test func interruptFinishesThePackageOperationInFlightThenResumeCompletes() async throws {
        try await CLI.withDeployEndpoints {
            let setup = try Self.setup(slots: [1, 2, 3], policy: Self.localPolicy)
            try Self.slowDpkg(setup.roots[0], seconds: 4)
            // Started with a relative inventory from its own folder; resumed from elsewhere below.
            let relative = ["-i", "inventory.yml", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", setup.db]
            let running = try CLI.start(["deploy", "--policy", setup.policy, "--forks", "1", "--output", "json"] + relative,
                                        currentDirectory: setup.folder)
            // The signal arrives while the first host's apt runs (dpkg's pre-invoke hook).
            let pid = running.process.processIdentifier
            let signalled = Self.whenDpkgRuns(setup.roots[0]) { kill(pid, SIGINT) }
            let interrupted = CLI.finish(running)
            signalled.wait()
            #expect(interrupted.status == 130, "\(interrupted.stderr)")
            #expect(interrupted.stderr.contains("interrupted"))
            JSONSchema.validate(interrupted.stdout, schema: "deploy-run")
            let document = try CLI.json(interrupted.stdout)
            #expect(document["outcome"] as? String == "interrupted")
            let hosts = try #require(document["hosts"] as? [[String: Any]])
            // Only the host in flight ran; the others are listed as not started.
            #expect(hosts.map { $0["name"] as? String } == ["slot1", "slot2", "slot3"])
            #expect(hosts.map { $0["status"] as? String } == ["ok", "not_started", "not_started"], "\(hosts.map { $0["error"] ?? "" })")
            #expect(hosts.first?["status"] as? String == "ok", "its package operation was not killed: \(hosts.first?["error"] ?? "")")
            #expect(interrupted.stderr.contains("resume with: patchctl deploy --resume "), "\(interrupted.stderr)")
            #expect(try Self.canary(setup.roots[0]) == "1.1 ii")
            #expect(try Self.audit(setup.roots[0]).isEmpty, "dpkg was not left half-way")
            #expect(try Self.canary(setup.roots[1]) == "1.0 ii")
            let runId = try #require(document["run_id"] as? String)
            let history = try CLI.run(["history", "--db", setup.db, "--output", "json"])
            #expect(history.stdout.contains("\"state\" : \"interrupted\""))
            JSONSchema.validate(history.stdout, schema: "history-list")
            let shownInterrupted = try CLI.run(["history", "show", runId, "--db", setup.db, "--output", "json"])
            #expect((try CLI.json(shownInterrupted.stdout)["hosts"] as? [[String: Any]])?.map { $0["status"] as? String } == ["ok", "not_started", "not_started"])
            JSONSchema.validate(shownInterrupted.stdout, schema: "history-show")
            JSONSchema.validate(interrupted.stdout, schema: "deploy-run")
            // --resume repeats the recorded run with its own inventory: another -i is refused, not ignored.
            let other = try CLI.run(["deploy", "--resume", runId, "-i", setup.inventory, "--db", setup.db])
            #expect(other.status == 64 && other.stderr.contains("it takes no -i/--inventory"), "\(other.stderr)")

            let resumed = try CLI.run(["deploy", "--resume", runId, "--output", "json", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", setup.db])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            JSONSchema.validate(resumed.stdout, schema: "deploy-run")
            let shown = try CLI.run(["history", "show", runId, "--db", setup.db, "--output", "json"])
            JSONSchema.validate(shown.stdout, schema: "history-show")
            let finished = try CLI.json(resumed.stdout)
            #expect(finished["run_id"] as? String == runId)
            #expect(finished["outcome"] as? String == "finished")
            let all = try #require(finished["hosts"] as? [[String: Any]])
            #expect(all.map { $0["name"] as? String } == ["slot1", "slot2", "slot3"])
            #expect(all.allSatisfy { $0["status"] as? String == "ok" })
            for root in setup.roots { #expect(try Self.canary(root) == "1.1 ii") }
        }
    }

    @Test func overlappingRunIsRefusedAndCronOutsideTheWindowDoesNothing() async throws {
        try await CLI.withDeployEndpoints {
            let setup = try Self.setup(slots: [1], policy: Self.localPolicy)
            try Self.slowDpkg(setup.roots[0], seconds: 3)
            let first = try CLI.start(["deploy", "--policy", setup.policy, "--quiet"] + setup.common)
            // While the first run's apt runs, a second run of the same policy starts.
            nonisolated(unsafe) var second: CLI.Result?
            let arguments = ["deploy", "--policy", setup.policy, "--quiet"] + setup.common
            let overlapped = Self.whenDpkgRuns(setup.roots[0]) { second = try? CLI.run(arguments) }
            let done = CLI.finish(first)
            overlapped.wait()
            #expect(second?.status == 75)
            #expect(second?.stderr.contains("policy lab-cli is already being deployed (pid \(first.process.processIdentifier)") == true, "\(second?.stderr ?? "")")
            #expect(done.status == 0, "\(done.stderr)")

            // A window that is closed now: the cron line exits 0, prints nothing, records nothing.
            var utc = Calendar(identifier: .gregorian)
            utc.timeZone = TimeZone(identifier: "UTC")!
            let later = Date().addingTimeInterval(6 * 3600)
            let start = String(format: "%02d:00", utc.component(.hour, from: later))
            let end = String(format: "%02d:30", utc.component(.hour, from: later))
            let windowed = setup.folder.appendingPathComponent("windowed.yml")
            try (Self.localPolicy.replacingOccurrences(of: "name: lab-cli", with: "name: lab-windowed")
                + "window: {days: [mon, tue, wed, thu, fri, sat, sun], start: \"\(start)\", end: \"\(end)\", timezone: UTC}\n")
                .write(to: windowed, atomically: true, encoding: .utf8)
            let before = try CLI.run(["history", "--db", setup.db, "--output", "json"]).stdout
            let cron = try CLI.run(["deploy", "--policy", windowed.path, "--quiet"] + setup.common)
            #expect(cron.status == 0 && cron.stdout.isEmpty && cron.stderr.isEmpty, "\(cron.stdout)\(cron.stderr)")
            #expect(try CLI.run(["history", "--db", setup.db, "--output", "json"]).stdout == before)
            let loud = try CLI.run(["deploy", "--policy", windowed.path] + setup.common)
            #expect(loud.status == 0 && loud.stdout.contains("outside its maintenance window"))
            // --now overrides it (nothing left to do on this host, so it simply succeeds).
            let now = try CLI.run(["deploy", "--policy", windowed.path, "--now", "--output", "json"] + setup.common)
            #expect(now.status == 0, "\(now.stderr)")
        }
    }

    @Test func approvalsDeferralsAndTheAuditTrail() async throws {
        try await CLI.withDeployEndpoints {
            let setup = try Self.setup(slots: [2], policy: Self.localPolicy.replacingOccurrences(of: "refresh: false", with: "refresh: false\napproval: manual"))
            let plan = try CLI.run(["deploy", "--policy", setup.policy, "--dry-run"] + setup.common)
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(plan.stdout.contains("PLAN for policy lab-cli"))
            let pending = try CLI.run(["approvals", "list", "--policy", setup.policy, "--db", setup.db, "--output", "json"])
            #expect(pending.stdout.contains("\"package\" : \"patchlab-canary\"") && pending.stdout.contains("\"state\" : \"pending\""), "\(pending.stdout)\(pending.stderr)")
            let approve = try CLI.run(["approve", "--policy", setup.policy, "patchlab-canary", "--note", "CAB-1234", "--db", setup.db])
            #expect(approve.status == 0 && approve.stdout == "approved patchlab-canary@1.1 for lab-cli\n", "\(approve.stderr)")
            let deferred = try CLI.run(["defer", "slot2", "--until", "2h", "--reason", "quarter close", "--db", setup.db])
            #expect(deferred.status == 0, "\(deferred.stderr)")
            let held = try CLI.run(["deploy", "--policy", setup.policy, "--output", "json"] + setup.common)
            #expect(held.status == 0 && held.stdout.contains("\"status\" : \"deferred\""), "\(held.stdout)")
            #expect(try CLI.run(["defer", "slot2", "--cancel", "--db", setup.db]).status == 0)
            let installed = try CLI.run(["deploy", "--policy", setup.policy, "--output", "json", "--reason", "CHG-42"] + setup.common)
            #expect(installed.status == 0 && installed.stdout.contains("\"to_version\" : \"1.1\""), "\(installed.stdout)\(installed.stderr)")
            JSONSchema.validate(installed.stdout, schema: "deploy-run")
            // Issue 13: a Debian plan has severity null and no advisories, never missing keys.
            let planned = try #require(((try CLI.json(installed.stdout)["hosts"] as? [[String: Any]])?.first?["planned"] as? [[String: Any]])?.first)
            #expect(planned["severity"] is NSNull && (planned["advisories"] as? [Any])?.isEmpty == true, "\(planned)")
            // The reason is the run's, in its document and when history reprints it; history counts what it installed.
            let installedRun = try CLI.json(installed.stdout)
            let installedId = try #require(installedRun["run_id"] as? String)
            #expect(installedRun["reason"] as? String == "CHG-42")
            let reprinted = try CLI.json(try CLI.run(["history", "show", installedId, "--db", setup.db, "--output", "json"]).stdout)
            #expect(reprinted["reason"] as? String == "CHG-42")
            let listing = try #require(try JSONSerialization.jsonObject(with: Data(try CLI.run(["history", "--db", setup.db, "--output", "json"]).stdout.utf8)) as? [[String: Any]])
            let listed = try #require(listing.first { $0["run_id"] as? String == installedId })
            #expect(listed["installed"] as? Int == 1 && listing.first { $0["kind"] as? String == "plan" }?["installed"] as? Int == 0, "\(listing)")
            let table = try CLI.run(["history", "--db", setup.db])
            #expect(table.stdout.contains("INSTALLED"), "\(table.stdout)")
            let events = try CLI.run(["history", "events", "--db", setup.db, "--output", "json"])
            for action in ["approve", "defer", "undefer"] { #expect(events.stdout.contains("\"action\" : \"\(action)\"")) }
            #expect(events.stdout.contains("CAB-1234"))
        }
    }

    @Test func malformedPolicyAndUnknownRingAreUsageErrors() async throws {
        try await CLI.withDeployEndpoints {
            let setup = try Self.setup(slots: [], policy: "name: broken\ntargets: fleet\nreboot: sometimes\n")
            // An inventory without hosts is an error of its own; this host is never contacted.
            let inventory = try String(contentsOfFile: setup.inventory, encoding: .utf8)
            try (inventory + "        never-contacted: {ansible_host: 127.0.0.1, ansible_port: 9}\n").write(toFile: setup.inventory, atomically: true, encoding: .utf8)
            let bad = try CLI.run(["deploy", "--policy", setup.policy, "--dry-run"] + setup.common)
            #expect(bad.status == 65)
            #expect(bad.stderr.contains("\(setup.policy):3:"), "\(bad.stderr)")
            try Self.localPolicy.write(toFile: setup.policy, atomically: true, encoding: .utf8)
            let ring = try CLI.run(["deploy", "--policy", setup.policy, "--ring", "nope", "--dry-run"] + setup.common)
            #expect(ring.status == 1 && ring.stderr.contains("has no ring 'nope'"), "\(ring.stderr)")
        }
    }
}
