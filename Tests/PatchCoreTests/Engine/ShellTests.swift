import Foundation
import LabSupport
import Testing
@testable import PatchCore

@Suite("Shell quoting")
struct ShellTests {
    /// Runs the quoted word through a real /bin/sh and returns what it received as $1.
    static func roundTrip(_ value: String) async throws -> String {
        try await TestProcess.run("/bin/sh", ["-c", "printf '%s' " + Shell.quote(value)]).stdout
    }

    @Test(arguments: ["plain", "", "x; rm -rf /", "a'b", "'", "$(touch /tmp/pwned)", "`id`", "two words", "new\nline", "*", "~root", "-n", "ünïcödé", "\\'\"$HOME\""])
    func quotedValuesReachTheShellUnchanged(value: String) async throws {
        #expect(try await Self.roundTrip(value) == value)
    }

    @Test func safeWordsStayReadable() {
        #expect(Shell.quote("libssl3=3.0.15-1~deb12u1") == "'libssl3=3.0.15-1~deb12u1'")
        #expect(Shell.quote("apt-get") == "apt-get")
        #expect(Shell.join(["sudo", "-u", "my user"]) == "sudo -u 'my user'")
    }
}
