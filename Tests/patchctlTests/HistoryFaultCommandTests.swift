import Foundation
import LabSupport
import GRDB
import Testing
@testable import PatchCore

/// The history database under faults, as the real binary meets them: many processes opening a
/// new or older database at once, every reading command on a read-only, empty or foreign file.
@Suite("patchctl history faults CLI", .serialized)
struct HistoryFaultCommandTests {
    /// Starts every command at once and waits for all.
    static func concurrently(_ commands: [[String]]) async throws -> [CLI.Result] {
        let running = try commands.map { try CLI.start($0) }
        var results: [CLI.Result] = []
        for process in running { results.append(await CLI.finished(process)) }
        return results
    }

    @Test func twentyFirstOpensAndFiveUpgradesAtOnceAllSucceed() async throws {
        let folder = try CLI.temporaryDirectory()
        let fresh = folder.appendingPathComponent("new.db").path
        let add = { (db: String, n: Int) in ["exception", "add", "web\(n)", "apt", "--until", "1d", "--reason", "r", "--owner", "ops", "--db", db] }
        let first = try await Self.concurrently((1...20).map { add(fresh, $0) })
        #expect(first.filter { $0.status != 0 }.map(\.stderr) == [], "every concurrent first open succeeds")
        let listed = try await CLI.runWaiting(["exception", "list", "--output", "json", "--db", fresh])
        #expect(((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [Any])?.count == 20, "\(listed.stderr)")

        // An older database (as patchctl wrote it before severity and the finding identity) opened by 5 at once.
        let old = folder.appendingPathComponent("old.db").path
        do {
            let pool = try DatabasePool(path: old)
            try HistoryStore.migrator.migrate(pool, upTo: "v6: first-seen index for compliance reports")
        }
        let upgrades = try await Self.concurrently((1...5).map { add(old, $0) })
        #expect(upgrades.filter { $0.status != 0 }.map(\.stderr) == [], "every concurrent upgrade succeeds")
        let queue = try DatabaseQueue(path: old)
        #expect(try await queue.read { try HistoryStore.migrator.hasCompletedMigrations($0) })
        #expect(try await queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM compliance_exceptions") } == 5)
    }

    /// A history with two finished scans, an exception and an approval decision, written through
    /// the store as scan and the other commands write it.
    static func history(at path: String) async throws -> String {
        let store = try HistoryStore(path: path)
        var last = ""
        for day in 0..<2 {
            let at = Date().addingTimeInterval(Double(day - 2) * 86_400)
            let id = try store.beginRun(kind: .scan, startedAt: at, inventory: "inv.yml", hostPattern: nil, options: nil, version: "test")
            let update = PendingUpdate(name: "libc6", installedVersion: "1", availableVersion: "\(2 + day)", source: "Debian-Security:12/oldstable-security",
                                       security: true, architecture: "amd64")
            try store.record(runId: id, hosts: [HostScan(name: "web1", address: "10.0.0.1", port: 22, status: .ok,
                                                         os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"), rebootRequired: false,
                                                         updates: [update], startedAt: at, finishedAt: at.addingTimeInterval(1))])
            try store.finishRun(runId: id, finishedAt: at.addingTimeInterval(2))
            last = id
        }
        _ = try store.addException(host: "web1", target: "apt", until: Date().addingTimeInterval(86_400), reason: "r", owner: "ops", by: "t", at: Date())
        try store.decide(policy: "p", package: "libc6", version: "3", state: .approved, by: "t", note: nil, at: Date())
        return last
    }

    static func readCommands(db: String, run: String) -> [[String]] {
        [["history"], ["history", "show", run], ["history", "events"], ["report", "compliance"], ["report", "hosts"], ["report", "trend"],
         ["diff"], ["approvals", "list", "--all"], ["exception", "list"], ["package", "list"]].map { $0 + ["--db", db] }
    }

