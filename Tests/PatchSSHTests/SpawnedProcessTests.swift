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

/// `TestProcess.run`'s timeout is judged by a thread of its own, from whether the program still runs
/// when the time is up, not by a race on the test process's shared threads, which a loaded run
/// holds for minutes.
@Suite("Programs run with a timeout")
struct TestProcessDeadlineTests {
    @Test func aProgramThatOverrunsIsKilledAndReported() async throws {
        let started = ContinuousClock.now
        await #expect {
            try await TestProcess.run("/bin/sleep", ["600"], timeout: .milliseconds(300))
        } throws: { error in
            "\(error)".contains("did not finish within")
        }
        // Killed, not waited for: left alone, the program would have run 600 s. (A loaded test run may take
        // minutes to come back to this test, so nothing shorter is a fair bound.)
        #expect(ContinuousClock.now - started < .seconds(590))
    }

    @Test func aProgramThatEndsInTimeGivesItsOutput() async throws {
        let output = try await TestProcess.run("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"], timeout: .seconds(600))
        #expect(output.status == 3)
        #expect(output.stdout == "out\n")
        #expect(output.stderr == "err\n")
    }

    /// The case the shared threads got wrong: the program ended before the time ran out, and the
    /// test saw it only afterwards. Ended and not yet reaped (a zombie), then reaped: never killed.
    @Test func aProgramThatEndedBeforeTheTimeIsUpIsNotKilledWhenSeenLate() throws {
        for reapFirst in [false, true] {
            var pid: pid_t = 0
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
            defer { argv.forEach { free($0) } }
            #expect(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0)
            // Waits for its end without reaping it.
            var info = siginfo_t()
            #expect(waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == 0)
            var status: Int32 = 0
            if reapFirst { #expect(waitpid(pid, &status, 0) == pid) }
            let deadline = TestProcess.Deadline()
            deadline.watch(pid, for: .milliseconds(50))
            // The watch decides when its time is up, with nobody having told it of the end.
            #expect(deadline.decision() == false, "reaped first: \(reapFirst)")
            #expect(deadline.end() == false)
            if !reapFirst { #expect(waitpid(pid, &status, 0) == pid) }
        }
    }

    /// A program still running when the time is up is killed, and `end()` says so.
    @Test func aProgramStillRunningWhenTheTimeIsUpIsKilled() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sleep"), strdup("600"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/sleep", nil, nil, argv, environ) == 0)
        let deadline = TestProcess.Deadline()
        deadline.watch(pid, for: .milliseconds(50))
        #expect(deadline.decision() == true)
        #expect(deadline.end() == true)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, 0) == pid)
        #expect(status & 0x7f == SIGKILL)
    }
}
