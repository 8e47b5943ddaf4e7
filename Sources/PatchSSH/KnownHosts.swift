import CLibSSH2
import Foundation

/// OpenSSH known_hosts, checked the way OpenSSH does: a non-default port only matches
/// `[host]:port` entries, hashed (`|1|salt|hash`) entries are honoured, and a key that differs
/// from the recorded one is always refused. Shared by every session of a run, so access is locked.
public final class KnownHosts: @unchecked Sendable {
    public enum Verdict: Sendable, Equatable {
        case match
        case mismatch
        case notFound
    }

    public let path: String
    /// Lines libssh2 could not parse (certificate authorities, security-key types...): skipped, reported once.
    public private(set) var skippedLines: [Int] = []

    private let lock = NSLock()
    // libssh2 allocates known-host collections through a session; this one never connects.
    private let allocationSession: OpaquePointer
    private let collection: OpaquePointer

    public init(path: String) throws {
        try LibSSH2.ensureInitialized()
        self.path = path
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
            throw SSHError.knownHosts(path: path, message: "cannot allocate libssh2 session")
        }
        guard let hosts = libssh2_knownhost_init(session) else {
            libssh2_session_free(session)
            throw SSHError.knownHosts(path: path, message: "cannot allocate known-hosts collection")
        }
        allocationSession = session
        collection = hosts
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SSHError.knownHosts(path: path, message: "cannot read file")
        }
        // Line by line: libssh2_knownhost_readfile stops at the first line it does not understand.
        let text = String(decoding: data, as: UTF8.self)
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // Plain character scan: Foundation's trimming bridges through NSString, per line.
            let line = raw.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if line.isEmpty || line.hasPrefix("#") { continue }
            // As readfile hands it over: newline-terminated and NUL-terminated (libssh2 reads
            // the key field up to a terminator, not just `len` bytes).
            let terminated = line + "\n"
            let length = terminated.utf8.count
            let rc = terminated.withCString { libssh2_knownhost_readline(hosts, $0, length, LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
            if rc != 0 { skippedLines.append(index + 1) }
        }
    }

    deinit {
        libssh2_knownhost_free(collection)
        libssh2_session_free(allocationSession)
    }

    /// The name OpenSSH records for an endpoint.
    static func entryName(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    public func check(host: String, port: Int, key: UnsafeRawBufferPointer, keyType: Int32) -> Verdict {
        let name = KnownHosts.entryName(host: host, port: port)
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KnownHosts.keyBits(keyType)
        lock.lock()
        defer { lock.unlock() }
        // Port -1: match `name` exactly; libssh2 would otherwise also accept the port-less entry.
        let rc = libssh2_knownhost_checkp(
            collection, name, -1, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count, typemask, nil)
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch
        default: return .notFound
        }
    }

    /// Records a first-seen key (accept-new): appended to the file as one OpenSSH line, and kept
    /// in memory so later sessions of this run to the same endpoint match it.
    public func add(host: String, port: Int, key: UnsafeRawBufferPointer, keyType: Int32) throws {
        let name = KnownHosts.entryName(host: host, port: port)
        let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KnownHosts.keyBits(keyType)
        lock.lock()
        defer { lock.unlock() }
        var entry: UnsafeMutablePointer<libssh2_knownhost>?
        let added = libssh2_knownhost_addc(
            collection, name, nil, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
            nil, 0, typemask, &entry)
        guard added == 0, let entry else {
            throw SSHError.knownHosts(path: path, message: LibSSH2Error.last(allocationSession, function: "libssh2_knownhost_addc").message)
        }
        var buffer = [CChar](repeating: 0, count: 8192)
        var length = 0
        let written = libssh2_knownhost_writeline(collection, entry, &buffer, buffer.count, &length, LIBSSH2_KNOWNHOST_FILE_OPENSSH)
        guard written == 0 else {
            throw SSHError.knownHosts(path: path, message: "cannot format entry for \(name)")
        }
        let line = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        try append(line: line.hasSuffix("\n") ? line : line + "\n")
    }

    private func append(line: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        do {
            if !FileManager.default.fileExists(atPath: folder) {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw SSHError.knownHosts(path: path, message: "cannot create file")
                }
            }
            let handle = try FileHandle(forWritingTo: url)
            defer { try? handle.close() }
            try handle.seekToEnd()
            // A file not ending in a newline would glue our entry onto its last line.
            if try handle.offset() > 0 {
                let reader = try FileHandle(forReadingFrom: url)
                try reader.seek(toOffset: try handle.offset() - 1)
                let last = try reader.read(upToCount: 1)
                try reader.close()
                if last != Data([0x0A]) { try handle.write(contentsOf: Data([0x0A])) }
            }
            try handle.write(contentsOf: Data(line.utf8))
        } catch let error as SSHError {
            throw error
        } catch {
            throw SSHError.knownHosts(path: path, message: "cannot append: \(error.localizedDescription)")
        }
    }

    static func keyBits(_ hostKeyType: Int32) -> Int32 {
        switch hostKeyType {
        case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA
        case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384
        case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521
        case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519
        default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN
        }
    }
}
