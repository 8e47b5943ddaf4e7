import Foundation

/// stdout and stderr as `Terminal` writes them: the process's file descriptors, or, for a command
/// run in-process by a test, two buffers.
public final class OutputSink: @unchecked Sendable {
    public enum Stream: Sendable { case stdout, stderr }

    private let capturing: Bool
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    private init(capturing: Bool) { self.capturing = capturing }

    /// Two buffers, never a terminal.
    var isCapture: Bool { capturing }

    /// The process's own stdout and stderr.
    public static let standard = OutputSink(capturing: false)

    /// A new pair of buffers.
    public static func capture() -> OutputSink { OutputSink(capturing: true) }

    func write(_ data: Data, to stream: Stream) {
        guard capturing else {
            (stream == .stdout ? FileHandle.standardOutput : FileHandle.standardError).write(data)
            return
        }
        lock.lock()
        defer { lock.unlock() }
        if stream == .stdout { out.append(data) } else { err.append(data) }
    }

    /// What was captured so far, as UTF-8 text.
    public var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    public var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
}
