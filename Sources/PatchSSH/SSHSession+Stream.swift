import CLibSSH2
import Foundation

extension SSHSession {
    /// True when `error` is the server refusing the SFTP subsystem (sshd without a `Subsystem sftp`
    /// line, or one whose channel cannot start): the case where a file may still go over an exec channel.
    public static func isSFTPRefused(_ error: any Error) -> Bool {
        guard case let .session(_, cause)? = error as? SSHError else { return false }
        return cause.function == "libssh2_sftp_init" && cause.code == LIBSSH2_ERROR_CHANNEL_FAILURE
    }

    /// Runs `command` with a local file's bytes on its stdin, for a transfer without SFTP (the
    /// command is e.g. `cat > FILE`, built and quoted by the caller). The file is sent in chunks of
    /// `chunkSize`, so memory stays bounded; each wait for the server is bounded by `idleTimeout`.
    /// What the command prints is kept up to `outputLimit` bytes per stream (its error message),
    /// the rest read and dropped. A command that stops reading early ends the upload with its own
    /// exit status: the caller decides, and verifies the file on the endpoint either way.
    public func stream(localPath: String, into command: String, idleTimeout: Double = 60, chunkSize: Int = 1 << 20,
                       outputLimit: Int = 64 << 10, progress: (@Sendable (Int64) -> Void)? = nil) async throws -> (sent: Int64, result: CommandResult) {
        try await onReactor {
            try await self.streamOnReactor(localPath: localPath, into: command, idleTimeout: idleTimeout, chunkSize: chunkSize,
                                           outputLimit: outputLimit, progress: progress)
        }
    }

    private func streamOnReactor(localPath: String, into command: String, idleTimeout: Double, chunkSize: Int,
                                 outputLimit: Int, progress: (@Sendable (Int64) -> Void)?) async throws -> (sent: Int64, result: CommandResult) {
        guard let input = FileHandle(forReadingAtPath: localPath) else {
            throw SSHError.transfer(host: config.label, path: localPath, message: "cannot read the local file")
        }
        defer { try? input.close() }
        let owner = claim()
        defer { release(owner) }
        currentTimeout = idleTimeout
        do {
            return try await streamFile(input, into: command, idleTimeout: idleTimeout, chunkSize: chunkSize, outputLimit: outputLimit, progress: progress)
        } catch let error as LibSSH2Error {
            throw SSHError.session(host: config.label, error)
        }
    }

    private func streamFile(_ input: FileHandle, into command: String, idleTimeout: Double, chunkSize: Int, outputLimit: Int,
                            progress: (@Sendable (Int64) -> Void)?) async throws -> (sent: Int64, result: CommandResult) {
        let started = Deadline.now
        let channel = try await openChannel(.after(seconds: idleTimeout))
        defer { libssh2_channel_free(channel) }
        let bytes = Array(command.utf8)
        try await retry(.after(seconds: idleTimeout), phase: "upload") {
            bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) {
                    libssh2_channel_process_startup(channel, "exec", 4, $0.baseAddress, UInt32($0.count))
                }
            }
        }
        var output = StreamOutput(limit: outputLimit)
        var sent: Int64 = 0
        sending: while true {
            let chunk = input.readData(ofLength: chunkSize)
            if chunk.isEmpty { break }
            var offset = 0
            while offset < chunk.count {
                // A command that ended (remote EOF) reads no more: stop and report its status.
                if libssh2_channel_eof(channel) == 1 { break sending }
                let deadline = Deadline.after(seconds: idleTimeout)
                let written = chunk.withUnsafeBytes { raw in
                    libssh2_channel_write_ex(channel, 0, raw.baseAddress!.assumingMemoryBound(to: CChar.self).advanced(by: offset), chunk.count - offset)
                }
                if written > 0 {
                    offset += written
                    sent += Int64(written)
                    progress?(sent)
                    continue
                }
                guard written == 0 || written == Int(LIBSSH2_ERROR_EAGAIN) else {
                    try check(Int32(truncatingIfNeeded: written), handle, "libssh2_channel_write_ex")
                    break
                }
                // The window is full or the socket busy: read what the command said (it may be
                // what blocks it), then wait for the server.
                try output.drain(channel, handle)
                if libssh2_channel_eof(channel) == 1 { break sending }
                try await waitForSocket(deadline, phase: "upload")
            }
        }
        let deadline = Deadline.after(seconds: idleTimeout)
        if libssh2_channel_eof(channel) != 1 {
            try await retry(deadline, phase: "upload", allowFailure: true) { libssh2_channel_send_eof(channel) }
        }
        // The command finishes once it has read everything: its output until EOF, within the idle bound.
        while true {
            let more = try output.drain(channel, handle)
            if libssh2_channel_eof(channel) == 1 && !more { break }
            if more {
                // A command that never stops printing must not hold the reactor thread past the bound.
                if deadline.hasPassed { throw SSHError.timeout(host: config.label, phase: "upload", seconds: idleTimeout) }
                await Task.yield()
                continue
            }
            try await waitForSocket(deadline, phase: "upload")
        }
        try await retry(deadline, phase: "upload", allowFailure: true) { libssh2_channel_close(channel) }
        try await retry(deadline, phase: "upload", allowFailure: true) { libssh2_channel_wait_closed(channel) }
        let status = libssh2_channel_get_exit_status(channel)
        let duration = Double(Deadline.now.nanoseconds - started.nanoseconds) / 1e9
        return (sent, CommandResult(exitStatus: status, stdout: EndpointText.decode(output.stdout), stderr: EndpointText.decode(output.stderr),
                                    duration: duration))
    }
}

/// What a streaming command prints: the first `limit` bytes of each stream, the rest dropped, so
/// a chatty or hostile endpoint costs bounded memory.
private struct StreamOutput {
    let limit: Int
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var buffer = [CChar](repeating: 0, count: 32_768)

    init(limit: Int) {
        self.limit = limit
    }

    /// Reads both streams without waiting; true when a read returned data (another may too).
    @discardableResult
    mutating func drain(_ channel: OpaquePointer, _ session: OpaquePointer?) throws -> Bool {
        var any = false
        for stream: Int32 in [0, 1] {
            let capacity = buffer.count
            let count = buffer.withUnsafeMutableBufferPointer { libssh2_channel_read_ex(channel, stream, $0.baseAddress, capacity) }
            if count > 0 {
                any = true
                let kept = stream == 0 ? stdout.count : stderr.count
                let room = max(0, limit - kept)
                let bytes = buffer.prefix(min(room, count)).map { UInt8(bitPattern: $0) }
                if stream == 0 { stdout += bytes } else { stderr += bytes }
            } else if count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN) {
                try check(Int32(truncatingIfNeeded: count), session, "libssh2_channel_read_ex")
            }
        }
        return any
    }
}
