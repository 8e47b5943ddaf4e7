import Foundation
import LabSupport
import Testing

/// The real binary against crafted endpoints (lab/hostile/serve.sh): what an operator sees on a
/// terminal and in a spreadsheet, the controller's memory under a flood, and history replaying
/// exactly what was shown.
@Suite("patchctl against hostile endpoints", .serialized, .enabled(if: HostileEndpoint.canRun))
struct HostileEndpointCommandTests {
    static let goodUpdate = "Inst bash [5.2.15-2+b2] (5.2.15-2+b7 Debian-Security:12/stable-security [amd64])"

    func setUp(_ endpoint: HostileEndpoint, _ hosts: [(name: String, address: String)]) throws -> (folder: URL, common: [String]) {
        let folder = try CLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("inv.yml")
        try endpoint.inventory(hosts).write(to: inventory, atomically: true, encoding: .utf8)
        return (folder, ["-i", inventory.path, "--known-hosts", endpoint.knownHostsPath, "--db", folder.appendingPathComponent("h.db").path])
    }

    static func hasControlBytes(_ text: String) -> Bool {
        text.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
    }

    /// Defects 6 and 7: os-release fields and apt's error text carry OSC 0 (window title), OSC 52
    /// (clipboard), ESC[2J, CR and a spreadsheet formula. The terminal sees them made visible, live
    /// and when history replays them; the CSV cell is neutralised; JSON keeps the exact text.
    @Test func escapesAndFormulasFromAnEndpointAreNeutralised() throws {
        let osRelease = """
            PRETTY_NAME="=HYPERLINK(\\"http://x.invalid\\",\\"Debian\\")\u{1B}]0;owned\u{07}"
            NAME="=cmd|' /c calc'!A1\u{1B}]52;c;cm0gLXJmIC8=\u{07}"
            VERSION_ID="12\u{1B}[2J\r"
            ID=debian
            """
        let broken = "E: Sub-process \u{1B}[8mhidden\u{1B}[0m returned an error code (100)\rforged line"
        let endpoint = try HostileEndpoint([
            "127.0.6.1": .output(CraftedScan.debian(osRelease: osRelease, apt: Self.goodUpdate)),
            "127.0.6.2": .output(CraftedScan.debian(apt: broken, aptExit: 100)),
        ])
        let (_, common) = try setUp(endpoint, [("evil", "127.0.6.1"), ("broken", "127.0.6.2")])
        let scan = try CLI.run(["scan"] + common + ["--details"])
        #expect(scan.status == 2, "\(scan.stderr)")
        #expect(!Self.hasControlBytes(scan.stdout) && !Self.hasControlBytes(scan.stderr), "\(scan.stdout)")
        #expect(scan.stdout.contains("\\x1b]52;c;") && scan.stdout.contains("\\x1b[8mhidden"))

        let listing = try CLI.run(["history"] + Array(common[4...]) + ["--output", "json"])
        let runId = try #require((try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [[String: Any]])?.first?["run_id"] as? String)
        let shown = try CLI.run(["history", "show", runId] + Array(common[4...]))
        #expect(shown.status == 0 || shown.status == 2)
        #expect(!Self.hasControlBytes(shown.stdout) && shown.stdout.contains("\\x1b]52;c;cm0gLXJmIC8=\\x07"), "\(shown.stdout)")

        let json = try CLI.json(try CLI.run(["history", "show", runId, "--output", "json"] + Array(common[4...])).stdout)
        let evil = try #require((json["hosts"] as? [[String: Any]])?.first { $0["name"] as? String == "evil" })
        #expect((evil["os"] as? [String: Any])?["name"] as? String == "=cmd|' /c calc'!A1\u{1B}]52;c;cm0gLXJmIC8=\u{07}")

        let csv = try CLI.run(["report", "compliance", "--format", "csv", "-i", common[1]] + Array(common[4...]))
        #expect(csv.status == 0 || csv.status == 1, "\(csv.stderr)")
        let evilRows = csv.stdout.split(separator: "\r\n").filter { $0.contains("evil") }
        #expect(!evilRows.isEmpty)
        // The platform cell starts with the neutralising quote, never with '='.
        #expect(evilRows.allSatisfy { !$0.contains(",=") && !$0.contains(",\"=") }, "\(evilRows)")
        #expect(evilRows.allSatisfy { $0.contains("'=cmd|") })
    }

