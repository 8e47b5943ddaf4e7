import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connect probe, as `nmap -sT` does it: no raw sockets, no root, one non-blocking connect
/// on the reactor.
public enum PortProbe {
    public enum Outcome: Sendable, Equatable {
        /// Connected; the caller owns the socket (close it, or hand it on).
        case open(Int32)
        /// The host answered with a reset: it exists, nothing listens.
        case refused
        /// No route, host unreachable, or the network refused locally.
        case unreachable(String)
        /// No answer within the timeout (filtered, or nobody there).
        case timeout
        /// Anything else the connect reported.
        case failed(String)

        public var summary: String {
            switch self {
            case .open: return "open"
            case .refused: return "connection refused"
            case let .unreachable(why): return why
            case .timeout: return "no answer"
            case let .failed(why): return why
            }
        }
    }

    /// `address`: a numeric IPv4 or IPv6 address (the sweep resolves nothing).
    public static func connect(address: String, port: Int, timeout: Double, reactor: Reactor = .shared) async -> Outcome {
        guard (1...65535).contains(port), let resolved = Self.socketAddress(address, port: port) else {
            return .failed("not a numeric address and port: \(address) \(port)")
        }
        var (storage, length, family) = resolved
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed(String(cString: strerror(errno))) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
        }
        var code = rc == 0 ? 0 : errno
        if rc != 0 && code == EINPROGRESS {
            let ready = (try? await reactor.wait(fd: fd, readable: false, writable: true, deadline: .after(seconds: timeout))) ?? false
            if !ready {
                reactor.forget(fd: fd)
                Glibc.close(fd)
                return .timeout
            }
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size)
            code = soError
        }
        if code == 0 { return .open(fd) }
        reactor.forget(fd: fd)
        Glibc.close(fd)
        switch code {
        case ECONNREFUSED: return .refused
        case EHOSTUNREACH, ENETUNREACH, EACCES, EPERM, EADDRNOTAVAIL: return .unreachable(String(cString: strerror(code)))
        case ETIMEDOUT: return .timeout
        default: return .failed(String(cString: strerror(code)))
        }
    }

    /// A numeric IPv4 or IPv6 address (and port) as the socket calls take it: the storage, its
    /// length and the address family; nil when `address` is not numeric.
    public static func socketAddress(_ address: String, port: Int = 0) -> (sockaddr_storage, socklen_t, Int32)? {
        var storage = sockaddr_storage()
        var length: socklen_t = 0
        let family: Int32 = address.contains(":") ? AF_INET6 : AF_INET
        withUnsafeMutableBytes(of: &storage) { raw in
            if family == AF_INET6 {
                var v6 = sockaddr_in6()
                v6.sin6_family = sa_family_t(AF_INET6)
                v6.sin6_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
                guard inet_pton(AF_INET6, address, &v6.sin6_addr) == 1 else { return }
                raw.storeBytes(of: v6, as: sockaddr_in6.self)
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            } else {
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
                guard inet_pton(AF_INET, address, &v4.sin_addr) == 1 else { return }
                raw.storeBytes(of: v4, as: sockaddr_in.self)
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
            }
        }
        return length > 0 ? (storage, length, family) : nil
    }
}
