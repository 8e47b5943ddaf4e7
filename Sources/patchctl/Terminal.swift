import Foundation
import Logging
import PatchCore
#if canImport(Glibc)
import Glibc
#endif

/// The operator's terminal: prompts and the progress line, never used when output is piped.
enum Terminal {
    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Reads a secret without echo.
    static func readSecret(prompt: String) -> String? {
        guard let pointer = getpass(prompt) else { return nil }
        let value = String(cString: pointer)
        return value.isEmpty ? nil : value
    }

    /// Logs go to stderr so stdout stays clean JSON; warnings only unless -v.
    static func logger(verbosity: Int) -> Logger {
        var logger = Logger(label: "patchctl") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = verbosity >= 2 ? .trace : verbosity == 1 ? .debug : .warning
        return logger
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Prints a finished run in the chosen format. NDJSON prints its hosts unless they were
    /// already streamed as they finished; the table is only rendered when asked for.
    static func write<Run: Encodable, Record: Encodable>(
        run: Run, hosts: [Record], format: OutputFormat, hostsStreamed: Bool, table: () -> String
    ) {
        switch format {
        case .json: write(JSONOutput.encode(run, pretty: true) + "\n")
        case .ndjson: if !hostsStreamed { for host in hosts { write(JSONOutput.encode(host, pretty: false) + "\n") } }
        case .table: write(table())
        }
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

enum PatchctlVersion {
    static let current = "0.1.0"
}
