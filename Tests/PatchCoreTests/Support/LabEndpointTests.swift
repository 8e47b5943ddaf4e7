import Foundation
import Testing
@testable import PatchCore
import PatchSSH

/// The lab's deploy endpoints themselves (lab/slot.sh, lab/reboot-supervisor.sh), through real SSH:
/// what the deploy tests rely on. Every wait polls with a deadline. Tests that use slots (5 and 6 only)
/// or the reboot endpoint hold them through `Lab.withDeployEndpoints`.
@Suite("Lab deploy endpoints: slots, reboot, logged-in users, broken dpkg", .serialized, .enabled(if: Lab.enabled))
struct LabEndpointTests {
    private func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// Runs `command` on `host` and requires that it ran (whatever its exit status).
    private func result(_ command: String, on host: Host, _ options: ConnectionOptions) async throws -> CommandResult {
        let ran = try await Lab.run(command, on: host, options)
        return try #require(ran.result, "\(host.name): \(command): \(ran.status.map(\.rawValue) ?? "") \(ran.message)")
    }

    /// Polls `condition` every 50 ms until it holds or `seconds` pass; returns whether it held.
    private func poll(for seconds: Double, _ condition: () -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return condition()
    }

    @Test func slotsAreIndependentFreshCopies() async throws {
        try await Lab.withDeployEndpoints { try await self.independentSlots() }
    }

    private func independentSlots() async throws {
        let one = try Lab.resetSlot(5), two = try Lab.resetSlot(6)
        let deployPort = try Lab.port("LAB_DEPLOY_PORT")
        #expect(one.name == "slot5" && one.address == "127.0.3.5" && one.port == deployPort && one.user == "root")
        let options = try Lab.options()
        let marker = "/root/lab-slot-marker"
        let probe = "test -e \(marker) && cat \(marker) || echo absent"

        // Both fresh slots at once, on one engine run: neither has a marker.
        let fresh = await Lab.run([probe], on: [one, two], options)
        for (host, outcomes) in zip([one, two], fresh) {
            #expect(outcomes.first.map { trimmed($0.result?.stdout ?? $0.message) } == "absent", "\(host.name)")
        }
        _ = try await result("echo one > \(marker)", on: one, options)
        #expect(trimmed(try String(contentsOfFile: try Lab.slotRoot(5) + marker, encoding: .utf8)) == "one")
        #expect(!FileManager.default.fileExists(atPath: try Lab.slotRoot(6) + marker))
        #expect(!FileManager.default.fileExists(atPath: try Lab.value("LAB_ROOT") + marker), "the base tree must stay untouched")
        #expect(trimmed(try await result(probe, on: two, options).stdout) == "absent")
        _ = try await result("echo two > \(marker)", on: two, options)

        // A reset brings slot 5 back to the base tree; slot 6 keeps what it had.
        _ = try Lab.resetSlot(5)
        #expect(trimmed(try await result(probe, on: one, options).stdout) == "absent")
        #expect(!FileManager.default.fileExists(atPath: try Lab.slotRoot(5) + marker))
        #expect(trimmed(try await result(probe, on: two, options).stdout) == "two")
    }

    @Test func deployPortRefusesAddressesThatAreNoSlot() async throws {
        let knownHosts = try Lab.temporaryDirectory().appendingPathComponent("known_hosts").path
        let host = try Lab.host("not-a-slot", address: "127.0.0.1", portKey: "LAB_DEPLOY_PORT")
        let ran = try await result("echo ran", on: host, try Lab.options(knownHosts: knownHosts, acceptNew: true))
        #expect(ran.exitStatus == 1)
        #expect(!ran.stdout.contains("ran"))
        #expect(ran.stderr.contains("serves only the deploy slots"), "\(ran.stderr)")
    }

    @Test func rebootDropsTheEndpointAndComesBackWithANewBootID() async throws {
        try await Lab.withDeployEndpoints { try await self.rebootAndComeBack() }
    }

