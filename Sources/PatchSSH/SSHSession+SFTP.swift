import CLibSSH2
import Foundation

extension SSHSession {
    /// Streams a local file to `remotePath` over SFTP (created with `mode`, truncated if it exists),
    /// in chunks of `chunkSize`, so memory stays bounded whatever the size. `idleTimeout` bounds
    /// each wait for the server, not the whole upload. `progress` sees the bytes sent so far.
    public func upload(localPath: String, remotePath: String, mode: Int32 = 0o600, idleTimeout: Double = 60, chunkSize: Int = 1 << 20,
                       progress: (@Sendable (Int64) -> Void)? = nil) async throws -> Int64 {
        try await onReactor {
            try await self.uploadOnReactor(localPath: localPath, remotePath: remotePath, mode: mode, idleTimeout: idleTimeout, chunkSize: chunkSize, progress: progress)
        }
    }

    private func uploadOnReactor(localPath: String, remotePath: String, mode: Int32, idleTimeout: Double, chunkSize: Int,
                                 progress: (@Sendable (Int64) -> Void)?) async throws -> Int64 {
        guard let session = handle else { throw SSHError.session(host: config.label, LibSSH2Error.last(nil, function: "sftp")) }
        guard let input = FileHandle(forReadingAtPath: localPath) else {
            throw SSHError.transfer(host: config.label, path: localPath, message: "cannot read the local file")
        }
        defer { try? input.close() }
        let owner = claim()
        defer { release(owner) }
        currentTimeout = idleTimeout
        do {
            let sftp = try await pointer(idleTimeout, phase: "sftp", "libssh2_sftp_init") { libssh2_sftp_init(session) }
            defer { _ = libssh2_sftp_shutdown(sftp) }
            let path = Array(remotePath.utf8).map { CChar(bitPattern: $0) }
            let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC)
            let file: OpaquePointer
            do {
                file = try await pointer(idleTimeout, phase: "sftp", "libssh2_sftp_open_ex") {
                    path.withUnsafeBufferPointer { libssh2_sftp_open_ex(sftp, $0.baseAddress, UInt32($0.count), flags, Int(mode), LIBSSH2_SFTP_OPENFILE) }
                }
            } catch let error as LibSSH2Error where error.code == LIBSSH2_ERROR_SFTP_PROTOCOL {
                throw SSHError.transfer(host: config.label, path: remotePath, message: "cannot create: \(Self.sftpStatus(sftp))")
            }
            var sent: Int64 = 0
            do {
                while true {
                    let chunk = input.readData(ofLength: chunkSize)
                    if chunk.isEmpty { break }
                    var offset = 0
                    while offset < chunk.count {
                        let deadline = Deadline.after(seconds: idleTimeout)
                        let written = try await retry(deadline, phase: "sftp write") {
                            chunk.withUnsafeBytes { raw in
                                let base = raw.baseAddress!.assumingMemoryBound(to: CChar.self).advanced(by: offset)
                                return Int32(clamping: libssh2_sftp_write(file, base, chunk.count - offset))
                            }
                        }
                        offset += Int(written)
                        sent += Int64(written)
                        progress?(sent)
                    }
                }
            } catch let error as LibSSH2Error where error.code == LIBSSH2_ERROR_SFTP_PROTOCOL {
                // e.g. SSH_FX_FAILURE when the disk is full, SSH_FX_PERMISSION_DENIED. Read before the
                // close: libssh2 1.11 resets the status when the handle is closed.
                let status = Self.sftpStatus(sftp)
                _ = libssh2_sftp_close_handle(file)
                throw SSHError.transfer(host: config.label, path: remotePath, message: "write failed after \(sent) bytes: \(status)")
            }
            try await retry(.after(seconds: idleTimeout), phase: "sftp close") { libssh2_sftp_close_handle(file) }
            return sent
        } catch let error as LibSSH2Error {
            throw sessionError(error)
        }
    }

    /// Repeats a libssh2 call that signals EAGAIN by returning NULL.
    private func pointer(_ seconds: Double, phase: String, _ function: String, _ call: () -> OpaquePointer?) async throws -> OpaquePointer {
        let deadline = Deadline.after(seconds: seconds)
        while true {
            if let result = call() { return result }
            guard libssh2_session_last_errno(handle) == LIBSSH2_ERROR_EAGAIN else { throw LibSSH2Error.last(handle, function: function) }
            // libssh2 1.11 may answer NULL with a stale EAGAIN and nothing left to wait for: after a
            // refused subsystem, the next sftp_init first frees the old channel and returns without
            // a new error. So no wait here is longer than a moment; the call is simply made again.
            if try await !waitForSocket(until: min(deadline, .after(seconds: 0.05))), deadline.hasPassed {
                throw SSHError.timeout(host: config.label, phase: phase, seconds: currentTimeout)
            }
        }
    }

    /// The SFTP status of the last failure, with its protocol name.
    static func sftpStatus(_ sftp: OpaquePointer) -> String {
        let code = libssh2_sftp_last_error(sftp)
        let names: [UInt: String] = [
            1: "end of file", 2: "no such file", 3: "permission denied", 4: "failure (disk full?)", 5: "bad message",
            6: "no connection", 7: "connection lost", 8: "operation unsupported", 14: "no space on filesystem",
            15: "quota exceeded", 11: "file already exists",
        ]
        return "SFTP status \(code) (\(names[code] ?? "unknown"))"
    }
}
