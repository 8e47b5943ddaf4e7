import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT/SIGTERM delivered to whichever thread the kernel picks, reliably: the handler only
/// writes the signal number to a pipe (async-signal-safe), and one thread reads the pipe and
/// calls back. (Ignoring the signals and waiting on a dispatch source loses them when the kernel
/// hands them to a thread that does not block them.)
enum SignalRelay {
    nonisolated(unsafe) private static var writeEnd: Int32 = -1

    static func install(_ signals: [Int32], _ onSignal: @escaping @Sendable (Int32) -> Void) {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        writeEnd = ends[1]
        let readEnd = ends[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count == 1 { onSignal(Int32(byte)) } else if count < 0 && errno == EINTR { continue } else { return }
            }
        }
        for number in signals {
            signal(number) { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = write(SignalRelay.writeEnd, &byte, 1)
            }
        }
    }
}
