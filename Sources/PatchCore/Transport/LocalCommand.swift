import Foundation
import PatchSSH
#if canImport(Glibc)
import Glibc
#endif

/// A local program run without a shell, driven like the SSH channels: non-blocking pipes whose
/// readiness the reactor watches, each stream capped, a deadline, and the child reaped. Used for
/// the system `ssh` client (the OpenSSH transport), whose ControlMaster outlives the call.
struct LocalCommand {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    enum Failure: Error {
        case spawn(String)
        case timeout
        case outputLimit(stream: String)
    }

    var executable: String
    var arguments: [String]
    /// Bytes written to stdin, then end of input (nil: /dev/null).
    var input: [UInt8]? = nil
    /// A file to read stdin from instead (uploads stream a file without loading it).
    var inputFile: String? = nil

    func run(timeout: Double, outputLimit: Int, reactor: Reactor = .shared) async throws -> Output {
        let deadline = Deadline.after(seconds: timeout)
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
            throw Failure.spawn("pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec (Glibc's module has no pipe2): no other child keeps these pipes open.
        for fd in outPipe + errPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let inputFile {
            posix_spawn_file_actions_addopen(&actions, 0, inputFile, O_RDONLY, 0)
        } else if input != nil {
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The controller's own signal mask (the test runner blocks SIGTERM) must not reach ssh.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        close(outPipe[1]); close(errPipe[1]); close(inPipe[0])
        guard spawned == 0 else {
            close(outPipe[0]); close(errPipe[0]); close(inPipe[1])
            throw Failure.spawn("\(executable): \(String(cString: strerror(spawned)))")
        }
        for fd in [outPipe[0], errPipe[0], inPipe[1]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }

        var stdout: [UInt8] = [], stderr: [UInt8] = []
        var pending = input.map { ArraySlice($0) } ?? []
        var stdinFD: Int32 = inPipe[1]
        if pending.isEmpty { close(stdinFD); stdinFD = -1 }
        var open: [Int32: Int] = [outPipe[0]: 1, errPipe[0]: 2]
        var failure: Failure?
        var buffer = [UInt8](repeating: 0, count: 65536)
        loop: while !open.isEmpty || stdinFD >= 0 {
            var progressed = false
            if stdinFD >= 0 {
                let written = pending.withUnsafeBytes { Glibc.write(stdinFD, $0.baseAddress, $0.count) }
                if written > 0 { pending = pending.dropFirst(written); progressed = true }
                if pending.isEmpty || (written < 0 && errno != EAGAIN) {
                    reactor.forget(fd: stdinFD)
                    close(stdinFD)
                    stdinFD = -1
                }
            }
            for (fd, stream) in open {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    progressed = true
                    if stream == 1 { stdout += buffer[0..<count] } else { stderr += buffer[0..<count] }
                    if (stream == 1 ? stdout.count : stderr.count) > outputLimit {
                        failure = .outputLimit(stream: stream == 1 ? "stdout" : "stderr")
                        break loop
                    }
                } else if count == 0 || errno != EAGAIN {
                    reactor.forget(fd: fd)
                    close(fd)
                    open[fd] = nil
                    progressed = true
                }
            }
            if progressed { continue }
            if deadline.hasPassed { failure = .timeout; break }
            // Wait on one stream (the others are looked at on every wake-up anyway). The pipes are
            // this call's own, so no other task waits on them; were one to, the child is stopped.
            do {
                if let fd = open.keys.min() {
                    _ = try await reactor.wait(fd: fd, readable: true, writable: false, deadline: deadline)
                } else if stdinFD >= 0 {
                    _ = try await reactor.wait(fd: stdinFD, readable: false, writable: true, deadline: deadline)
                }
            } catch {
                failure = .spawn("\(executable): \(error)")
                break loop
            }
        }
        for fd in open.keys { reactor.forget(fd: fd); close(fd) }
        if stdinFD >= 0 { reactor.forget(fd: stdinFD); close(stdinFD) }
        if failure != nil { kill(pid, SIGKILL) }
        // Both pipes are closed: the child is exiting (a backgrounded ControlMaster has its own stdio).
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, WNOHANG)
            if reaped == pid || (reaped < 0 && errno != EINTR) { break }
            if deadline.hasPassed && failure == nil { kill(pid, SIGKILL); failure = .timeout }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        if let failure { throw failure }
        let exited = status & 0x7f == 0
        return Output(status: exited ? (status >> 8) & 0xff : 128 + (status & 0x7f), stdout: stdout, stderr: stderr)
    }
}
