import CLibSSH2
import Foundation

/// The outcome of one remote command.
public struct CommandResult: Sendable {
    public var exitStatus: Int32
    /// Set when the command was killed by a signal (e.g. "TERM"); `exitStatus` is then meaningless.
    public var exitSignal: String?
    public var stdout: String
    public var stderr: String
    public var duration: Double

    public init(exitStatus: Int32, exitSignal: String? = nil, stdout: String, stderr: String, duration: Double = 0) {
        self.exitStatus = exitStatus
        self.exitSignal = exitSignal
        self.stdout = stdout
        self.stderr = stderr
        self.duration = duration
    }
}

/// Answers one interactive prompt on stdin (sudo's password prompt). The marker is removed from
/// stderr, and the reply never appears in any output.
public struct PromptReply: Sendable {
    public var marker: String
    public var reply: String

    public init(marker: String, reply: String) {
        self.marker = marker
        self.reply = reply
    }
}

/// What one command may send back. An endpoint controls its output, so every stream is capped
/// (a host running `yes` must cost an error, not the controller's memory).
public enum OutputLimit {
    /// Per stream and command, unless the caller says otherwise (`--max-output`).
    public static let defaultBytes = 64 << 20
    /// Bytes read from one session in a row before its task lets the others run.
    static let fairShareBytes = 256 << 10

    /// "64 MiB", "512 KiB", "100 bytes".
    public static func describe(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}

/// Text from an endpoint as every later consumer sees it: UTF-8 with invalid sequences and NUL
/// bytes both replaced by U+FFFD. SQLite stores text up to its first NUL, so a NUL kept here would
/// make history differ from what was printed live.
public enum EndpointText {
    public static func decode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let text = String(decoding: bytes, as: UTF8.self)
        guard bytes.contains(0) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\u{0}" ? "\u{FFFD}" : $0 }))
    }
}

/// Counts a marker's occurrences in a stream fed chunk by chunk, looking at each byte once
/// (a rescan of everything after each read is quadratic on a flooding stream), and remembers
/// where the first one starts so it can be cut out.
struct MarkerCounter {
    let marker: [UInt8]
    private(set) var count = 0
    /// Stream offset of the first occurrence.
    private(set) var firstOffset: Int?
    /// Bytes compared so far: linear in the stream, checked by a test.
    private(set) var scannedBytes = 0
    /// The stream's last bytes that could still begin a marker, and where they start in the stream.
    private var carry: [UInt8] = []
    private var carryOffset = 0

    init(_ marker: String) {
        self.marker = Array(marker.utf8)
    }

    @discardableResult
    mutating func feed<Bytes: Collection>(_ chunk: Bytes) -> Int where Bytes.Element == UInt8 {
        guard !marker.isEmpty else { return count }
        let window = carry + chunk
        let length = marker.count
        var index = 0
        window.withUnsafeBufferPointer { haystack in
            marker.withUnsafeBufferPointer { needle in
                while index + length <= haystack.count {
                    if memcmp(haystack.baseAddress! + index, needle.baseAddress!, length) == 0 {
                        if firstOffset == nil { firstOffset = carryOffset + index }
                        count += 1
                        index += length
                    } else {
                        index += 1
                    }
                }
            }
        }
        scannedBytes += chunk.count
        carry = Array(window[index...])
        carryOffset += index
        return count
    }
}

/// A command's output as it arrives, in segments of at most 1 MiB: growing one array by doubling
/// would copy it over and over and briefly hold twice the cap, so memory would follow the
/// flood instead of the cap.
struct OutputBuffer {
    private(set) var segments: [[UInt8]] = []
    private(set) var count = 0
    static let segmentSize = 1 << 20

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        var rest = bytes[...]
        while !rest.isEmpty {
            if segments.isEmpty || segments[segments.count - 1].count == Self.segmentSize {
                segments.append([])
                segments[segments.count - 1].reserveCapacity(Self.segmentSize)
            }
            let room = Self.segmentSize - segments[segments.count - 1].count
            segments[segments.count - 1].append(contentsOf: rest.prefix(room))
            rest = rest.dropFirst(room)
        }
        count += bytes.count
    }

    /// All bytes in one array (one allocation), without `removing` (a range of stream offsets).
    func joined(removing removed: Range<Int>? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        for segment in segments { bytes += segment }
        if let removed, removed.upperBound <= bytes.count { bytes.removeSubrange(removed) }
        return bytes
    }
}

