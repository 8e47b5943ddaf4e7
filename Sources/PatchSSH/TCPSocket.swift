import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Non-blocking TCP connect with a deadline, trying every address the name resolves to.
enum TCPSocket {
    static func connect(host: String, port: Int, deadline: Deadline, timeoutSeconds: Double, reactor: Reactor) async throws -> Int32 {
        let first = try await resolve(host: host, port: port)
        defer { freeaddrinfo(first) }

        var lastError = "no address"
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            var one: Int32 = 1
            // Small request/response packets: Nagle would add a delayed-ACK round trip to each.
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            if errno != EINPROGRESS {
                lastError = String(cString: strerror(errno))
                close(fd)
                continue
            }
            let writable: Bool
            do {
                writable = try await reactor.wait(fd: fd, readable: false, writable: true, deadline: deadline)
            } catch {
                // The socket is this call's own: no other task can be waiting on it.
                close(fd)
                throw SSHError.connect(host: host, port: port, message: "\(error)")
            }
            if !writable {
                reactor.forget(fd: fd)
                close(fd)
                throw SSHError.timeout(host: host, phase: "connect", seconds: timeoutSeconds)
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError == 0 { return fd }
            lastError = String(cString: strerror(soError))
            reactor.forget(fd: fd)
            close(fd)
        }
        throw SSHError.connect(host: host, port: port, message: lastError)
    }

    /// An address literal resolves at once; a name goes to a Dispatch thread, since getaddrinfo
    /// blocks and the caller may be the reactor thread every session shares.
    private static func resolve(host: String, port: Int) async throws -> UnsafeMutablePointer<addrinfo> {
        if let numeric = lookup(host: host, port: port, flags: AI_NUMERICHOST), case let .success(list) = numeric {
            return list
        }
        let result: Result<UnsafeMutablePointer<addrinfo>, SSHError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: lookup(host: host, port: port, flags: AI_ADDRCONFIG)
                    ?? .failure(.resolve(host: host, message: "no address")))
            }
        }
        return try result.get()
    }

    private static func lookup(host: String, port: Int, flags: Int32) -> Result<UnsafeMutablePointer<addrinfo>, SSHError>? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            return flags == AI_NUMERICHOST ? nil : .failure(.resolve(host: host, message: String(cString: gai_strerror(rc))))
        }
        return .success(list)
    }
}