    private func rebootAndComeBack() async throws {
        let host = try Lab.resetRebootHost()
        #expect(host.name == "rebooter")
        let root = try Lab.rebootRoot()
        let address = try Lab.value("LAB_REBOOT_HOST"), port = try Lab.port("LAB_REBOOT_PORT")
        let downtime = try #require(Double(try Lab.value("LAB_REBOOT_DOWNTIME")))
        let options = try Lab.options(commandTimeout: 60)

        let before = try Lab.bootID(root: root)
        #expect(UUID(uuidString: before) != nil, "\(before)")
        let read = try await result("cat /proc/sys/kernel/random/boot_id && touch /var/run/reboot-required", on: host, options)
        #expect(read.exitStatus == 0 && trimmed(read.stdout) == before)
        #expect(FileManager.default.fileExists(atPath: root + "/run/reboot-required"))

        // The session sleeps on after asking for the reboot: only the reboot can end it early.
        let started = Date()
        let ran = try await Lab.run("shutdown -r now 'patchctl lab test' && sleep 30 && echo survived", on: host, options)
        let dropped = Date()
        #expect(dropped.timeIntervalSince(started) < 20, "the reboot did not end the open session")
        #expect(!ran.visibleText.contains("survived"))

        // Down (connections refused) for about LAB_REBOOT_DOWNTIME seconds, then up again.
        let refused = try await poll(for: 5) { !Lab.accepts(address, port: port) }
        #expect(refused, "the reboot endpoint never went down")
        let up = try await poll(for: downtime + 15) { Lab.accepts(address, port: port) }
        try #require(up, "the reboot endpoint did not come back")
        try #require(downtime >= 1, "LAB_REBOOT_DOWNTIME \(downtime) s is too short to tell down from up")
        #expect(Date().timeIntervalSince(dropped) >= downtime / 2)

        let after = try await result("cat /proc/sys/kernel/random/boot_id; test -e /var/run/reboot-required && echo reboot-required; true",
                                     on: host, options)
        let lines = after.stdout.split(separator: "\n").map(String.init)
        let now = try Lab.bootID(root: root)
        #expect(lines.first != before && lines.first == now, "\(after.stdout)")
        #expect(UUID(uuidString: lines.first ?? "") != nil)
        #expect(!lines.contains("reboot-required"))
        let log = try String(contentsOfFile: root + "/var/log/patchctl-lab-shutdown.log", encoding: .utf8)
        #expect(log.contains("shutdown '-r' 'now' 'patchctl lab test'"), "\(log)")
    }

    @Test func scheduledRebootIsAnnouncedAndCanBeCancelled() async throws {
        try await Lab.withDeployEndpoints { try await self.scheduleAndCancel() }
    }

    private func scheduleAndCancel() async throws {
        let host = try Lab.resetRebootHost()
        let root = try Lab.rebootRoot()
        let request = root + "/run/patchctl-lab/reboot-request"
        let options = try Lab.options()
        let before = try Lab.bootID(root: root)

        // The supervisor logs when it sees the request and when it drops it: the events waited for.
        let supervisorLog = try Lab.value("LAB_DIR") + "/reboot-supervisor.log"
        func logLines() -> [Substring] { ((try? String(contentsOfFile: supervisorLog, encoding: .utf8)) ?? "").split(separator: "\n") }
        let logged = logLines().count
        func loggedSince(_ text: String) -> Bool { logLines().dropFirst(logged).contains { $0.hasSuffix(text) } }
        let scheduled = try await result("shutdown -r +2 'patchctl lab test'", on: host, options)
        #expect(scheduled.exitStatus == 0)
        #expect(try await poll(for: 120) { loggedSince("reboot requested in 2 minute(s)") }, "the supervisor never saw the request")
        #expect(scheduled.stderr.hasPrefix("Reboot scheduled for ") && scheduled.stderr.contains(", use 'shutdown -c' to cancel."),
                "\(scheduled.stderr)")
        #expect((try? String(contentsOfFile: request, encoding: .utf8)) == "2\n")
        let cancelled = try await result("shutdown -c", on: host, options)
        #expect(cancelled.exitStatus == 0)
        #expect(!FileManager.default.fileExists(atPath: request))

