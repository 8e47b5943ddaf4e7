import Foundation
import Testing
@testable import PatchCore

@Suite("Shell quoting")
struct ShellTests {
    /// Runs the quoted word through a real /bin/sh and returns what it received as $1.
    static func roundTrip(_ value: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf '%s' " + Shell.quote(value)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: ["plain", "", "x; rm -rf /", "a'b", "'", "$(touch /tmp/pwned)", "`id`", "two words", "new\nline", "*", "~root", "-n", "ünïcödé", "\\'\"$HOME\""])
    func quotedValuesReachTheShellUnchanged(value: String) throws {
        #expect(try Self.roundTrip(value) == value)
    }

    @Test func safeWordsStayReadable() {
        #expect(Shell.quote("libssl3=3.0.15-1~deb12u1") == "'libssl3=3.0.15-1~deb12u1'")
        #expect(Shell.quote("apt-get") == "apt-get")
        #expect(Shell.join(["sudo", "-u", "my user"]) == "sudo -u 'my user'")
    }
}
