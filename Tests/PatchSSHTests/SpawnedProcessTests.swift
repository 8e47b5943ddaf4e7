import Foundation
import LabSupport
import Testing

/// The tests' `Process` (LabSupport's `SpawnedProcess`, see Process.swift).
@Suite("Programs started by tests")
struct SpawnedProcessTests {
    /// With Foundation's `Process` the CI run crashed: once 1363 or more descriptors were open,
    /// `run()` read 256 bytes past glibc's readdir buffer (AddressSanitizer: heap-buffer-overflow
    /// in findMaximumOpenFromProcSelfFD), and its child kept Foundation's exit socket. Here the
    /// program starts and inherits nothing but its standard streams.
    @Test func aProgramStartsWithTwoThousandDescriptorsOpenAndInheritsNone() throws {
        let descriptors = try OpenDescriptors(atLeast: 2000)
        defer { descriptors.release() }
        let process = Process()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/bin/ls")
        process.arguments = ["/proc/self/fd"]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let listing = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.waitForExit() == 0)
        // 0-2, and the descriptor ls reads the folder with.
        #expect(listing.split(separator: "\n").map(String.init).sorted() == ["0", "1", "2", "3"], "\(listing)")
    }

    /// Foundation's `Process` kept itself and its pipes for good when the test reaped the
    /// child (as `waitForExit` had to): two descriptors per program, over nine hundred by the
    /// fuzz corpus suite, which is how the test process reached that count.
    @Test func aFinishedProgramKeepsNothingOpen() throws {
        weak var leftProcess: Process?
        weak var leftPipe: Pipe?
        do {
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/bin/echo")
            process.arguments = ["done"]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            #expect(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "done\n")
            #expect(process.waitForExit() == 0)
            leftProcess = process
            leftPipe = output
        }
        #expect(leftProcess == nil)
        #expect(leftPipe == nil)
    }

    @Test func exitCodesSignalsAndTheWorkingDirectoryAreFoundationsOnes() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "test \"$(pwd)\" = /tmp && exit 7"]
        process.currentDirectoryURL = URL(fileURLWithPath: "/tmp")
        try process.run()
        #expect(process.waitForTermination() == Process.Termination(status: 7, signaled: false))
        #expect(process.terminationReason == .exit && !process.isRunning)

        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["600"]
        try sleeper.run()
        #expect(sleeper.isRunning)
        sleeper.terminate()
        #expect(sleeper.waitForTermination() == Process.Termination(status: SIGTERM, signaled: true))

        let missing = Process()
        missing.executableURL = URL(fileURLWithPath: "/nonexistent/program")
        #expect(throws: SpawnedProcess.LaunchError.self) { try missing.run() }
    }
}
