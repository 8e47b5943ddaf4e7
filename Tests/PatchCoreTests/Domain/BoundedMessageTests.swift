import Foundation
import Testing
@testable import PatchCore

/// apt's and dpkg's own words about an interrupted dpkg (recorded, Fixtures/debian12/SOURCE.md)
/// reach the deploy record and the one-line failure summary whole; only text past a bound is cut,
/// where a sentence ends, with a visible "…".
@Suite("Endpoint messages: whole, bounded")
struct BoundedMessageTests {
    static let debian = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12"))

    @Test func interruptedDpkgAdviceReachesTheFailureLineWhole() throws {
        let apt = try Fixture.text("debian12/apt-get-install-dpkg-interrupted.txt")
        let audit = try Fixture.text("debian12/dpkg-audit-interrupted.txt")
        // What the deploy builds from them (installOSUpdates, then conclude).
        let install = "install exited 100: " + DeployRunner.errorLines(apt)
        guard case let .broken(detail, repair) = Self.debian.parseHealth(audit + "\(Sections.marker) audit-exit 0\n") else {
            Issue.record("dpkg --audit listed packages: broken expected"); return
        }
        #expect(repair == "dpkg --configure -a && apt-get -f install")
        // Every line dpkg printed is in the detail, in order, none cut.
        let lines = audit.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(detail == lines.joined(separator: " ") && !detail.contains("…"))
        #expect(detail.hasSuffix("openssl              Secure Sockets Layer toolkit - cryptographic utility"))

        var record = DeployHostRecord(host: Host(name: "web1", address: "10.0.0.5"), status: .failed, ring: "all", batch: 1,
                                      startedAt: Date(), finishedAt: Date())
        record.error = install + "; package manager left broken: " + detail
        let line = record.failureLine
        #expect(line.contains("E: dpkg was interrupted, you must manually run 'dpkg --configure -a' to correct the problem."))
        #expect(line.contains("They must be configured using dpkg --configure or the configure menu option in dselect for them to work:"))
        #expect(line.contains("The configuration should be retried using dpkg --configure <package> or the configure menu option in dselect:"))
        #expect(line.hasPrefix("web1 (10.0.0.5): failed: install exited 100: E: dpkg was interrupted"))
        #expect(line.hasSuffix(detail) && !line.contains("…"), "all of it fits: nothing cut")
        #expect(line.utf8.count <= "web1 (10.0.0.5): failed: ".utf8.count + BoundedMessage.failureLineBytes)
    }

    @Test func pastTheBoundTheCutEndsASentenceAndSaysSo() throws {
        // Many half-configured packages: dpkg's list runs past any bound.
        let audit = try Fixture.text("debian12/dpkg-audit-interrupted.txt")
        let many = String(repeating: audit, count: 20)
        guard case let .broken(detail, _) = Self.debian.parseHealth(many) else { Issue.record("broken expected"); return }
        #expect(detail.utf8.count <= 2000 && detail.hasSuffix(" …"))
        let kept = String(detail.dropLast(2))
        #expect([".", ":", ";", "!", "?"].contains(kept.last.map(String.init) ?? ""), "cut at a sentence or clause end: \(kept.suffix(60))")
        #expect(many.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            .joined(separator: " ").hasPrefix(kept))

        // No sentence end in reach: cut between words, never inside one; short text untouched.
        let words = String(repeating: "word ", count: 100)
        let cut = BoundedMessage.bounded(words, bytes: 64)
        #expect(cut.utf8.count <= 64 && cut.hasSuffix("word …"))
        #expect(BoundedMessage.bounded("short. text", bytes: 64) == "short. text")
        // Multi-byte text is cut on a character, never inside one.
        let accented = BoundedMessage.bounded(String(repeating: "é", count: 100), bytes: 33)
        #expect(accented.utf8.count <= 33 && accented.hasSuffix(" …") && accented.dropLast(2).allSatisfy { $0 == "é" })
    }
}
