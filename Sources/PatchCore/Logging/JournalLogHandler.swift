import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `--syslog`: to journald with structured fields when it runs (its native protocol on
/// /run/systemd/journal/socket: MESSAGE, PRIORITY, SYSLOG_IDENTIFIER=patchctl, and every
/// metadata key as PATCHCTL_<KEY>, so `journalctl PATCHCTL_RUN_ID=…` or `PATCHCTL_STATUS=unreachable`
/// finds them), else to the syslog socket /dev/log (RFC 3164, facility daemon, the metadata as
/// key=value after the message). Datagrams, never blocking: a full or absent log daemon loses a
/// log line, never the run.
public struct JournalLogHandler: LogHandler {
    public enum Wire: Sendable { case journal, syslog }

    final class Socket: @unchecked Sendable {
        let fd: Int32
        let path: String
        let kind: Wire
        init(fd: Int32, path: String, kind: Wire) { (self.fd, self.path, self.kind) = (fd, path, kind) }
        deinit { close(fd) }

        func send(_ bytes: [UInt8]) {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let capacity = MemoryLayout.size(ofValue: address.sun_path)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let path = Array(self.path.utf8.prefix(capacity - 1))
                raw.copyBytes(from: path)
                raw[path.count] = 0
            }
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT), socketAddress, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
        }
    }

    private let socket: Socket
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public static let journalSocket = "/run/systemd/journal/socket"
    public static let syslogSocket = "/dev/log"

    /// journald's socket when it exists, else syslog's. `environment` may move them
    /// (PATCHCTL_JOURNAL_SOCKET, PATCHCTL_SYSLOG_SOCKET: tests, containers).
    public init(environment: [String: String]) throws {
        let journal = environment["PATCHCTL_JOURNAL_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.journalSocket
        let syslog = environment["PATCHCTL_SYSLOG_SOCKET"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.syslogSocket
        let (path, kind): (String, Wire) = FileManager.default.fileExists(atPath: journal) ? (journal, .journal) : (syslog, .syslog)
        guard FileManager.default.fileExists(atPath: path) else {
            throw PatchError.report(message: "--syslog: neither journald (\(journal)) nor syslog (\(syslog)) listens here")
        }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PatchError.report(message: "--syslog: socket: \(String(cString: strerror(errno)))") }
        socket = Socket(fd: fd, path: path, kind: kind)
    }

    public var kind: Wire { socket.kind }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata.merging(metadataProvider?.get() ?? [:], uniquingKeysWith: { _, new in new })
            .merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new })
        if let error = event.error { fields["error"] = "\(error)" }
        let message = event.message.description
        switch socket.kind {
        case .journal: socket.send(Self.journalDatagram(message: message, level: event.level, fields: fields))
        case .syslog: socket.send(Array(Self.syslogLine(message: message, level: event.level, fields: fields, at: Date()).utf8))
        }
    }

    /// syslog priorities (RFC 5424 severities).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// journald's native protocol: `KEY=value\n`, or for a value with a newline `KEY\n`, its
    /// length as 64-bit little-endian, the value, `\n`. Keys are upper case A-Z, 0-9 and `_`.
    static func journalDatagram(message: String, level: Logger.Level, fields: Logger.Metadata) -> [UInt8] {
        var out: [UInt8] = []
        func field(_ key: String, _ value: String) {
            let bytes = Array(value.utf8)
            if bytes.contains(UInt8(ascii: "\n")) {
                out += Array(key.utf8) + [UInt8(ascii: "\n")]
                withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { out += $0 }
                out += bytes + [UInt8(ascii: "\n")]
            } else {
                out += Array("\(key)=".utf8) + bytes + [UInt8(ascii: "\n")]
            }
        }
        field("MESSAGE", message)
        field("PRIORITY", String(priority(level)))
        field("SYSLOG_IDENTIFIER", "patchctl")
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            field("PATCHCTL_" + journalKey(key), Self.text(value))
        }
        return out
    }

    /// `run_id` → `RUN_ID`; anything outside A-Z, 0-9 becomes `_`.
    static func journalKey(_ key: String) -> String {
        String(key.uppercased().unicodeScalars.map { ("A"..."Z").contains($0) || ("0"..."9").contains($0) ? Character($0) : "_" })
    }

    /// RFC 3164 over /dev/log: `<PRI>Mmm dd hh:mm:ss patchctl[PID]: message key=value ...`, one line.
    static func syslogLine(message: String, level: Logger.Level, fields: Logger.Metadata, at date: Date) -> String {
        let pri = 3 * 8 + priority(level)  // facility daemon
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "MMM dd HH:mm:ss"
        let pairs = fields.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\(quoted(text($0.value)))" }
        let line = ([message] + pairs).joined(separator: " ")
        return "<\(pri)>\(formatter.string(from: date)) patchctl[\(getpid())]: " + TerminalText.neutralised(line)
    }

    static func quoted(_ text: String) -> String {
        text.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) || text.isEmpty
            ? "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" : text
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case let .string(text): text
        case let .stringConvertible(convertible): convertible.description
        case let .array(values): values.map(text).joined(separator: ",")
        case let .dictionary(values): values.sorted(by: { $0.key < $1.key }).map { "\($0.key):\(text($0.value))" }.joined(separator: ",")
        }
    }
}

/// Passes on only events at or above its own level, so each destination keeps its level under
/// one Logger (whose level is the lowest of them).
public struct LevelFilterLogHandler: LogHandler {
    private var wrapped: any LogHandler
    public var minimum: Logger.Level

    public init(_ handler: any LogHandler, minimum: Logger.Level) {
        wrapped = handler
        self.minimum = minimum
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { wrapped.metadataProvider }
        set { wrapped.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        guard event.level >= minimum else { return }
        wrapped.log(event: event)
    }
}
