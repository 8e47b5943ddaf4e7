import Foundation
import Testing
@testable import PatchctlCLI

@Suite("Signal relay")
struct SignalRelayTests {
    /// Each install (each in-process deploy) opened a new pipe and thread and left the previous
    /// thread blocked for good on a pipe nobody closed: two descriptors and a thread per run.
    @Test func aSecondInstallKeepsTheOnePipe() throws {
        SignalRelay.install([SIGUSR2]) { _ in }
        let first = try #require(SignalRelay.relayDescriptor)
        SignalRelay.install([SIGUSR2]) { _ in }
        #expect(SignalRelay.relayDescriptor == first)
        #expect(fcntl(first, F_GETFD) >= 0)
    }
}
