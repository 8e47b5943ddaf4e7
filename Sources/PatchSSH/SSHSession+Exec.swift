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

extension SSHSession {
    /// Runs `command` through the account's shell on a new channel of this connection.
    /// `timeout` bounds the whole command; keepalives go out while it runs.
    public func run(_ command: String, timeout: Double, prompt: PromptReply? = nil) async throws -> CommandResult {
        do {
            return try await exec(command, timeout: timeout, prompt: prompt)
        } catch let error as LibSSH2Error {
            throw SSHError.session(host: config.label, error)
        }
    }

    private func exec(_ command: String, timeout: Double, prompt: PromptReply?) async throws -> CommandResult {
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

        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var promptsSeen = 0
        var buffer = [CChar](repeating: 0, count: 32_768)
        var nextKeepalive = keepaliveDeadline()
        while true {
            let outState = try drain(channel, stream: 0, into: &stdout, buffer: &buffer)
            // The stdout read already pulled everything the socket had into libssh2's buffers;
            // stderr is read only when data is buffered for it, saving a recv that would say EAGAIN.
            let errState = libssh2_poll_channel_read(channel, 1) != 0 || libssh2_channel_eof(channel) == 1
                ? try drain(channel, stream: 1, into: &stderr, buffer: &buffer) : .drained
            if let prompt, !prompt.marker.isEmpty {
                let seen = Self.count(of: Array(prompt.marker.utf8), in: stderr)
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
            if outState == .more || errState == .more { continue }
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
        var errText = String(decoding: stderr, as: UTF8.self)
        if let prompt, !prompt.marker.isEmpty { errText = errText.replacingOccurrences(of: prompt.marker, with: "") }
        return CommandResult(
            exitStatus: status, exitSignal: signal, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: errText, duration: Double(Deadline.now.nanoseconds - started.nanoseconds) / 1e9)
    }

    private enum DrainState { case more, drained }

    private func openChannel(_ deadline: Deadline) async throws -> OpaquePointer {
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
    private func drain(_ channel: OpaquePointer, stream: Int32, into output: inout [UInt8], buffer: inout [CChar]) throws -> DrainState {
        let capacity = buffer.count
        let count = buffer.withUnsafeMutableBufferPointer { libssh2_channel_read_ex(channel, stream, $0.baseAddress, capacity) }
        if count > 0 {
            buffer.withUnsafeBufferPointer { pointer in
                pointer.withMemoryRebound(to: UInt8.self) { output.append(contentsOf: $0.prefix(count)) }
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

    static func count(of needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard !needle.isEmpty, haystack.count >= needle.count else { return 0 }
        var found = 0
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) {
                found += 1
                index += needle.count
            } else {
                index += 1
            }
        }
        return found
    }
}
