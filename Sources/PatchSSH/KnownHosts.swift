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
        /// The key is marked `@revoked` for this host: refused whatever else the file says.
        case revoked
    }

    /// A line that is not used for checking, and why (reported once per run).
    public struct SkippedLine: Sendable, Equatable {
        public var line: Int
        public var reason: String
    }

    public let path: String
    /// Lines not used: host certificates (`@cert-authority`), wildcard or negated host patterns,
    /// lines libssh2 cannot parse (security-key types...). Skipped and reported, never fatal.
    public private(set) var skipped: [SkippedLine] = []
    public var skippedLines: [Int] { skipped.map(\.line) }

    /// A `@revoked` line: its host patterns and the revoked key's blob.
    private struct Revocation {
        var patterns: [String]
        var key: Data
    }

    private let lock = NSLock()
    // libssh2 allocates known-host collections through a session; this one never connects.
    private let allocationSession: OpaquePointer
    private let collection: OpaquePointer
    /// `@revoked` lines whose host field is hashed: libssh2 matches hashed names for us.
    private let revokedHashed: OpaquePointer
    /// `@revoked` lines with plain patterns (wildcards and negation allowed), matched here.
    private var revokedPlain: [Revocation] = []
    /// `@cert-authority` lines (host patterns, line number): not supported, so a host that only
    /// they vouch for is refused with a message that says so.
    private var certificateAuthorities: [(patterns: [String], line: Int)] = []
    /// libssh2 host key types of the lines in use, for the per-host algorithm order.
    private var keyTypesInFile = Set<Int32>()

    public init(path: String) throws {
        try LibSSH2.ensureInitialized()
        self.path = path
        guard let session = libssh2_session_init_ex(nil, nil, nil, nil) else {
            throw SSHError.knownHosts(path: path, message: "cannot allocate libssh2 session")
        }
        guard let hosts = libssh2_knownhost_init(session), let revoked = libssh2_knownhost_init(session) else {
            libssh2_session_free(session)
            throw SSHError.knownHosts(path: path, message: "cannot allocate known-hosts collection")
        }
        allocationSession = session
        collection = hosts
        revokedHashed = revoked
        guard FileManager.default.fileExists(atPath: path) else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SSHError.knownHosts(path: path, message: "cannot read file")
        }
        // Line by line: libssh2_knownhost_readfile stops at the first line it does not understand.
        let text = String(decoding: data, as: UTF8.self)
        // "\r\n" is one Character in Swift: split on it as well as on "\n", or a CRLF file is one line.
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            // Plain character scans: Foundation's trimming bridges through NSString, per line.
            // Trailing CR and blanks go too: a file edited on Windows is read as OpenSSH reads it.
            var line = raw.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
            while let last = line.last, last == "\r" || last == " " || last == "\t" { line = line.dropLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            let number = index + 1
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("@") {
                let marker = fields.removeFirst()
                switch marker {
                case "@revoked":
                    if !addRevocation(fields, into: revoked) { skipped.append(SkippedLine(line: number, reason: "unreadable @revoked line")) }
                case "@cert-authority":
                    skipped.append(SkippedLine(line: number, reason: "@cert-authority: host certificates are not supported"))
                    if let patterns = fields.first {
                        certificateAuthorities.append((patterns.split(separator: ",").map { $0.lowercased() }, number))
                    }
                default:
                    skipped.append(SkippedLine(line: number, reason: "unknown marker \(marker)"))
                }
                continue
            }
            if let patterns = fields.first, !patterns.hasPrefix("|"),
               patterns.contains(where: { $0 == "*" || $0 == "?" }) || patterns.split(separator: ",").contains(where: { $0.hasPrefix("!") }) {
                skipped.append(SkippedLine(line: number, reason: "wildcard or negated host patterns are not supported"))
                continue
            }
            if Self.readLine(String(line), into: hosts) != 0 {
                skipped.append(SkippedLine(line: number, reason: "not understood (key type unsupported or line malformed)"))
            } else if fields.count > 1, let type = Self.hostKeyType(named: String(fields[1])) {
                keyTypesInFile.insert(type)
            }
        }
    }

    /// Hands one OpenSSH line to libssh2, newline- and NUL-terminated as readfile would (libssh2
    /// reads the key field up to a terminator, not just `len` bytes).
    private static func readLine(_ line: String, into collection: OpaquePointer) -> Int32 {
        let terminated = line + "\n"
        let length = terminated.utf8.count
        return terminated.withCString { libssh2_knownhost_readline(collection, $0, length, LIBSSH2_KNOWNHOST_FILE_OPENSSH) }
    }

    /// `HOSTS KEYTYPE BASE64 [COMMENT]` after `@revoked`.
    private func addRevocation(_ fields: [Substring], into hashedCollection: OpaquePointer) -> Bool {
        guard fields.count >= 3, let key = Data(base64Encoded: String(fields[2])) else { return false }
        if fields[0].hasPrefix("|") {
            return Self.readLine(fields.joined(separator: " "), into: hashedCollection) == 0
        }
        revokedPlain.append(Revocation(patterns: fields[0].split(separator: ",").map { $0.lowercased() }, key: key))
        return true
    }

    /// OpenSSH's host pattern list: a negated match refuses outright, else any positive match counts.
    static func matches(_ patterns: [String], name: String) -> Bool {
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if glob(Array(pattern.dropFirst().utf8), Array(name.utf8)) { return false }
            } else if glob(Array(pattern.utf8), Array(name.utf8)) {
                matched = true
            }
        }
        return matched
    }

    /// `*` and `?` wildcards, iteratively (patterns come from a file; no recursion depth to exhaust).
    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star = -1, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    deinit {
        libssh2_knownhost_free(revokedHashed)
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
        // Revocation first: a revoked key is refused even where another line accepts it.
        let blob = Data(key)
        if revokedPlain.contains(where: { $0.key == blob && Self.matches($0.patterns, name: name.lowercased()) }) { return .revoked }
        if libssh2_knownhost_checkp(revokedHashed, name, -1, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count,
                                    typemask, nil) == LIBSSH2_KNOWNHOST_CHECK_MATCH {
            return .revoked
        }
        // Port -1: match `name` exactly; libssh2 would otherwise also accept the port-less entry.
        let rc = libssh2_knownhost_checkp(
            collection, name, -1, key.baseAddress?.assumingMemoryBound(to: CChar.self), key.count, typemask, nil)
        switch rc {
        case LIBSSH2_KNOWNHOST_CHECK_MATCH: return .match
        case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: return .mismatch
        default: return .notFound
        }
    }

    /// The `@cert-authority` line whose patterns cover this endpoint, if any.
    public func certificateAuthorityLine(host: String, port: Int) -> Int? {
        let name = KnownHosts.entryName(host: host, port: port).lowercased()
        return certificateAuthorities.first { Self.matches($0.patterns, name: name) }?.line
    }

    /// OpenSSH's default host key order, by libssh2 key type, with the algorithms each stands for.
    static let defaultKeyOrder: [(type: Int32, algorithms: [String])] = [
        (LIBSSH2_HOSTKEY_TYPE_ED25519, ["ssh-ed25519"]),
        (LIBSSH2_HOSTKEY_TYPE_ECDSA_256, ["ecdsa-sha2-nistp256"]),
        (LIBSSH2_HOSTKEY_TYPE_ECDSA_384, ["ecdsa-sha2-nistp384"]),
        (LIBSSH2_HOSTKEY_TYPE_ECDSA_521, ["ecdsa-sha2-nistp521"]),
        (LIBSSH2_HOSTKEY_TYPE_RSA, ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]),
    ]

    /// Host key algorithms to ask this endpoint for, as OpenSSH orders them: the key types
    /// known_hosts already holds for it first, then the others. A server offering several keys then
    /// shows the one on record rather than a newer type that would look unknown.
    public func hostKeyAlgorithms(host: String, port: Int) -> String {
        let known = knownKeyTypes(host: host, port: port)
        let ordered = Self.defaultKeyOrder.filter { known.contains($0.type) } + Self.defaultKeyOrder.filter { !known.contains($0.type) }
        return ordered.flatMap(\.algorithms).joined(separator: ",")
    }

    /// The key types recorded for an endpoint. libssh2 compares keys only between entries of the
    /// same type, so asking with a key that matches nothing answers "mismatch" exactly when the
    /// endpoint has a key of that type (plain and hashed names alike).
    func knownKeyTypes(host: String, port: Int) -> Set<Int32> {
        lock.lock()
        defer { lock.unlock() }
        // One type in the whole file: it is the endpoint's, if it has any; no lookups needed.
        if keyTypesInFile.count <= 1 { return keyTypesInFile }
        let name = KnownHosts.entryName(host: host, port: port)
        let probe: [CChar] = [0x21]
        var found = Set<Int32>()
        for type in keyTypesInFile {
            let typemask = LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | KnownHosts.keyBits(type)
            if libssh2_knownhost_checkp(collection, name, -1, probe, probe.count, typemask, nil) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH {
                found.insert(type)
            }
        }
        return found
    }

    static func hostKeyType(named name: String) -> Int32? {
        switch name {
        case "ssh-ed25519": return LIBSSH2_HOSTKEY_TYPE_ED25519
        case "ssh-rsa": return LIBSSH2_HOSTKEY_TYPE_RSA
        case "ecdsa-sha2-nistp256": return LIBSSH2_HOSTKEY_TYPE_ECDSA_256
        case "ecdsa-sha2-nistp384": return LIBSSH2_HOSTKEY_TYPE_ECDSA_384
        case "ecdsa-sha2-nistp521": return LIBSSH2_HOSTKEY_TYPE_ECDSA_521
        default: return nil
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