    @Test func everyReadingCommandOpensReadOnlyAndRefusesWhatIsNotAHistory() async throws {
        let disk = try Tmpfs.mount(sizeKiB: 8192)
        defer { disk.unmount() }
        let db = disk.path + "/history.db"
        let run = try await Self.history(at: db)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: db))
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
        var outputs: [String] = []
        for command in Self.readCommands(db: db, run: run) {
            let result = try await CLI.runWaiting(command)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            outputs.append(result.stdout)
            #expect(!FileManager.default.fileExists(atPath: db + "-wal") && !FileManager.default.fileExists(atPath: db + "-shm"), "\(command) left -wal/-shm")
            #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == bytes, "\(command) changed the database file")
        }
        // On a read-only file system every reading command still works, and says the same.
        try disk.remount(readOnly: true)
        for (command, before) in zip(Self.readCommands(db: db, run: run), outputs) {
            let result = try await CLI.runWaiting(command)
            #expect(result.status == 0, "read-only FS: \(command): \(result.stderr)")
            if !command.contains("report") { #expect(result.stdout == before, "\(command)") }
        }
        try disk.remount(readOnly: false)

        // A 0-byte file and a file that is no database: refused, exit 1 (a store error), left as they were.
        let empty = disk.path + "/empty.db"
        FileManager.default.createFile(atPath: empty, contents: nil)
        let text = disk.path + "/notes.db"
        try "not a database\n".write(toFile: text, atomically: true, encoding: .utf8)
        for (file, message) in [(empty, "empty (0 bytes)"), (text, "not an SQLite database")] {
            for command in Self.readCommands(db: file, run: "x") {
                let result = try await CLI.runWaiting(command)
                #expect(result.status == 1, "\(command): \(result.stdout)")
                #expect(result.stderr.contains(message), "\(command): \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: file + "-wal"))
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty, "the empty file got no schema")
        #expect(try String(contentsOfFile: text, encoding: .utf8) == "not a database\n")
    }

    @Test(.enabled(if: CLI.labEnabled)) func diskFullDuringAScanKeepsTheResultsAndTheRun() async throws {
        let disk = try Tmpfs.mount(sizeKiB: 4096)
        defer { disk.unmount() }
        let db = disk.path + "/history.db"
        let inventory = try CLI.temporaryDirectory().appendingPathComponent("inventory.yml").path
        try """
            all:
              vars: {ansible_user: root, ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
              hosts:
                web1: {ansible_host: 127.0.0.1, ansible_port: \(try CLI.lab("LAB_PORT"))}
                slow1: {ansible_host: 127.0.0.2, ansible_port: \(try CLI.lab("LAB_SLOW_PORT"))}

            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let args = ["-i", inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db]
        // The history exists before the run, as on any machine that scanned before.
        #expect(try await CLI.runWaiting(["scan", "--limit", "web1"] + args).status == 0)
        // That run left its WAL behind, and a later run writes over the WAL's space without needing new
        // blocks: an unchanged host's scan (its finding intervals only move) would fit. Truncate it.
        _ = try await DatabaseQueue(path: db).writeWithoutTransaction { try $0.checkpoint(.truncate) }
        // 20 s: web1's scan must finish on a loaded machine; slow1 (sleep 600) times out either way.
        let running = try CLI.start(["scan", "--command-timeout", "20", "--output", "json"] + args)
        // The run is recorded and its journal space reserved the moment the journal exists: fill the disk then.
        let journal = db + ".journal"
        let deadline = Date().addingTimeInterval(120)
        var status = stat()
        while !(stat(journal, &status) == 0 && status.st_blocks > 0), Date() < deadline { usleep(5_000) }
        disk.fill()
        let result = await CLI.finished(running)
        #expect(result.status == 1, "a history that could not be written is an error: \(result.stderr)")
        #expect(result.stderr.contains("could not be written") && result.stderr.contains(journal), "\(result.stderr)")
        let document = try CLI.json(result.stdout)
        let hosts = try #require(document["hosts"] as? [[String: Any]], "results are on stdout: \(result.stdout)")
        #expect(hosts.compactMap { $0["name"] as? String }.sorted() == ["slow1", "web1"])
        let runId = try #require(document["run_id"] as? String)
        #expect(FileManager.default.fileExists(atPath: journal))

        disk.free()
        // Reading says there is more than the database holds, and imports nothing.
        let before = try await CLI.runWaiting(["history", "--db", db])
        #expect(before.status == 0 && before.stderr.contains(journal), "\(before.stderr)")
        #expect(FileManager.default.fileExists(atPath: journal))
        // The next recording command imports the journal; the run reads `incomplete`, with its hosts.
        #expect(try await CLI.runWaiting(["exception", "add", "web1", "apt", "--until", "1d", "--reason", "r", "--owner", "ops", "--db", db]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: journal))
        let history = try await CLI.runWaiting(["history", "--output", "json", "--db", db])
        let runs = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        let run = try #require(runs.first { $0["run_id"] as? String == runId })
        #expect(run["state"] as? String == "incomplete" && run["hosts"] as? Int == 2, "\(run)")
    }
}

/// Deployments under faults: the disk fills up, the controller is killed (SIGKILL) mid-install.
@Suite("patchctl deploy faults CLI", .serialized, .enabled(if: CLI.labEnabled))
struct DeployFaultCommandTests {
    typealias D = DeployCommandTests

    static func runs(_ db: String) async throws -> [[String: Any]] {
        let history = try await CLI.runWaiting(["history", "--output", "json", "--db", db])
        return try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]], "\(history.stderr)")
    }

    static func shown(_ db: String, _ run: String) async throws -> [String: Any] {
        let show = try await CLI.runWaiting(["history", "show", run, "--output", "json", "--db", db])
        return try CLI.json(show.stdout)
    }

    /// Waits until no process runs inside `root` any more (the remote apt of a killed controller).
    static func waitForQuiet(_ root: String) throws {
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let busy = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.contains { pid in
                pid.allSatisfy(\.isNumber) && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/root")) == root
            } ?? false
            if !busy { return }
            usleep(50_000)
        }
        Issue.record("processes still running in \(root) after 120 s")
    }

    @Test func diskFullDuringADeployStopsNewHostsPrintsResultsAndJournals() async throws {
        try await CLI.withDeployEndpoints {
            let setup = try D.setup(slots: [1, 2, 3], policy: D.localPolicy)
            let disk = try Tmpfs.mount(sizeKiB: 4096)
            defer { disk.unmount() }
            let db = disk.path + "/history.db"
            let common = ["-i", setup.inventory, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", db]
            try D.slowDpkg(setup.roots[0], seconds: 2)
            let began = Date()
            let running = try CLI.start(["deploy", "--policy", setup.policy, "--forks", "1", "--output", "json"] + common)
            // The disk fills while the first host's apt runs: its intent is recorded, its outcome cannot be.
            let filled = D.whenDpkgRuns(setup.roots[0]) { disk.fill() }
            let result = await CLI.finished(running)
            filled.wait()
            #expect(result.status == 1, "\(result.stderr)")
            #expect(Date().timeIntervalSince(began) < 300, "deploy took \(Date().timeIntervalSince(began)) s: \(result.stderr)")
            let document = try CLI.json(result.stdout)
            let hosts = try #require(document["hosts"] as? [[String: Any]], "results are on stdout")
            // slot2 may have been started before the first failed write (slot1's outcome is written up to a
            // second after it finished): then it stopped before installing, or its intent could not be
            // recorded; either way nothing was sent to it.
            // Every targeted host is listed; slot3 was never started (listed as not_started).
            #expect(hosts.map { $0["name"] as? String } == ["slot1", "slot2", "slot3"], "\(hosts)")
            #expect(hosts.last?["status"] as? String == "not_started", "no host started after the first failed write")
            #expect(hosts.first?["name"] as? String == "slot1" && hosts.first?["status"] as? String == "ok")
            for host in hosts.dropFirst() {
                // Stopped before its install, its intent not recorded, or never started: `--resume` redoes it.
                #expect(["interrupted", "not_started"].contains(host["status"] as? String ?? ""), "\(host)")
            }
            #expect(try D.canary(setup.roots[0]) == "1.1 ii")
            #expect(try D.canary(setup.roots[1]) == "1.0 ii", "slot2 was never touched")
            let runId = try #require(document["run_id"] as? String)
            #expect((document["history_error"] as? [String: Any])?["journal"] as? String == db + ".journal")
            #expect(FileManager.default.fileExists(atPath: db + ".journal"))

            disk.free()
            #expect(try await CLI.runWaiting(["exception", "add", "slot1", "apt", "--until", "1d", "--reason", "r", "--owner", "ops", "--db", db]).status == 0)
            let run = try #require(try await Self.runs(db).first { $0["run_id"] as? String == runId })
            #expect(run["state"] as? String == "incomplete", "\(run)")
            let shown = try await Self.shown(db, runId)
            let recorded = try #require(shown["hosts"] as? [[String: Any]])
            #expect(recorded.compactMap { $0["name"] as? String } == hosts.compactMap { $0["name"] as? String }, "the journal had every host printed")
            #expect(recorded.first?["status"] as? String == "ok" && (recorded.first?["installed"] as? [Any])?.count == 1, "\(recorded)")

            let started = Date()
            let resumed = try await CLI.runWaiting(["deploy", "--resume", runId, "--output", "json"] + common.suffix(4))
            #expect(resumed.status == 0, "\(resumed.stderr)\(resumed.stdout)")
            #expect(Date().timeIntervalSince(started) < 300, "resume took \(Date().timeIntervalSince(started)) s: \(resumed.stdout)")
            for root in setup.roots { #expect(try D.canary(root) == "1.1 ii") }
        }
    }

    @Test func killedMidInstallLeavesFinishedHostsAndTheIntentThenResumeCompletes() async throws {
        try await CLI.withDeployEndpoints {
            let setup = try D.setup(slots: [1, 2, 3], policy: D.localPolicy)
            // slot2's install is held until the test has killed the controller: slot2 is mid-install
            // when it dies, however long the polling below takes.
            let hold = try D.holdDpkg(setup.roots[1])
            defer { hold.release() }
            let running = try CLI.start(["deploy", "--policy", setup.policy, "--forks", "1", "--output", "ndjson"] + setup.common)
            let pid = running.process.processIdentifier
            let dpkg = D.whenDpkgRuns(setup.roots[1]) {}
            dpkg.wait()
            // slot1 finished before slot2's install: history has it within about a second, without the run ending.
            var runId: String?
            var slot1: [String: Any]?
            let deadline = Date().addingTimeInterval(120)  // slot2 is held until then: the bound only ends a failing test
            while slot1 == nil, Date() < deadline {
                runId = try await Self.runs(setup.db).first?["run_id"] as? String
                if let runId { slot1 = (try await Self.shown(setup.db, runId)["hosts"] as? [[String: Any]])?.first { $0["name"] as? String == "slot1" && $0["status"] as? String == "ok" } }
                if slot1 == nil { usleep(50_000) }
            }
            kill(pid, SIGKILL)
            let streamed = await CLI.finished(running)
            hold.release()
            let id = try #require(runId)
            #expect(slot1 != nil, "slot1's result was not in history while slot2 installed")
            // Issue 13: the line streamed when slot1 finished names the run (nothing else was printed).
            let line = try CLI.json(String(try #require(streamed.stdout.split(separator: "\n").first)))
            #expect(line["name"] as? String == "slot1" && line["run_id"] as? String == id, "\(streamed.stdout)")
            JSONSchema.validate(streamed.stdout, schema: "deploy-host-line", lines: true)
            try Self.waitForQuiet(setup.roots[1])

            let run = try #require(try await Self.runs(setup.db).first { $0["run_id"] as? String == id })
            #expect(run["state"] as? String == "running", "killed: never finished")
            let hosts = try #require(try await Self.shown(setup.db, id)["hosts"] as? [[String: Any]])
            let slot2 = try #require(hosts.first { $0["name"] as? String == "slot2" }, "slot2's intent was recorded before its install")
            #expect(slot2["status"] as? String == "interrupted")
            #expect((slot2["planned"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["patchlab-canary"], "\(slot2)")
            #expect((slot2["commands"] as? [String])?.contains { $0.contains("patchlab-canary") } == true)
            #expect(!hosts.contains { $0["name"] as? String == "slot3" })

            let resumed = try await CLI.runWaiting(["deploy", "--resume", id, "--output", "json", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--db", setup.db])
            #expect(resumed.status == 0, "\(resumed.stderr)\n\(resumed.stdout)")
            let finished = try CLI.json(resumed.stdout)
            #expect(finished["outcome"] as? String == "finished")
            #expect((finished["hosts"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "ok" } == true)
            for root in setup.roots {
                #expect(try D.canary(root) == "1.1 ii")
                #expect(try D.audit(root).isEmpty)
            }
        }
    }
}
