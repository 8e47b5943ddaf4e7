import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `--log-file`: one JSON object per line (`at`, `level`, `message`, then every metadata key:
/// `run_id`, `host`, `status`...), appended with O_APPEND so several runs (cron, timers) can share
/// one file and logrotate's copytruncate works. Never stdout.
public struct FileLogHandler: LogHandler {
    /// The open file, shared by every copy of the handler (swift-log copies handlers freely).
    final class Sink: @unchecked Sendable {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        deinit { close(fd) }

        func write(_ line: String) {
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            // One write(2) per line: appends from several processes never interleave within a line.
            _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        }
    }

    private let sink: Sink
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    /// Opens (creating, mode 0640) `path` for appending.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw PatchError.report(message: "--log-file \(path): \(String(cString: strerror(errno)))") }
        sink = Sink(fd: fd)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [:]
        let merged = metadata.merging(metadataProvider?.get() ?? [:], uniquingKeysWith: { _, new in new })
            .merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        for (key, value) in merged { fields[key] = Self.plain(value) }
        if let error = event.error { fields["error"] = "\(error)" }
        fields["at"] = JSONOutput.timestamp(Date())
        fields["level"] = event.level.rawValue
        fields["message"] = event.message.description
        guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        sink.write(String(decoding: data, as: UTF8.self))
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case let .string(text): text
        case let .stringConvertible(convertible): convertible.description
        case let .array(values): values.map(plain)
        case let .dictionary(values): values.mapValues(plain)
        }
    }
}
