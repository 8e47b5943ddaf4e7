import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Holds this process at `count` or more open descriptors (copies of stderr, close-on-exec) until
/// released: the state in which Foundation's `Process.run()` read past glibc's readdir buffer
/// (1363 or more, see `SpawnedProcess`).
public final class OpenDescriptors {
    public private(set) var held: [Int32] = []

    public init(atLeast count: Int) throws {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        if getrlimit(resource, &limit) == 0, limit.rlim_cur < rlim_t(count + 64) {
            limit.rlim_cur = min(limit.rlim_max, rlim_t(count + 64))
            _ = setrlimit(resource, &limit)
        }
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        for _ in open..<max(open, count) {
            let fd = fcntl(2, F_DUPFD_CLOEXEC, 0)
            guard fd >= 0 else {
                release()
                throw HostileEndpoint.Failure("cannot open \(count) descriptors: \(String(cString: strerror(errno)))")
            }
            held.append(fd)
        }
    }

    public func release() {
        held.forEach { close($0) }
        held = []
    }

    deinit { release() }
}
