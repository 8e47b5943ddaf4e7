import Foundation
import LabSupport
import Testing

/// The README's "point it at your own fleet" walkthrough, run as written against the lab: each
/// command of its `sh walkthrough` blocks (see `Walkthrough`) goes through bash, in order, in one
/// fresh folder, with the built `patchctl` first in PATH, and must exit as the README says (0
/// unless a `# exit N` comment says otherwise). A renamed flag or subcommand fails it.
///
/// The substitutions, as the README states them: `inventory.yml` in that folder is the lab's
/// inventories/lab.yml with its key path made absolute; HOME is a fresh folder whose
/// `~/.ssh/known_hosts` does not exist yet (the walkthrough's `--accept-new-host-keys` step fills
/// it, so the later steps depend on it); the history is a fresh database (`PATCHCTL_DB`); no
/// configuration file of this machine applies and no ssh-agent is offered.
@Suite("README walkthrough on the lab", .serialized)
struct ReadmeWalkthroughTests {
    static let readme = CLI.repository.appendingPathComponent("README.md")

    static func walkthrough() throws -> [Walkthrough.Command] {
        Walkthrough.commands(in: try String(contentsOf: readme, encoding: .utf8))
    }

    /// The extraction itself: what counts as a command, and what does not.
    @Test func extractionTakesOnlyWalkthroughBlocksWithContinuationsAndHereDocuments() {
        let markdown = """
            ```sh
            patchctl not-part-of-it
            ```
            ```sh walkthrough
            # a comment
            patchctl scan -i inventory.yml \\
              --details

            cat > p.yml <<'EOF'
            name: x
            # not a comment here
            EOF
            patchctl exec -i inventory.yml -- false   # exit 2
            ```
            ```cron
            15 2 * * * patchctl scan
            ```
            """
        let commands = Walkthrough.commands(in: markdown)
        #expect(commands == [
            .init(text: "patchctl scan -i inventory.yml \n  --details", expectedStatus: 0, line: 6),
            .init(text: "cat > p.yml <<'EOF'\nname: x\n# not a comment here\nEOF", expectedStatus: 0, line: 9),
            .init(text: "patchctl exec -i inventory.yml -- false   # exit 2", expectedStatus: 2, line: 13),
        ], "\(commands)")
    }

    /// The README has a walkthrough, and it covers the steps the front page promises.
    @Test func theReadmeHasAWalkthroughOfEveryStep() throws {
        let commands = try Self.walkthrough().map(\.text)
        for step in ["--list-hosts", "--accept-new-host-keys", "patchctl scan -i inventory.yml", "--dry-run", "--metrics-file"] {
            #expect(commands.contains { $0.contains(step) }, "no walkthrough command with \(step): \(commands)")
        }
        let lines = try String(contentsOf: Self.readme, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(lines <= 250, "README.md is a front page: \(lines) lines")
    }

    @Test(.enabled(if: CLI.labEnabled))
    func everyWalkthroughCommandRunsOnTheLab() async throws {
        let commands = try Self.walkthrough()
        try #require(!commands.isEmpty)
        let folder = try CLI.temporaryDirectory()
        let home = folder.appendingPathComponent("home")
        let work = folder.appendingPathComponent("fleet")
        for url in [home, work] { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        let labInventory = try String(contentsOf: CLI.repository.appendingPathComponent("inventories/lab.yml"), encoding: .utf8)
        let keyLine = "ansible_ssh_private_key_file: ../.lab/id_ed25519"
        try #require(labInventory.contains(keyLine), "inventories/lab.yml names its key differently now")
        try labInventory.replacingOccurrences(of: keyLine, with: "ansible_ssh_private_key_file: " + (try CLI.lab("LAB_KEY")))
            .write(to: work.appendingPathComponent("inventory.yml"), atomically: true, encoding: .utf8)

        var environment: [String: String?] = [:]
        for key in ProcessInfo.processInfo.environment.keys where key.hasPrefix("PATCHCTL_") { environment[key] = nil as String? }
        environment["SSH_AUTH_SOCK"] = nil as String?
        environment["HOME"] = home.path
        environment["PATH"] = CLI.binary.deletingLastPathComponent().path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        environment["PATCHCTL_DB"] = folder.appendingPathComponent("history.db").path
        environment["PATCHCTL_SYSTEM_CONFIG"] = "/nonexistent/patchctl-system-config.yml"
        environment["PATCHCTL_CONFIG"] = "/nonexistent/patchctl-user-config.yml"
        environment["STATE_DIRECTORY"] = folder.appendingPathComponent("state").path

        for command in commands {
            let output = try await TestProcess.run("/bin/bash", ["-o", "pipefail", "-c", command.text], environment: environment,
                                                   workingDirectory: work.path, timeout: .seconds(600))
            #expect(output.status == command.expectedStatus, "\(command) exited \(output.status), the README says \(command.expectedStatus):\n\(output.combined)")
            guard output.status == command.expectedStatus else { return }  // later steps build on this one
        }

        // What the steps claim to leave behind.
        let knownHosts = try String(contentsOf: home.appendingPathComponent(".ssh/known_hosts"), encoding: .utf8)
        #expect(knownHosts.contains("[127.0.0.1]:2222") || knownHosts.contains("127.0.0.1"), "\(knownHosts)")
        if FileManager.default.fileExists(atPath: work.appendingPathComponent("last-scan.json").path) {
            JSONSchema.validate(try String(contentsOf: work.appendingPathComponent("last-scan.json"), encoding: .utf8), schema: "scan-run")
        }
    }
}
