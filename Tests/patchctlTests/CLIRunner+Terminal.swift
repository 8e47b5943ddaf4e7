import Foundation
import Testing

extension CLI {
    /// What a terminal of `columns` columns received from the binary: its stdout and stderr
    /// through one pseudo-terminal (the size set before the binary starts), as raw text.
    struct TerminalResult {
        var status: Int32
        var raw: String

        /// The lines a person sees: each line's text after its last carriage return (the progress
        /// line erases itself with `\r`), without colour, without the line discipline's `\r\n`.
        var visibleLines: [String] {
            raw.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map { line in
                let shown = line.split(separator: "\r", omittingEmptySubsequences: false).last.map(String.init) ?? ""
                return shown.replacingOccurrences(of: #"\x1B\[[0-9;]*[mK]"#, with: "", options: .regularExpression)
            }
        }

        /// The SGR (colour) sequences in the output.
        var colourSequences: Set<String> {
            Set(raw.matches(of: /\u{1B}\[[0-9;]*m/).map { String($0.output) })
        }
    }

    /// Runs the binary on a pseudo-terminal `columns` wide (python3's pty: the size is set on the
    /// terminal before the binary starts, so its first TIOCGWINSZ already sees it).
    /// `input`: typed on the terminal as the binary starts (the line discipline keeps it until read).
    static func runOnTerminal(_ arguments: [String], columns: Int, environment: [String: String] = [:], input: String = "") throws -> TerminalResult {
        let driver = """
            import fcntl, os, struct, subprocess, sys, termios
            columns = int(sys.argv[1])
            master, slave = os.openpty()
            fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
            child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
            os.close(slave)
            if os.environ.get("PATCHCTL_TEST_TYPED"):
                os.write(master, os.environ["PATCHCTL_TEST_TYPED"].encode())
            out = bytearray()
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break  # EIO: the child's side closed
                if not chunk:
                    break
                out += chunk
            sys.stdout.buffer.write(out)
            sys.exit(child.wait())
            """
        var environment = environment
        if !input.isEmpty { environment["PATCHCTL_TEST_TYPED"] = input }
        let result = try run([], environment: environment, launcher: ["/usr/bin/python3", "-c", driver, String(columns), binary.path] + arguments)
        return TerminalResult(status: result.status, raw: result.stdout)
    }
}
