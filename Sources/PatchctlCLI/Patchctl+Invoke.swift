import Foundation
import ArgumentParser
import PatchCore

extension Patchctl {
    /// Parses and runs one command line; returns the exit status. The binary's whole life, and
    /// what tests call in-process (with `Terminal.$sink` bound to capture stdout and stderr).
    public static func invoke(_ given: [String], environment: [String: String] = ProcessInfo.processInfo.environment) async -> Int32 {
        // The configuration files and PATCHCTL_* variables, checked before anything else: a wrong
        // value stops every command (but help and --version) before a host is contacted.
        let config: PatchctlConfig
        do {
            config = try PatchctlConfig.load(environment: environment)
        } catch {
            let asksForHelp = given.first == "help" || given.contains { ["--help", "-h", "--version", "--help-hidden"].contains($0) }
            guard asksForHelp else {
                Terminal.writeErrorLine("\(error)")
                return ExitCodes.configuration.rawValue
            }
            config = .empty(environment: environment)
        }
        let arguments: [String], layout: TextLayout
        do {
            let (rest, choice) = try Display.extractColor(given)
            arguments = rest
            layout = Display.layout(choice: choice, environment: config.environment, sink: Terminal.sink)
        } catch {
            return ExitCodes.usage(ValidationError(error.description)).rawValue
        }
        return await Settings.$current.withValue(config) {
            await TextLayout.$current.withValue(layout) { await parseAndRun(arguments) }
        }
    }

    private static func parseAndRun(_ arguments: [String]) async -> Int32 {
        var command: any ParsableCommand
        do {
            // `--retry-failed` takes an optional RUN, which ArgumentParser options cannot: see RetryOptions.
            command = try parseAsRoot(RetryOptions.normalized(arguments))
        } catch {
            return ExitCodes.usage(error).rawValue
        }
        // Converting an older history (findings to intervals) can take minutes: show it on a terminal.
        if Terminal.stderrIsTerminal {
            HistoryStore.onConversionProgress { done, total in
                Terminal.writeControl("\r\u{1B}[Kconverting history to intervals: \(done)/\(total) hosts" + (done == total ? "\r\u{1B}[K" : ""))
            }
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return ExitCode.success.rawValue
        } catch {
            return ExitCodes.report(error).rawValue
        }
    }

    /// `invoke` with stdout and stderr going to `output` (a capture, for in-process tests).
    public static func invoke(_ arguments: [String], output: OutputSink, environment: [String: String] = ProcessInfo.processInfo.environment) async -> Int32 {
        await Terminal.$sink.withValue(output) { await invoke(arguments, environment: environment) }
    }
}