extension SSHSession {
    /// Runs `command` through the account's shell on a new channel of this connection.
    /// `timeout` bounds the whole command; keepalives go out while it runs. Each of stdout and
    /// stderr may bring at most `outputLimit` bytes: past that the channel is closed and
    /// `SSHError.outputLimit` thrown.
    public func run(_ command: String, timeout: Double, prompt: PromptReply? = nil,
                    outputLimit: Int = OutputLimit.defaultBytes) async throws -> CommandResult {
        try await onReactor { try await self.runOnReactor(command, timeout: timeout, prompt: prompt, outputLimit: outputLimit) }
    }

    private func runOnReactor(_ command: String, timeout: Double, prompt: PromptReply?, outputLimit: Int) async throws -> CommandResult {
        let owner = claim()
        defer { release(owner) }
        do {
            return try await exec(command, timeout: timeout, prompt: prompt, outputLimit: outputLimit)
        } catch let error as LibSSH2Error {
            throw sessionError(error)
        }
    }

    private func exec(_ command: String, timeout: Double, prompt: PromptReply?, outputLimit: Int) async throws -> CommandResult {
        guard let handle else { throw SSHError.session(host: config.label, LibSSH2Error.last(nil, function: "exec")) }
        let started = Deadline.now
        let deadline = Deadline.after(seconds: timeout)
        currentTimeout = timeout
        let channel = try await openChannel(deadline)
        defer { libssh2_channel_free(channel) }

        let bytes = Array(command.utf8)
        try await retry(deadline, phase: "command") {
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    libssh2_channel_process_startup(channel, "exec", 4, $0.baseAddress, UInt32($0.count))
                }
            }
        }
        if prompt == nil { try await retry(deadline, phase: "command") { libssh2_channel_send_eof(channel) } }

        var stdout = OutputBuffer()
        var stderr = OutputBuffer()
        var promptsSeen = 0
        var markers = MarkerCounter(prompt?.marker ?? "")
        var noMarkers = MarkerCounter("")
        var buffer = [CChar](repeating: 0, count: 32_768)
        var nextKeepalive = keepaliveDeadline()
        var readInARow = 0
        while true {
            let before = stdout.count + stderr.count
            let outState = try drain(channel, stream: 0, into: &stdout, buffer: &buffer, markers: &noMarkers)
            // The stdout read already pulled everything the socket had into libssh2's buffers;
            // stderr is read only when data is buffered for it, saving a recv that would say EAGAIN.
            let errState = libssh2_poll_channel_read(channel, 1) != 0 || libssh2_channel_eof(channel) == 1
                ? try drain(channel, stream: 1, into: &stderr, buffer: &buffer, markers: &markers) : .drained
            for (name, stream) in [("stdout", stdout.count), ("stderr", stderr.count)] where stream > outputLimit {
                // Stop reading: the remote side blocks once the window fills, and the session is
                // closed with the host's error, so memory stays at the cap.
                throw SSHError.outputLimit(host: config.label, stream: name, limit: outputLimit)
            }
            if let prompt, !prompt.marker.isEmpty {
                let seen = markers.count
                if seen > promptsSeen {
                    promptsSeen = seen
                    if seen > 1 {
                        // A second prompt means the first reply was refused; retrying would lock the account.
                        throw SSHError.become(host: config.label, message: "password refused")
                    }
                    try await write(prompt.reply + "\n", to: channel, deadline: deadline)
                    try await retry(deadline, phase: "command") { libssh2_channel_send_eof(channel) }
                }
            }
            if libssh2_channel_eof(channel) == 1 && outState == .drained && errState == .drained { break }
            if outState == .more || errState == .more {
                // A stream that never runs dry must not hold the reactor thread: every host's task
                // shares it. Past a fair share, let the others run, and keep the deadline.
                readInARow += stdout.count + stderr.count - before
                if readInARow >= OutputLimit.fairShareBytes {
                    readInARow = 0
                    if deadline.hasPassed { throw SSHError.timeout(host: config.label, phase: "command", seconds: timeout) }
                    await Task.yield()
                }
                continue
            }
            readInARow = 0
            let wakeAt = min(deadline, nextKeepalive)
            if try await !waitForSocket(until: wakeAt) {
                if deadline.hasPassed { throw SSHError.timeout(host: config.label, phase: "command", seconds: timeout) }
                var seconds: Int32 = 0
                _ = libssh2_keepalive_send(handle, &seconds)
                nextKeepalive = keepaliveDeadline()
            }
        }
        try await retry(deadline, phase: "command", allowFailure: true) { libssh2_channel_close(channel) }
        try await retry(deadline, phase: "command", allowFailure: true) { libssh2_channel_wait_closed(channel) }
        let status = libssh2_channel_get_exit_status(channel)
        var signalName: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        _ = libssh2_channel_get_exit_signal(channel, &signalName, &signalLength, nil, nil, nil, nil)
        var signal: String?
        if let signalName {
            signal = String(cString: signalName)
            free(signalName)
        }
        // The prompt marker is cut out of the bytes (at most one: a second means a refused password).
        let removed = markers.firstOffset.map { $0..<($0 + markers.marker.count) }
        let duration = Double(Deadline.now.nanoseconds - started.nanoseconds) / 1e9
        let decode: @Sendable () -> CommandResult = { [stdout, stderr, signal] in
            CommandResult(exitStatus: status, exitSignal: signal, stdout: EndpointText.decode(stdout.joined()),
                          stderr: EndpointText.decode(stderr.joined(removing: removed)), duration: duration)
        }
        // Megabytes of text take milliseconds to join and check: not on the reactor thread, which
        // every other host's socket waits on.
        guard stdout.count + stderr.count > OutputLimit.fairShareBytes else { return decode() }
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: decode()) }
        }
    }

    private enum DrainState { case more, drained }

    func openChannel(_ deadline: Deadline) async throws -> OpaquePointer {
        guard let handle else { throw LibSSH2Error.last(nil, function: "libssh2_channel_open_ex") }
        while true {
            if let channel = libssh2_channel_open_ex(handle, "session", 7, 2 * 1024 * 1024, 32_768, nil, 0) {
                return channel
            }
            guard libssh2_session_last_errno(handle) == LIBSSH2_ERROR_EAGAIN else {
                throw LibSSH2Error.last(handle, function: "libssh2_channel_open_ex")
            }
            try await waitForSocket(deadline, phase: "command")
        }
    }

    /// Reads what is buffered on one stream without waiting. `.more` means another read may return data.
    private func drain(_ channel: OpaquePointer, stream: Int32, into output: inout OutputBuffer, buffer: inout [CChar],
                       markers: inout MarkerCounter) throws -> DrainState {
        let capacity = buffer.count
        let count = buffer.withUnsafeMutableBufferPointer { libssh2_channel_read_ex(channel, stream, $0.baseAddress, capacity) }
        if count > 0 {
            buffer.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: UInt8.self) { bytes in
                    let read = UnsafeBufferPointer(rebasing: bytes.prefix(count))
                    output.append(read)
                    markers.feed(read)
                }
            }
            return .more
        }
        if count == 0 || count == Int(LIBSSH2_ERROR_EAGAIN) { return .drained }
        try check(Int32(truncatingIfNeeded: count), handle, "libssh2_channel_read_ex")
        return .drained
    }

    private func write(_ text: String, to channel: OpaquePointer, deadline: Deadline) async throws {
        var bytes = Array(text.utf8)
        defer { for index in bytes.indices { bytes[index] = 0 } }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    libssh2_channel_write_ex(channel, 0, $0.baseAddress! + offset, $0.count - offset)
                }
            }
            if sent == Int(LIBSSH2_ERROR_EAGAIN) {
                try await waitForSocket(deadline, phase: "command")
            } else if sent < 0 {
                try check(Int32(truncatingIfNeeded: sent), handle, "libssh2_channel_write_ex")
            } else {
                offset += sent
            }
        }
    }

    private func keepaliveDeadline() -> Deadline {
        config.keepaliveInterval > 0 ? .after(seconds: Double(config.keepaliveInterval)) : .distantFuture
    }
}
