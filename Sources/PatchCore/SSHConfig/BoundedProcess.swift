import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a local program without a shell of ours, in its own process group (so a time-out kills
/// whatever it started too), with a time limit and a cap on what is kept of its output.
enum BoundedProcess {
    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: Data
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double, maxOutput: Int,
                    environment: [String: String]? = nil) -> Result<Output, SSHConfigMessage> {
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { return .failure("cannot create a pipe") }
        guard pipe(&errPipe) == 0 else { close(outPipe[0]); close(outPipe[1]); return .failure("cannot create a pipe") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envStrings = environment.map { $0.map { "\($0.key)=\($0.value)" } }
        let envp = envStrings.map { $0.map { strdup($0) } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = envp.map { posix_spawn(&pid, executable, &actions, &attributes, argv, $0) }
            ?? posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        defer { close(outPipe[0]); close(errPipe[0]) }
        guard spawned == 0 else { return .failure("cannot run \(executable): \(String(cString: strerror(spawned)))") }

        let deadline = Date().addingTimeInterval(timeout)
        var out = Data(), err = Data()
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        var status: Int32 = 0
        var exited = false
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                kill(-pid, SIGKILL)
                if !exited { waitpid(pid, &status, 0) }
                return .failure("did not finish within \(formatSeconds(timeout))")
            }
            if open.isEmpty {
                if exited { break }
                if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
                usleep(10_000)  // output closed, process not yet reaped: poll its exit until the deadline
                continue
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(left, 1) * 1000) + 1)
            if ready < 0, errno != EINTR { break }
            for entry in fds where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count <= 0 {
                    open.removeAll { $0 == entry.fd }
                    continue
                }
                let isOut = entry.fd == outPipe[0]
                let limit = isOut ? maxOutput : 4096
                let kept = isOut ? out.count : err.count
                if kept < limit {
                    let chunk = Data(buffer[0..<min(count, limit - kept)])
                    if isOut { out.append(chunk) } else { err.append(chunk) }
                }
            }
        }
        // Whatever the program left running in its group does not outlive it.
        kill(-pid, SIGKILL)
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return .success(Output(status: code, stdout: out, stderr: err))
    }

    private static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s"
    }
}
