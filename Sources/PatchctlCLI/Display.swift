import ArgumentParser
import Foundation
import PatchCore
#if canImport(Glibc)
import Glibc
#endif

/// `--color auto|always|never`: one choice for every command, so it is taken from the command line
/// before the subcommand is parsed (anywhere before a `--`, after which exec's command begins).
/// `auto` colours only a terminal, and not when NO_COLOR is set (https://no-color.org) or TERM is
/// `dumb`. The config key `color` / PATCHCTL_COLOR sets the default.
enum Display {
    enum ColorChoice: String, CaseIterable, ExpressibleByArgument {
        case auto, always, never
    }

    struct InvalidChoice: Error, CustomStringConvertible {
        var value: String
        var description: String { "--color: '\(value)' is not one of auto, always, never" }
    }

    /// The arguments without `--color WHEN` / `--color=WHEN`, and the last choice given.
    static func extractColor(_ arguments: [String]) throws(InvalidChoice) -> (arguments: [String], choice: ColorChoice?) {
        var kept: [String] = []
        var choice: ColorChoice?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                kept += arguments[index...]
                break
            }
            var value: String?
            if argument == "--color" {
                guard index + 1 < arguments.count else { throw InvalidChoice(value: "") }
                value = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix("--color=") {
                value = String(argument.dropFirst("--color=".count))
            }
            if let value {
                guard let parsed = ColorChoice(rawValue: value) else { throw InvalidChoice(value: value) }
                choice = parsed
            } else {
                kept.append(argument)
            }
            index += 1
        }
        return (kept, choice)
    }

    /// How stdout's tables are laid out: colour by the choice, the width of stdout's terminal
    /// (none for a pipe, a file or a test's capture, which get every column whole).
    static func layout(choice: ColorChoice?, environment: [String: String], sink: OutputSink) -> TextLayout {
        let terminal = sink.isTerminal(.stdout)
        let colour: Bool
        switch choice ?? environment["PATCHCTL_COLOR"].flatMap(ColorChoice.init(rawValue:)) ?? .auto {
        case .always: colour = true
        case .never: colour = false
        case .auto: colour = terminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        }
        return TextLayout(colour: colour, width: terminal ? sink.columns(.stdout) ?? environment["COLUMNS"].flatMap(Int.init) ?? 80 : nil)
    }
}

/// `--color` as every command's help and shell completions show it. The value is never read here:
/// `Display.extractColor` takes the flag off the command line before ArgumentParser parses it, so
/// that it works anywhere (before or after the subcommand). Declared on each command because
/// ArgumentParser's completion scripts list a command's own options only.
struct DisplayOption: ParsableArguments {
    @Option(help: ArgumentHelp("Colour in tables: auto (a terminal without NO_COLOR), always or never (default auto, or PATCHCTL_COLOR).",
                               valueName: "when"))
    var color: Display.ColorChoice?
}

extension OutputSink {
    /// Whether `stream` is a terminal: never for a capture.
    func isTerminal(_ stream: Stream) -> Bool {
        !isCapture && isatty(stream == .stdout ? STDOUT_FILENO : STDERR_FILENO) == 1
    }

    /// The terminal's width in columns, when it says (TIOCGWINSZ).
    func columns(_ stream: Stream) -> Int? {
        guard isTerminal(stream) else { return nil }
        var size = winsize()
        guard ioctl(stream == .stdout ? STDOUT_FILENO : STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}