    /// Defect 2, measured on the controller process itself: with hosts streaming `yes`, its peak
    /// resident size (`runMeasured`, apart from the test runner's) stays far below the flood, the
    /// hosts are errors naming the cap, and the healthy host is scanned.
    @Test func floodingHostsKeepControllerMemoryBounded() throws {
        let endpoint = try HostileEndpoint([
            "127.0.6.1": .script("exec yes\n"),
            "127.0.6.2": .script("exec yes >&2\n"),
            "127.0.6.3": .output(CraftedScan.debian(apt: Self.goodUpdate)),
        ])
        let (folder, common) = try setUp(endpoint, [("flood-out", "127.0.6.1"), ("flood-err", "127.0.6.2"), ("fine", "127.0.6.3")])
        let (status, peakKiB, stdout) = try Self.runMeasured(["scan"] + common + ["--output", "json", "--command-timeout", "300"], in: folder)
        #expect(status == 2)
        let hosts = try #require(try CLI.json(stdout)["hosts"] as? [[String: Any]])
        for name in ["flood-out", "flood-err"] {
            let host = try #require(hosts.first { $0["name"] as? String == name })
            #expect(host["status"] as? String == "error")
            #expect((host["error"] as? String)?.contains("output exceeded 64 MiB") == true)
        }
        #expect(hosts.first { $0["name"] as? String == "fine" }?["status"] as? String == "ok")
        #expect(peakKiB < 300 * 1024, "controller peak RSS \(peakKiB) KiB")
    }

    /// Defect 9: a NUL in exec output is the same text live and in history (SQLite stores text up
    /// to a NUL: "nul\u{0}byte" used to come back as "nul").
    @Test func nulBytesAreTheSameLiveAndInHistory() throws {
        let endpoint = try HostileEndpoint(["127.0.6.1": .script("printf 'nul\\000byte\\n'\n")])
        let (_, common) = try setUp(endpoint, [("nul", "127.0.6.1")])
        let live = try CLI.run(["exec"] + common + ["--output", "json", "--", "anything"])
        let document = try CLI.json(live.stdout)
        let liveOut = try #require((document["hosts"] as? [[String: Any]])?.first?["stdout"] as? String)
        #expect(liveOut == "nul\u{FFFD}byte\n")
        let runId = try #require(document["run_id"] as? String)
        let replay = try CLI.json(try CLI.run(["history", "show", runId, "--output", "json"] + Array(common[4...])).stdout)
        #expect((replay["hosts"] as? [[String: Any]])?.first?["stdout"] as? String == liveOut)
    }

    /// Defect 17: repeated `Inst` lines and a multi-arch pair. A finding is (package, arch): what
    /// the scan printed live is exactly what history keeps (5 lines live used to be 3 stored).
    @Test func duplicateAndMultiArchFindingsAreTheSameLiveAndInHistory() throws {
        let apt = """
            Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])
            Inst libc6:i386 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian-Security:12/stable-security [i386])
            Inst libc6 [2.36-9+deb12u3] (2.36-9+deb12u4 Debian-Security:12/stable-security [amd64])
            \(Self.goodUpdate)
            \(Self.goodUpdate)
            """
        let endpoint = try HostileEndpoint(["127.0.6.1": .output(CraftedScan.debian(apt: apt))])
        let (_, common) = try setUp(endpoint, [("multi", "127.0.6.1")])
        let live = try CLI.json(try CLI.run(["scan"] + common + ["--output", "json"]).stdout)
        func findings(_ document: [String: Any]) -> [String] {
            let updates = ((document["hosts"] as? [[String: Any]])?.first?["updates"] as? [[String: Any]]) ?? []
            return updates.map { "\($0["name"] ?? "")/\($0["architecture"] ?? "")=\($0["available_version"] ?? "")" }.sorted()
        }
        #expect(findings(live) == ["bash/amd64=5.2.15-2+b7", "libc6/amd64=2.36-9+deb12u4", "libc6:i386/i386=2.36-9+deb12u4"])
        let runId = try #require(live["run_id"] as? String)
        let stored = try CLI.json(try CLI.run(["history", "show", runId, "--output", "json"] + Array(common[4...])).stdout)
        #expect(findings(stored) == findings(live))
    }

