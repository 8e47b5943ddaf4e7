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
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Reads a secret without echo.
    static func readSecret(prompt: String) -> String? {
        guard let pointer = getpass(TerminalText.neutralised(prompt)) else { return nil }
        let value = String(cString: pointer)
        return value.isEmpty ? nil : value
    }

    /// Logs go to stderr so stdout stays clean JSON; warnings only unless -v. Messages and metadata
    /// carry remote text: neutralised on their way out.
    static func logger(verbosity: Int) -> Logger {
        var logger = Logger(label: "patchctl") { label in NeutralisingLogHandler(wrapping: StreamLogHandler.standardError(label: label)) }
        logger.logLevel = verbosity >= 2 ? .trace : verbosity == 1 ? .debug : .warning
        return logger
    }

    /// Text for stderr: line breaks stay, every other control character is shown.
    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(TerminalText.neutralised(text, keepingNewlines: true).utf8))
    }

    /// `patchctl: MESSAGE` on one line of stderr, whatever the message (or remote text in it) holds.
    static func writeErrorLine(_ message: String) {
        writeError("patchctl: " + TerminalText.neutralised(message) + "\n")
    }

    /// patchctl's own cursor controls (the progress line), as they are: whatever goes into them
    /// from elsewhere must be neutralised by the caller.
    static func writeControl(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints a finished run in the chosen format. NDJSON prints its hosts unless they were
    /// already streamed as they finished; the table is only rendered when asked for.
    static func write<Run: Encodable, Record: Encodable>(
        run: Run, hosts: [Record], format: OutputFormat, hostsStreamed: Bool, table: () -> String
    ) throws {
        switch format {
        case .json: writeDocument(try JSONOutput.encode(run, pretty: true) + "\n")
        case .ndjson: if !hostsStreamed { for host in hosts { writeDocument(try JSONOutput.encode(host, pretty: false) + "\n") } }
        case .table: write(table())
        }
    }

    /// One NDJSON line, from a callback that cannot throw (a host as it finishes): a value with no
    /// JSON form is reported on stderr, never printed as an empty object.
    static func streamDocument<Value: Encodable>(_ value: Value) {
        do {
            writeDocument(try JSONOutput.encode(value, pretty: false) + "\n")
        } catch {
            writeErrorLine("cannot print a result as JSON: \(error)")
        }
    }

    /// Text for stdout (tables, messages): line breaks stay, every other control character is shown.
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(TerminalText.neutralised(text, keepingNewlines: true).utf8))
    }

    /// A message line: what is interpolated into it (names, versions, reasons from history) is
    /// shown on its line, newlines included.
    static func write(line: TerminalLine) {
        write(line.text)
    }

    /// A JSON, NDJSON, CSV or HTML document for stdout, byte for byte: each format escapes its own
    /// values (JSON `\u001b`; CSV and HTML through `TerminalText`).
    static func writeDocument(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

enum PatchctlVersion {
    static let current = "0.1.0"
    /// What `--version` prints: the release, and the libssh2 it carries (RSA needs 1.11).
    static let long = "\(current) (libssh2 \(SSHLibrary.version))"
}
