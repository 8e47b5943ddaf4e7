import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The part of Foundation's `Process` the tests use, started with posix_spawn. Each test target
/// (and LabSupport) declares `typealias Process = SpawnedProcess`, so `Process()` in a test is this.
///
/// Why: on Linux, Foundation's `Process.run()` (swift-corelibs-foundation before PR #5472, so
/// Swift 6.3.1) looks for the highest open descriptor by listing /proc/self/fd and copies each
/// entry's whole 256-byte `d_name`, although glibc's records are 24 bytes. With 1363 or more
/// descriptors open, an entry ends the 32 KiB buffer glibc reads the directory into, and the
/// copy reads up to 237 bytes beyond the allocation: AddressSanitizer reports a
/// heap-buffer-overflow every time, and the test process died (SIGSEGV in memmove) when the next
/// page was unmapped. Tests run in parallel and hold sockets, pipes and databases, so the
/// process can pass that count. Here the child closes every descriptor above 2 itself
/// (posix_spawn_file_actions_addclosefrom_np), nothing is listed, and a thread of its own reaps it.
public final class SpawnedProcess: @unchecked Sendable {
    public enum TerminationReason: Sendable, Equatable {
        case exit
        case uncaughtSignal
    }

    public struct LaunchError: Error, CustomStringConvertible {
        public let path: String
        public let code: Int32
        public var description: String { "cannot run \(path): \(String(cString: strerror(code)))" }
    }

    // Set before `run()`, as with Foundation's.
    public var executableURL: URL?
    public var arguments: [String]?
    /// nil: this process's environment.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `Pipe`, a `FileHandle`, or nil / `FileHandle.nullDevice` for /dev/null. By default the
    /// child shares this process's own.
    public var standardInput: Any? = FileHandle.standardInput
    public var standardOutput: Any? = FileHandle.standardOutput
    public var standardError: Any? = FileHandle.standardError

    /// The child and how it ended, shared with the thread that reaps it (which holds only this,
    /// so the object and its pipes go as soon as the test lets go of them).
    private final class State: @unchecked Sendable {
        let condition = NSCondition()
        var pid: pid_t = 0
        var ended: (status: Int32, reason: TerminationReason)?

        func read<T>(_ body: (State) -> T) -> T {
            condition.lock()
            defer { condition.unlock() }
            return body(self)
        }
    }

    private let state = State()

    public init() {}

    public var processIdentifier: Int32 { state.read { $0.pid } }
    public var isRunning: Bool { state.read { $0.pid != 0 && $0.ended == nil } }

    /// The exit code, or the signal's number (as Foundation's). Only once the program ended.
    public var terminationStatus: Int32 { termination.status }
    public var terminationReason: TerminationReason { termination.reason }

    private var termination: (status: Int32, reason: TerminationReason) {
        guard let ended = state.read({ $0.ended }) else { preconditionFailure("the process has not ended") }
        return ended
    }

    public func run() throws {
        guard let path = executableURL?.path else { throw LaunchError(path: "(no executableURL)", code: ENOENT) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var devNull: Int32 = -1
        defer { if devNull >= 0 { close(devNull) } }
        for (value, target) in [(standardInput, Int32(0)), (standardOutput, 1), (standardError, 2)] {
            var fd: Int32 = -1
            switch value {
            case let pipe as Pipe:
                fd = target == 0 ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
            case let handle as FileHandle where handle !== FileHandle.nullDevice:
                fd = handle.fileDescriptor
            default:
                break
            }
            if fd < 0 {
                if devNull < 0 { devNull = open("/dev/null", O_RDWR | O_CLOEXEC) }
                fd = devNull
            }
            // dup2 onto itself clears close-on-exec (POSIX), so an inherited 0-2 stays open.
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        }
        // Nothing else reaches the child: not our sockets and pipes, nor those of tests starting
        // programs at the same moment (a pipe held open by an unrelated child never ends).
        guard let closeFrom = Self.addCloseFrom, let changeDirectory = Self.addChdir else {
            throw LaunchError(path: path, code: ENOSYS)
        }
        _ = closeFrom(&actions, 3)
        if let directory = currentDirectoryURL?.path {
            _ = changeDirectory(&actions, directory)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's; and the test runner's blocked signals unblocked.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + (arguments ?? [])).map { strdup($0) } + [nil]
        let env = environment ?? ProcessInfo.processInfo.environment
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let code = state.read { state in
            let code = posix_spawn(&child, path, &actions, &attributes, argv, envp)
            if code == 0 { state.pid = child }
            return code
        }
        guard code == 0 else { throw LaunchError(path: path, code: code) }

        // The parent's copies of the child's ends, so the pipes end when the child does.
        var childEnds: [FileHandle] = []
        if let pipe = standardInput as? Pipe { childEnds.append(pipe.fileHandleForReading) }
        for case let pipe as Pipe in [standardOutput, standardError] where !childEnds.contains(where: { $0 === pipe.fileHandleForWriting }) {
            childEnds.append(pipe.fileHandleForWriting)
        }
        for handle in childEnds { try? handle.close() }

        let state = state, pid = child
        let reaper = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let signal = status & 0x7f
            state.condition.lock()
            state.ended = signal == 0 ? ((status >> 8) & 0xff, .exit) : (signal, .uncaughtSignal)
            state.condition.broadcast()
            state.condition.unlock()
        }
        reaper.stackSize = 1 << 16
        reaper.start()
    }

    public func waitUntilExit() {
        state.condition.lock()
        while state.ended == nil { state.condition.wait() }
        state.condition.unlock()
    }

    public func terminate() {
        let pid = processIdentifier
        if pid > 0, isRunning { kill(pid, SIGTERM) }
    }

    public func interrupt() {
        let pid = processIdentifier
        if pid > 0, isRunning { kill(pid, SIGINT) }
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34) and _addchdir_np (2.29), declared
    /// only under _GNU_SOURCE, so looked up at run time.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()
}
