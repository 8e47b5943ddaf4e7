import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM delivered to whichever thread the kernel picks, reliably: the handler only
/// writes the signal number to a pipe (async-signal-safe), and one thread reads the pipe and
/// calls back. (Ignoring the signals and waiting on a dispatch source loses them when the kernel
/// hands them to a thread that does not block them.)
///
/// One pipe and one thread for the whole process: a later `install` (the next in-process run,
/// as the tests make) replaces the callback. A new pipe per call left the previous thread
/// blocked on a pipe whose write end nobody closed: two descriptors and a thread per run.
enum SignalRelay {
    /// Set once, before any handler is installed; read by the handler.
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    private final class Relay: @unchecked Sendable {
        let lock = NSLock()
        var onSignal: (@Sendable (Int32) -> Void)?
        var handled: Set<Int32> = []
        let readEnd: Int32

        init?() {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { return nil }
            for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            readEnd = ends[0]
            SignalRelay.writeEnd = ends[1]
        }

        func run() {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 {
                    lock.lock()
                    let callback = onSignal
                    lock.unlock()
                    callback?(Int32(byte))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    private static let relay: Relay? = {
        guard let relay = Relay() else { return nil }
        Thread.detachNewThread { relay.run() }
        return relay
    }()

    /// The pipe the handlers write to (tests check that a second install reuses it).
    static var relayDescriptor: Int32? { relay.map { _ in writeEnd } }

    static func install(_ signals: [Int32], _ onSignal: @escaping @Sendable (Int32) -> Void) {
        guard let relay else { return }
        relay.lock.lock()
        relay.onSignal = onSignal
        let newSignals = signals.filter { relay.handled.insert($0).inserted }
        relay.lock.unlock()
        for number in newSignals {
            signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(SignalRelay.writeEnd, &byte, 1)
            }
        }
    }
}
