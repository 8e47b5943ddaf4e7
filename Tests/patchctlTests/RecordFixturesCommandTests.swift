import Foundation
import LabSupport
import PatchSSH
import Testing
@testable import PatchCore

/// `make record-fixtures`'s command, `patchctl record-fixtures`, against the lab's Debian 13 endpoint
/// (a real sshd, apt 3.0 in the trixie tree), logged in as the lab's non-root account so that a
/// user name is there to scrub. The tree's os-release gets one more line holding the host's name,
/// the user, addresses and a MAC, so that the scrubbing has something to bite on in the output.
@Suite("record-fixtures against the lab's Debian 13 endpoint", .serialized, .enabled(if: CLI.labEnabled))
struct RecordFixturesCommandTests {
    static func resetTrixie() throws {
        let script = try CLI.lab("LAB_TRIXIE_SCRIPT")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["reset"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try #require(process.waitForExit() == 0, "\(script) reset failed")
    }

    static func options() throws -> ConnectionOptions {
        ConnectionOptions(knownHostsPath: try CLI.lab("LAB_KNOWN_HOSTS"), connectTimeout: 10, commandTimeout: 120,
                          environment: ["HOME": NSTemporaryDirectory()])
    }

    /// Whether `word` stands in `text` as a word of its own (not inside `open-vm-tools`).
    static func containsWord(_ text: String, _ word: String) -> Bool {
        let escaped = NSRegularExpression.escapedPattern(for: word)
        let pattern = try! NSRegularExpression(pattern: "(?<![A-Za-z0-9_.-])\(escaped)(?![A-Za-z0-9_-])", options: [.caseInsensitive])
        return pattern.firstMatch(in: text, range: NSRange(location: 0, length: (text as NSString).length)) != nil
    }

    @Test func recordsTheScansOwnOutputScrubbedAndParsingToTheLiveScan() async throws {
        try await CLI.withLabLock("trixie-endpoint.lock") {
            try Self.resetTrixie()
            defer { try? Self.resetTrixie() }
            let user = try CLI.lab("LAB_NOPASSWD_USER")
            let port = try #require(Int(try CLI.lab("LAB_TRIXIE_PORT")))
            let host = Host(name: "127.0.0.1", port: port, user: user, privateKeyFile: try CLI.lab("LAB_KEY"))

            // The name the host gives a session (the chroot shares this machine's UTS name).
            let asked = await HostFanOut(options: try Self.options()).run(
                hosts: [host], forks: 1, work: { try await $0.run("hostname").stdout }, failed: { _, failure, _ in "failed: \(failure.message)" },
                onFinished: { _ in })
            let hostname = try #require(asked.first?.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(!hostname.isEmpty && !hostname.hasPrefix("failed:"), "\(hostname)")
            let identifying = ["10.20.30.40", "fe80::a00:27ff:fe4e:66a1", "52:54:00:12:34:56"]
            let osRelease = try CLI.lab("LAB_TRIXIE_ROOT") + "/usr/lib/os-release"
            let handle = try #require(FileHandle(forWritingAtPath: osRelease))
            handle.seekToEndOfFile()
            handle.write(Data("PATCHLAB_NOTE=\"\(hostname) \(user) \(identifying.joined(separator: " ")) 127.0.0.1\"\n".utf8))
            handle.closeFile()

            let out = try CLI.temporaryDirectory()
            let started = Date()
            let result = try await CLI.runWaiting([
                "record-fixtures", "\(user)@127.0.0.1:\(port)", "--private-key", try CLI.lab("LAB_KEY"),
                "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--out", out.path,
            ])
            #expect(result.status == 0, "\(result.stderr)")
            let folders = try FileManager.default.contentsOfDirectory(atPath: out.path)
            #expect(folders == ["debian-13-" + FixtureRecorder.day(started)])
            let folder = out.appendingPathComponent(try #require(folders.first))
            #expect(Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)) == ["SOURCE.md", "scan-command.txt", "scan-output.txt"])
            func read(_ name: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) }
            let command = try read("scan-command.txt"), output = try read("scan-output.txt"), source = try read("SOURCE.md")

            // The scan's own command, and its output read by the scan's own parser equals a live scan.
            #expect(command == ScanScript.posix.command(refresh: false) + "\n")
            let recorded = CommandResult(exitStatus: 0, stdout: output, stderr: "")
            let (platform, findings) = try await ScanRunner.read(recorded, of: .posix, host: host)
            #expect(platform.os.id == "debian" && platform.os.version == "13")
            let live = try #require(await ScanRunner(engine: HostFanOut(options: try Self.options())).scan([host], options: ScanOptions(forks: 1)).first)
            #expect(live.status == .ok, "\(live.error ?? "")")
            #expect(findings.updates == live.updates)
            #expect(findings.updates.contains { $0.name == "patchlab-tool" })
            #expect(findings.installedCount == live.installedCount && findings.rebootRequired == live.rebootRequired)

            // Scrubbed: the host's name, the login user, the addresses and the MAC; loopback kept.
            for text in [output, source, result.stdout] {
                #expect(!Self.containsWord(text, hostname), "\(hostname) left in \(text.prefix(200))")
                #expect(!text.contains(user))
                for value in identifying { #expect(!text.contains(value)) }
            }
            #expect(output.contains("PATCHLAB_NOTE=\"host-1 user 192.0.2.1 2001:db8::1 00:00:5e:00:53:01 127.0.0.1\""))
            #expect(source.contains("Debian GNU/Linux 13 (trixie)") && source.contains("exit status 0"))
            #expect(source.contains("(1 occurrences)") && source.contains("as `user`\n  (1;"))
        }
    }

    @Test func anUnreachableHostExitsTwoAndWritesNothing() async throws {
        let out = try CLI.temporaryDirectory()
        let result = try CLI.run(["record-fixtures", "root@127.0.0.1:1", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--out", out.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("127.0.0.1"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }

    /// `SHELL_TYPE=powershell` sends the scan's PowerShell command (`ScanScript.powershell`): the lab's
    /// POSIX host has no powershell.exe, which the error says; nothing is written.
    @Test func aPowerShellShellTypeSendsThePowerShellScan() async throws {
        let out = try CLI.temporaryDirectory()
        // Held: a reset swapping the tree under the session would fail it for another reason.
        let result = try await CLI.withLabLock("trixie-endpoint.lock") {
            try await CLI.runWaiting([
                "record-fixtures", "root@127.0.0.1:\(try CLI.lab("LAB_TRIXIE_PORT"))", "--shell-type", "powershell",
                "--private-key", try CLI.lab("LAB_KEY"), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"), "--out", out.path,
            ])
        }
        #expect(result.status == 2)
        #expect(result.stderr.contains("the Windows scan printed no OS facts") && result.stderr.contains("powershell.exe"), "\(result.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).isEmpty)
    }
}
