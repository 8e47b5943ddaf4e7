import Foundation
import Logging
import PatchCore
#if canImport(Glibc)
import Glibc
#endif

/// The operator's terminal: prompts and the progress line, never used when output is piped.
/// Every text line written here has its control characters made visible (`TerminalText`): hosts,
/// history and files cannot send escape sequences to the operator's terminal through patchctl.
/// Only JSON, CSV and HTML documents (`writeDocument`), which escape in their own way, and the
/// progress line's own cursor controls (`writeControl`) are written as they are.
enum Terminal {
    /// Where stdout and stderr text goes: the process's own, or a capture bound for one task
    /// (in-process tests run commands side by side). Threads outside the task, such as the
    /// signal relay's, write to the process's own.
    @TaskLocal static var sink = OutputSink.standard

    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && sink.isTerminal(.stderr) }
    /// A terminal the progress line can redraw: never a test's capture.
    static var stderrIsTerminal: Bool { sink.isTerminal(.stderr) }

    /// Reads a secret without echo.
    static func readSecret(prompt: String) -> String? {
        guard let pointer = getpass(TerminalText.neutralised(prompt)) else { return nil }
        let value = String(cString: pointer)
        return value.isEmpty ? nil : value
    }

    /// Logs go to stderr so stdout stays clean JSON; warnings only unless -v. Messages and metadata
    /// carry remote text: neutralised on their way out.
    /// `logFile` and `syslog` add destinations at info and above (debug with -v, trace with -vv);
    /// one that cannot be opened is a warning, never the run's end.
    static func logger(verbosity: Int, logFile: String? = nil, syslog: Bool = false, environment: [String: String] = [:]) -> Logger {
        let level: Logger.Level = verbosity >= 2 ? .trace : verbosity == 1 ? .debug : .warning
        let recorded: Logger.Level = min(level, .info)
        var handlers: [any LogHandler] = [LevelFilterLogHandler(NeutralisingLogHandler(wrapping: StreamLogHandler.standardError(label: "patchctl")), minimum: level)]
        if let logFile {
            do { handlers.append(LevelFilterLogHandler(try FileLogHandler(path: logFile), minimum: recorded)) } catch {
                writeErrorLine("warning: \(error): logging to stderr only")
            }
        }
        if syslog {
            do { handlers.append(LevelFilterLogHandler(try JournalLogHandler(environment: environment), minimum: recorded)) } catch {
                writeErrorLine("warning: \(error): logging to stderr only")
            }
        }
        var logger = Logger(label: "patchctl") { _ in handlers.count == 1 ? handlers[0] : MultiplexLogHandler(handlers) }
        logger.logLevel = handlers.count == 1 ? level : recorded
        return logger
    }

    /// Text for stderr: line breaks stay, every other control character is shown.
    static func writeError(_ text: String) {
        sink.write(Data(TerminalText.neutralised(text, keepingNewlines: true).utf8), to: .stderr)
    }

    /// `patchctl: MESSAGE` on one line of stderr, whatever the message (or remote text in it) holds.
    static func writeErrorLine(_ message: String) {
        writeError("patchctl: " + TerminalText.neutralised(message) + "\n")
    }

    /// patchctl's own cursor controls (the progress line), as they are: whatever goes into them
    /// from elsewhere must be neutralised by the caller.
    static func writeControl(_ text: String) {
        sink.write(Data(text.utf8), to: .stderr)
    }

    /// Text for stdout (tables, messages): line breaks stay, every other control character is shown.
    /// Then, last, the tables' own colour markers become colour or go (`TextLayout`): any marker
    /// that came from elsewhere was neutralised with the cell that held it.
    static func write(_ text: String) {
        let shown = TextLayout.current.finish(TerminalText.neutralised(text, except: keptInText))
        sink.write(Data(shown.utf8), to: .stdout)
    }

    private static let keptInText: Set<Unicode.Scalar> = TextStyle.markerScalars.union(["\n"])

    /// A message line: what is interpolated into it (names, versions, reasons from history) is
    /// shown on its line, newlines included.
    static func write(line: TerminalLine) {
        write(line.text)
    }

    /// A JSON, NDJSON, CSV or HTML document for stdout, byte for byte: each format escapes its own
    /// values (JSON `\u001b`; CSV and HTML through `TerminalText`).
    static func writeDocument(_ text: String) {
        writeDocument(Data(text.utf8))
    }

    /// A document's bytes as they are, for output already made into bytes.
    static func writeDocument(_ data: Data) {
        sink.write(data, to: .stdout)
    }
}

enum PatchctlVersion {
    static let current = "0.1.0"
    /// What `--version` prints: the release, and the libssh2 it carries (RSA needs 1.11).
    static let long = "\(current) (libssh2 \(SSHLibrary.version))"
}
