import Foundation
import PatchCore
import Testing
import ArgumentParser
@testable import PatchctlCLI

/// Issue 13: `--color` for every command, NO_COLOR, and the progress line's phases.
@Suite struct DisplayTests {
    @Test func colourChoiceIsTakenFromAnywhereBeforeTheTerminator() throws {
        let (arguments, choice) = try Display.extractColor(["scan", "--color", "never", "-i", "inv.yml"])
        #expect(arguments == ["scan", "-i", "inv.yml"] && choice == .never)
        let (withEquals, last) = try Display.extractColor(["--color=always", "history", "--color=auto"])
        #expect(withEquals == ["history"] && last == .auto)
        // After `--` the words are exec's command, untouched.
        let (exec, none) = try Display.extractColor(["exec", "-i", "x", "--", "ls", "--color", "never"])
        #expect(exec == ["exec", "-i", "x", "--", "ls", "--color", "never"] && none == nil)
        #expect(throws: Display.InvalidChoice.self) { try Display.extractColor(["scan", "--color", "sometimes"]) }
        #expect(throws: Display.InvalidChoice.self) { try Display.extractColor(["scan", "--color"]) }
    }

    @Test func aCaptureIsNeverATerminalSoAutoMeansPlain() {
        let capture = OutputSink.capture()
        #expect(Display.layout(choice: nil, environment: [:], sink: capture) == .plain)
        #expect(Display.layout(choice: .always, environment: ["NO_COLOR": "1"], sink: capture) == TextLayout(colour: true, width: nil))
        #expect(Display.layout(choice: nil, environment: ["PATCHCTL_COLOR": "always"], sink: capture).colour)
        #expect(!Display.layout(choice: .never, environment: ["PATCHCTL_COLOR": "always"], sink: capture).colour)
    }

    @Test func theColourFlagReachesEveryCommandInProcess() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-display-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let db = folder.appendingPathComponent("h.db").path
        let store = try HistoryStore(path: db)
        let id = try store.beginRun(kind: .scan, startedAt: Date(), inventory: "inv.yml", hostPattern: nil, options: nil, version: "test")
        try store.record(runId: id, hosts: [HostScan(name: "web1", address: "127.0.0.1", port: 22, status: .unreachable, error: "refused",
                                                     startedAt: Date(), finishedAt: Date())])
        try store.finishRun(runId: id, finishedAt: Date())
        let coloured = await InProcessCLI.run(["history", "show", id, "--db", db, "--color", "always"])
        #expect(coloured.status == 0, "\(coloured.stderr)")
        #expect(coloured.stdout.contains("\u{1B}[31munreachable\u{1B}[0m"), "\(coloured.stdout.debugDescription)")
        let plain = await InProcessCLI.run(["history", "show", id, "--db", db])
        #expect(plain.status == 0)
        #expect(!plain.stdout.contains("\u{1B}"))
        #expect(plain.stdout == coloured.stdout.replacingOccurrences(of: #"\x1B\[[0-9;]*m"#, with: "", options: .regularExpression))
    }

    /// `--color` is taken off the command line before parsing, so each command declares it for its
    /// help and its shell completions (ArgumentParser lists a command's own options only).
    @Test func everyCommandShowsTheColourFlagInHelpAndCompletions() throws {
        func leaves(_ command: any ParsableCommand.Type, path: [String]) -> [(path: [String], type: any ParsableCommand.Type)] {
            let subcommands = command.configuration.subcommands
            let name = command.configuration.commandName ?? ""
            guard command.configuration.shouldDisplay else { return [] }
            return subcommands.isEmpty ? [(path + [name], command)] : subcommands.flatMap { leaves($0, path: path + [name]) }
        }
        let commands = Patchctl.configuration.subcommands.flatMap { leaves($0, path: []) }
        #expect(commands.count >= 37)
        for (path, type) in commands {
            #expect(Patchctl.helpMessage(for: type).contains("--color <when>"), "patchctl \(path.joined(separator: " ")) --help has no --color")
        }
        // Each shell's script offers the flag with its three values.
        let bash = Patchctl.completionScript(for: .bash)
        #expect(bash.contains("'--color')\n        __patchctl_add_completions -W 'auto'$'\\n''always'$'\\n''never'"), "\(bash)")
        let fish = Patchctl.completionScript(for: .fish)
        #expect(fish.components(separatedBy: "-l 'color'").count - 1 == commands.count, "\(fish)")
        let zsh = Patchctl.completionScript(for: .zsh)
        #expect(zsh.components(separatedBy: "'--color[").count - 1 == commands.count, "\(zsh)")
    }

    @Test func progressLineCountsPhasesAndFitsTheTerminal() {
        let line = Progress.line(total: 300, done: 12, failed: 2, phases: [(.connecting, 40), (.scanning, 8), (.uploading, 2)],
                                 uploads: (sent: 120 << 20, size: 400 << 20), last: "web\u{1B}]0;x\u{07}1", width: 200)
        #expect(line == "12/300 hosts done, 2 failed · connecting 40 · scanning 8 · uploading 2 (120/400 MiB) (last: web\\x1b]0;x\\x071)")
        let narrow = Progress.line(total: 300, done: 12, failed: 0, phases: [(.connecting, 40), (.installing, 8)], uploads: nil, last: "web1", width: 40)
        #expect(narrow.count == 39 && narrow.hasSuffix("…") && narrow.hasPrefix("12/300 hosts done · connecting 40"))
    }
}
