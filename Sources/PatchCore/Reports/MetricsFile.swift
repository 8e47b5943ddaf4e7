import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A metrics file could not be written: which file, and what the system said.
public struct MetricsFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var message: String

    public var description: String { "cannot write metrics file \(path): \(message)" }
}

/// Writes `--metrics-file` so that a reader (node_exporter's textfile collector scrapes whenever
/// it likes) sees the old content or the new, never a part: a temporary file in the same folder,
/// fsync'd, renamed over the target, and the folder fsync'd so the rename survives a crash.
public enum MetricsFile {
    /// The temporary file's name for `path`: hidden and not ending in `.prom`, so the collector,
    /// which reads `*.prom` only, never picks it up even if a crash leaves it behind.
    public static func temporaryPath(for path: String, token: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + "." + token + ".tmp").path
    }

    public static func write(_ text: String, to path: String) throws(MetricsFileError) {
        let temporary = temporaryPath(for: path, token: "\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(path, "cannot create \(temporary)") }
        var closed = false
        do throws(MetricsFileError) {
            defer { if !closed { close(descriptor) } }
            // node_exporter runs as its own user: readable by it whatever the umask (a systemd UMask=0077).
            guard fchmod(descriptor, 0o644) == 0 else { throw failure(path, "chmod \(temporary)") }
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let count = bytes[offset...].withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw failure(path, "write \(temporary)")
                }
                offset += count
            }
            guard fsync(descriptor) == 0 else { throw failure(path, "fsync \(temporary)") }
            closed = true
            guard close(descriptor) == 0 else { throw failure(path, "close \(temporary)") }
            guard rename(temporary, path) == 0 else { throw failure(path, "rename \(temporary) to \(path)") }
        } catch {
            unlink(temporary)
            throw error
        }
        // Durability of the rename only: the file is already whole either way.
        let folder = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }

    private static func failure(_ path: String, _ what: String) -> MetricsFileError {
        MetricsFileError(path: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}

/// write(2), out of `MetricsFile`'s scope, where `write` is its own method.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
