import CLibSSH2
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One host key a server offered during key exchange.
public struct ScannedHostKey: Codable, Sendable, Equatable, Hashable {
    /// As known_hosts and `ssh-keyscan` write it: `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`.
    public var type: String
    /// `SHA256:…`, the format `ssh-keygen -lf` prints.
    public var fingerprint: String
    /// The public key blob, base64, as in a known_hosts line.
    public var key: String

    public init(type: String, fingerprint: String, key: String) {
        self.type = type
        self.fingerprint = fingerprint
        self.key = key
    }
}

/// What one SSH port answered: its identification banner and every host key type it offers.
public struct HostKeyScan: Sendable, Equatable {
    /// The server's identification line (`SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`), as received.
    public var banner: String?
    public var keys: [ScannedHostKey]
    /// Why no key was collected (the port answered, but not as an SSH server would).
    public var error: String?
}

/// `ssh-keyscan` on the reactor: key exchange only, once per key family, never authentication.
///
/// libssh2 reports only the key the negotiation chose, so each family gets its own connection with
/// the host key preference narrowed to it, as ssh-keyscan does. A family the server lacks fails its
/// negotiation, which means "not offered", not an error.
public enum HostKeyScanner {
    /// The families ssh-keyscan asks for by default, in its order, with the algorithms that stand for each.
    public static let families: [(name: String, algorithms: String)] = [
        ("rsa", "rsa-sha2-512,rsa-sha2-256,ssh-rsa"),
        ("ecdsa", "ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"),
        ("ed25519", "ssh-ed25519"),
    ]

    /// `socket`: an already connected socket to use for the first family (the sweep's own probe),
    /// owned by this call from now on. Each connection, and the handshake on it, gets `timeout` seconds.
    public static func scan(address: String, port: Int, socket: Int32? = nil, timeout: Double,
                            reactor: Reactor = .shared) async -> HostKeyScan {
        await withTaskExecutorPreference(reactor) {
            var result = HostKeyScan(banner: nil, keys: [], error: nil)
            var handed = socket
            var failures: [String] = []
            for family in families {
                let fd: Int32
                if let given = handed {
                    fd = given
                    handed = nil
                } else {
                    switch await PortProbe.connect(address: address, port: port, timeout: timeout, reactor: reactor) {
                    case let .open(socket): fd = socket
                    case let other:
                        // The port answered a moment ago: a server that stops answering is recorded as such.
                        failures.append("\(family.name): \(other.summary)")
                        continue
                    }
                }
                let attempt = await handshake(fd: fd, algorithms: family.algorithms, timeout: timeout, reactor: reactor)
                if result.banner == nil { result.banner = attempt.banner }
                if let key = attempt.key, !result.keys.contains(key) { result.keys.append(key) }
                if let error = attempt.error { failures.append("\(family.name): \(error)") }
                // Nothing that speaks SSH answered: asking again per family would only cost a timeout each.
                if attempt.banner == nil && attempt.key == nil { break }
            }
            if result.keys.isEmpty { result.error = failures.first ?? "no host key offered" }
            return result
        }
    }

    private struct Attempt {
        var banner: String?
        var key: ScannedHostKey?
        /// Set when the failure is not a mere "family not offered".
        var error: String?
    }

    /// Key exchange on `fd` (closed before returning) offering only `algorithms` as host key types.
    private static func handshake(fd: Int32, algorithms: String, timeout: Double, reactor: Reactor) async -> Attempt {
        defer {
            reactor.forget(fd: fd)
            Glibc.close(fd)
        }
        guard (try? LibSSH2.ensureInitialized()) != nil, let handle = libssh2_session_init_ex(nil, nil, nil, nil) else {
            return Attempt(error: "cannot start libssh2")
        }
        defer { libssh2_session_free(handle) }
        libssh2_session_set_blocking(handle, 0)
        // A family libssh2 was built without is not asked for (e.g. ecdsa without OpenSSL's EC).
        guard libssh2_session_method_pref(handle, LIBSSH2_METHOD_HOSTKEY, algorithms) == 0 else { return Attempt() }
        // As sessions do: the key exchange is the cost of a scan, and curve25519 is the cheapest strong one.
        _ = libssh2_session_method_pref(handle, LIBSSH2_METHOD_KEX, SSHSession.keyExchangePreference)
        let deadline = Deadline.after(seconds: timeout)
        var rc: Int32
        repeat {
            rc = libssh2_session_handshake(handle, fd)
            guard rc == LIBSSH2_ERROR_EAGAIN else { break }
            let directions = libssh2_session_block_directions(handle)
            let writable = directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
            let readable = directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0
            guard (try? await reactor.wait(fd: fd, readable: readable || !writable, writable: writable, deadline: deadline)) == true else {
                return Attempt(banner: banner(handle), error: "key exchange timed out after \(Int(timeout)) s")
            }
        } while true
        let banner = banner(handle)
        guard rc == 0 else {
            // KEX_FAILURE: no common host key algorithm, i.e. the server has no key of this family.
            if rc == LIBSSH2_ERROR_KEX_FAILURE && banner != nil { return Attempt(banner: banner) }
            let error = LibSSH2Error.last(handle, function: "libssh2_session_handshake", fallback: rc)
            return Attempt(banner: banner, error: banner == nil ? "not an SSH server (\(error.message))" : error.message)
        }
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(handle, &length, &type), let name = SSHSession.hostKeyTypeName(type),
              let fingerprint = SSHSession.hostKeyFingerprint(handle) else {
            return Attempt(banner: banner, error: "the server sent no usable host key")
        }
        let blob = Data(bytes: key, count: length).base64EncodedString()
        // Politely, without waiting long: the key is what was wanted.
        let goodbye = Deadline.after(seconds: min(timeout, 1))
        while libssh2_session_disconnect_ex(handle, SSH_DISCONNECT_BY_APPLICATION, "patchctl discover", "") == LIBSSH2_ERROR_EAGAIN {
            guard (try? await reactor.wait(fd: fd, readable: false, writable: true, deadline: goodbye)) == true else { break }
        }
        return Attempt(banner: banner, key: ScannedHostKey(type: name, fingerprint: fingerprint, key: blob))
    }

    /// The server's identification line, at most 255 bytes (RFC 4253, and libssh2's own limit).
    private static func banner(_ handle: OpaquePointer) -> String? {
        guard let text = libssh2_session_banner_get(handle) else { return nil }
        let value = String(decoding: Data(bytes: text, count: min(strlen(text), 255)), as: UTF8.self)
        return value.isEmpty ? nil : value
    }
}