        // Forms patchctl never uses are refused, and request nothing.
        for bad in ["shutdown", "shutdown -h now", "shutdown -r", "shutdown -r 23:00", "shutdown -r +1x", "shutdown -k now"] {
            let refused = try await result(bad, on: host, options)
            #expect(refused.exitStatus == 1 && refused.stderr.contains("unsupported"), "\(bad): \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: request))

        // The supervisor dropped the pending reboot (it reboots only for a pending request), so none
        // comes: the endpoint still answers with the same boot id.
        #expect(try await poll(for: 120) { loggedSince("pending reboot cancelled") }, "the supervisor never dropped the request")
        #expect(!loggedSince("reboot after 2 minute(s)"))
        let still = try await result("cat /proc/sys/kernel/random/boot_id", on: host, options)
        #expect(trimmed(still.stdout) == before)
        #expect(try Lab.bootID(root: root) == before)
    }

    @Test func whoListsTheUsersLoggedInWithLabLogin() async throws {
        try await Lab.withDeployEndpoints { try await self.loggedInUsers() }
    }

    private func loggedInUsers() async throws {
        let host = try Lab.resetSlot(6)
        let options = try Lab.options()
        #expect(trimmed(try await result("who", on: host, options).stdout).isEmpty)

        try Lab.login(slot: "6", user: "alice")
        let who = try await result("who", on: host, options)
        #expect(who.exitStatus == 0)
        let line = try #require(who.stdout.split(separator: "\n").first.map(String.init), "who lists nobody")
        #expect(line.split(separator: " ").prefix(2) == ["alice", "pts/0"], "\(who.stdout)")
        // A non-root login sees the same.
        let asUser = try await result("who", on: try Lab.host("slot6-user", address: host.address, portKey: "LAB_DEPLOY_PORT",
                                                              user: try Lab.value("LAB_NOPASSWD_USER")), options)
        #expect(asUser.stdout.hasPrefix("alice "), "\(asUser.stdout)")

        try Lab.logout(slot: "6")
        #expect(trimmed(try await result("who", on: host, options).stdout).isEmpty)
    }

    @Test func brokenDpkgIsReportedUntilConfigured() async throws {
        try await Lab.withDeployEndpoints { try await self.brokenDpkg() }
    }

    private func brokenDpkg() async throws {
        let host = try Lab.resetSlot(6)
        let options = try Lab.options(commandTimeout: 60)
        #expect(trimmed(try await result("dpkg --audit", on: host, options).stdout).isEmpty)

        try Lab.breakDpkg(slot: "6")
        let audit = try await result("dpkg --audit", on: host, options)
        #expect(audit.stdout.contains("unpacked but not yet configured") && audit.stdout.contains("patchlab-tool"), "\(audit.stdout)")
        let repair = try await result("dpkg --configure -a", on: host, options)
        #expect(repair.exitStatus == 0, "\(repair.stderr)")
        #expect(trimmed(try await result("dpkg --audit", on: host, options).stdout).isEmpty)
        #expect(try await result("dpkg-query -W -f='${Version} ${db:Status-Abbrev}' patchlab-tool", on: host, options).stdout == "2.0 ii ")

        // The harder case: dpkg killed mid-configure, so apt refuses to do anything until repaired.
        try Lab.slot(["break-dpkg", "6", "interrupted"])
        let apt = try await result("apt-get -y install patchlab-tool", on: host, options)
        #expect(apt.exitStatus == 100 && apt.stderr.contains("dpkg was interrupted"), "\(apt.stderr)")
        #expect(try await result("dpkg --configure -a", on: host, options).exitStatus == 0)
        #expect(trimmed(try await result("dpkg --audit", on: host, options).stdout).isEmpty)
    }
}