    /// Defect 8 through a real deploy: the endpoint offers an apt option as a package name. It is
    /// reported, never planned, and no command sent to the host carries it; the valid update is
    /// installed with `--` before its operands.
    @Test func optionInjectionNeverReachesADeployCommand() throws {
        let apt = """
            Inst -oDPkg::Pre-Invoke::=/bin/touch${IFS}/tmp/patchctl-pwned [1.0] (2.0 Debian-Security:12/stable-security [amd64])
            \(Self.goodUpdate)
            """
        let endpoint = try HostileEndpoint(["127.0.6.1": .script("""
            case "$SSH_ORIGINAL_COMMAND" in
              *"apt-get -s"*) cat "$HOSTILE_DIR/data/scan" ;;
              *dpkg-query*) printf 'bash\\t5.2.15-2+b7\\tii\\n' ;;
              *) : ;;
            esac

            """)])
        try Data(CraftedScan.debian(apt: apt)).write(to: endpoint.directory.appendingPathComponent("data/scan"))
        let (_, common) = try setUp(endpoint, [("injector", "127.0.6.1")])
        let deploy = try CLI.run(["deploy", "--policy", "minimal", "--output", "json"] + common)
        let sent = endpoint.commands("127.0.6.1")
        #expect(!sent.isEmpty)
        #expect(!sent.contains { $0.contains("Pre-Invoke") }, "\(sent)")
        #expect(sent.contains { $0.contains("install --only-upgrade -- bash=5.2.15-2+b7") }, "\(deploy.stdout) \(deploy.stderr)")
        #expect(deploy.stdout.contains("invalid: package name"), "\(deploy.stdout)")
    }

    /// Runs patchctl and returns its exit status, its own peak resident size and its stdout.
    /// The peak is measured by a python3 parent that forks and waits (wait4's `ru_maxrss` of the
    /// grandchild): posix_spawn's vfork child would report the test process's own peak instead,
    /// because Linux folds the high-water mark of the memory a process had before `exec` (here the
    /// parent's) into its `ru_maxrss`, and the test runner's peak varies with what else it ran.
    static func runMeasured(_ arguments: [String], in folder: URL) throws -> (Int32, Int, String) {
        let outPath = folder.appendingPathComponent("measured.out").path
        let usagePath = folder.appendingPathComponent("measured.usage").path
        let measure = """
            import os, sys
            pid = os.fork()
            if pid == 0:
                try:
                    os.execv(sys.argv[2], sys.argv[2:])
                finally:
                    os._exit(127)
            _, status, usage = os.wait4(pid, 0)
            with open(sys.argv[1], "w") as f:
                f.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss}\\n")
            """
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = folder.path
        environment.removeValue(forKey: "SSH_AUTH_SOCK")
        let python = "/usr/bin/python3"
        let argv = ([python, "-c", measure, usagePath, CLI.binary.path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, python, &actions, nil, argv, envp)
        try #require(spawned == 0, "posix_spawn: \(spawned)")
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            try #require(errno == EINTR, "waitpid: \(errno)")
        }
        try #require(status == 0, "python3 measuring patchctl: wait status \(status)")
        let usage = try String(contentsOfFile: usagePath, encoding: .utf8).split(separator: " ")
        let exitCode = try #require(usage.first.flatMap { Int32($0) })
        let peakKiB = try #require(usage.last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        try #require(exitCode >= 0, "patchctl ended by signal \(-exitCode)")
        return (exitCode, peakKiB, try String(contentsOfFile: outPath, encoding: .utf8))
    }
}
