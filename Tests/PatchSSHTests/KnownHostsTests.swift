import CLibSSH2
import Foundation
import LabSupport
import Testing
@testable import PatchSSH

@Suite("known_hosts matching")
struct KnownHostsTests {
    /// Raw key blob of an OpenSSH public key line (what the server presents).
    static func blob(_ publicLine: String) throws -> Data {
        let fields = publicLine.split(separator: " ")
        return try #require(Data(base64Encoded: String(fields[1])))
    }

    static let serverKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG8UGfMNHqW4Q4p5t2TB1rzvT3pBsVb"
    static let otherKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKSvHRoI3g7AnpGsTfhVHBcsSE0dHl3A1O9QIVZpBmPU"

    func file(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kh-\(UUID().uuidString)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func verdict(_ hosts: KnownHosts, _ host: String, _ port: Int, _ key: String = serverKey) throws -> KnownHosts.Verdict {
        let data = try Self.blob(key)
        return data.withUnsafeBytes { hosts.check(host: host, port: port, key: $0, keyType: LIBSSH2_HOSTKEY_TYPE_ED25519) }
    }

    @Test func portFormsFollowOpenSSH() throws {
        let hosts = try KnownHosts(path: try file("""
            # comment
            [10.0.0.5]:2222 \(Self.serverKey)
            10.0.0.6 \(Self.serverKey)
            web.example.com,10.0.0.7 \(Self.serverKey) ops@example

            """))
        #expect(try verdict(hosts, "10.0.0.5", 2222) == .match)
        #expect(try verdict(hosts, "10.0.0.5", 22) == .notFound)
        #expect(try verdict(hosts, "10.0.0.6", 22) == .match)
        // A port-less entry speaks for port 22 only.
        #expect(try verdict(hosts, "10.0.0.6", 2200) == .notFound)
        #expect(try verdict(hosts, "web.example.com", 22) == .match)
        #expect(try verdict(hosts, "10.0.0.7", 22) == .match)
        #expect(try verdict(hosts, "10.0.0.5", 2222, Self.otherKey) == .mismatch)
    }

    @Test func hashedEntriesMatch() throws {
        // Made with `ssh-keygen -H` from "[127.0.0.4]:2222 <serverKey>".
        let hashed = try hashedLine(host: "[127.0.0.4]:2222")
        let hosts = try KnownHosts(path: try file(hashed + "\n"))
        #expect(try verdict(hosts, "127.0.0.4", 2222) == .match)
        #expect(try verdict(hosts, "127.0.0.4", 2222, Self.otherKey) == .mismatch)
        #expect(try verdict(hosts, "127.0.0.5", 2222) == .notFound)
    }

    @Test func unparsableLinesAreSkippedNotFatal() throws {
        let hosts = try KnownHosts(path: try file("""
            @cert-authority *.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG8UGfMNHqW4Q4p5t2TB1rzvT3pBsVb
            garbage
            [10.0.0.5]:2222 \(Self.serverKey)
            """))
        #expect(try verdict(hosts, "10.0.0.5", 2222) == .match)
        #expect(hosts.skippedLines == [1, 2])
        #expect(hosts.skipped[0].reason.contains("@cert-authority"))
    }

    /// Windows line endings: OpenSSH accepts the file, so must we (the CR made libssh2 read a
    /// different key, and the host looked like a man-in-the-middle).
    @Test func crlfFilesMatchLikeOpenSSH() throws {
        let hashed = try hashedLine(host: "[127.0.0.4]:2222")
        let hosts = try KnownHosts(path: try file("# written on Windows\r\n[10.0.0.5]:2222 \(Self.serverKey)\r\n\(hashed)\r\n10.0.0.6 \(Self.serverKey) ops@example\r\n"))
        #expect(try verdict(hosts, "10.0.0.5", 2222) == .match)
        #expect(try verdict(hosts, "127.0.0.4", 2222) == .match)
        #expect(try verdict(hosts, "10.0.0.6", 22) == .match)
        #expect(try verdict(hosts, "10.0.0.5", 2222, Self.otherKey) == .mismatch)
        #expect(hosts.skipped.isEmpty)
    }

    /// `@revoked` wins over any line that accepts the key, for the hosts its patterns match
    /// (plain, wildcard, negated, hashed), as OpenSSH's "REVOKED HOST KEY DETECTED".
    @Test func revokedKeysAreRefused() throws {
        let hashedRevocation = try hashedLine(host: "[127.0.0.4]:2222")
        let hosts = try KnownHosts(path: try file("""
            [10.0.0.5]:2222 \(Self.serverKey)
            10.0.0.6 \(Self.serverKey)
            10.1.0.7 \(Self.serverKey)
            10.1.0.8 \(Self.serverKey)
            [127.0.0.4]:2222 \(Self.serverKey)
            @revoked [10.0.0.5]:2222 \(Self.serverKey)
            @revoked 10.1.*,!10.1.0.8 \(Self.serverKey) compromised
            @revoked 10.0.0.6 \(Self.otherKey)
            @revoked \(hashedRevocation)

            """))
        #expect(try verdict(hosts, "10.0.0.5", 2222) == .revoked)
        #expect(try verdict(hosts, "10.1.0.7", 22) == .revoked)
        #expect(try verdict(hosts, "10.1.0.8", 22) == .match)        // negated in the pattern list
        #expect(try verdict(hosts, "10.0.0.6", 22) == .match)        // another key is revoked there
        #expect(try verdict(hosts, "10.0.0.6", 22, Self.otherKey) == .revoked)
        #expect(try verdict(hosts, "127.0.0.4", 2222) == .revoked)   // hashed @revoked line
        #expect(hosts.skipped.isEmpty)
    }

    @Test func wildcardAndNegatedLinesAreReportedNotSilentlyIgnored() throws {
        let hosts = try KnownHosts(path: try file("""
            *.example.com \(Self.serverKey)
            web?,!db1 \(Self.serverKey)
            10.0.0.6 \(Self.serverKey)
            @bogus 10.0.0.7 \(Self.serverKey)
            """))
        #expect(hosts.skipped.map(\.line) == [1, 2, 4])
        #expect(hosts.skipped[0].reason.contains("wildcard"))
        #expect(hosts.skipped[2].reason.contains("marker"))
        #expect(try verdict(hosts, "10.0.0.6", 22) == .match)
    }

    @Test func hostPatternGlobbing() {
        #expect(KnownHosts.matches(["*.example.com"], name: "web.example.com"))
        #expect(!KnownHosts.matches(["*.example.com"], name: "example.com"))
        #expect(KnownHosts.matches(["web?", "db*"], name: "db12"))
        #expect(!KnownHosts.matches(["*", "!db*"], name: "db12"))
        #expect(KnownHosts.matches(["[10.0.0.*]:2222"], name: "[10.0.0.9]:2222"))
        #expect(!KnownHosts.matches(["!web"], name: "web2"))  // only negations: nothing positive matched
        #expect(KnownHosts.glob(Array("a*b*c".utf8), Array("aXXbYYc".utf8)))
        #expect(!KnownHosts.glob(Array("a*b*c".utf8), Array("aXXbYY".utf8)))
    }

    @Test func missingFileKnowsNothingAndAddCreatesIt() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kh-\(UUID().uuidString)/sub/known_hosts").path
        let hosts = try KnownHosts(path: path)
        #expect(try verdict(hosts, "10.0.0.5", 2222) == .notFound)
        let data = try Self.blob(Self.serverKey)
        try data.withUnsafeBytes { try hosts.add(host: "10.0.0.5", port: 2222, key: $0, keyType: LIBSSH2_HOSTKEY_TYPE_ED25519) }
        #expect(try verdict(hosts, "10.0.0.5", 2222) == .match)
        let written = try String(contentsOfFile: path, encoding: .utf8)
        #expect(written == "[10.0.0.5]:2222 \(Self.serverKey)\n")
        #expect(try verdict(try KnownHosts(path: path), "10.0.0.5", 2222) == .match)
    }

    @Test func appendKeepsExistingLinesIntact() throws {
        let path = try file("10.0.0.6 \(Self.serverKey)")  // no trailing newline
        let hosts = try KnownHosts(path: path)
        let data = try Self.blob(Self.otherKey)
        try data.withUnsafeBytes { try hosts.add(host: "10.0.0.8", port: 22, key: $0, keyType: LIBSSH2_HOSTKEY_TYPE_ED25519) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "10.0.0.6 \(Self.serverKey)\n10.0.0.8 \(Self.otherKey)\n")
    }

    /// Hashes like OpenSSH does, with ssh-keygen itself, so the test does not trust our own code.
    func hashedLine(host: String) throws -> String {
        let path = try file("\(host) \(Self.serverKey)\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-q", "-H", "-f", path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitForExit()
        let line = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(line.hasPrefix("|1|"))
        return line
    }
}

@Suite("Reactor")
struct ReactorTests {
    // The time limit catches a deadline that never fires (the wait would hang); how soon after the
    // deadline the test resumes is not asserted: that waits for a free thread of the shared pool.
    @Test(.timeLimit(.minutes(5))) func readinessAndDeadlines() async throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let started = Deadline.now
        let ready = try await Reactor.shared.wait(fd: fds[0], readable: true, writable: false, deadline: .after(seconds: 0.2))
        let waited = Double(Deadline.now.nanoseconds - started.nanoseconds) / 1e9
        #expect(!ready)
        #expect(waited >= 0.19)
        #expect(try await Reactor.shared.wait(fd: fds[0], readable: false, writable: true, deadline: .after(seconds: 600)))
        _ = write(fds[1], "x", 1)
        #expect(try await Reactor.shared.wait(fd: fds[0], readable: true, writable: false, deadline: .after(seconds: 600)))
        Reactor.shared.forget(fd: fds[0])
    }

    @Test(.timeLimit(.minutes(5))) func manyConcurrentWaitersAllWake() async throws {
        var pairs: [[Int32]] = []
        for _ in 0..<200 {
            var fds: [Int32] = [0, 0]
            try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            pairs.append(fds)
        }
        defer { for pair in pairs { Reactor.shared.forget(fd: pair[0]); close(pair[0]); close(pair[1]) } }
        let woken = await withTaskGroup(of: Bool.self) { group in
            for pair in pairs {
                let fd = pair[0]
                group.addTask { (try? await Reactor.shared.wait(fd: fd, readable: true, writable: false, deadline: .after(seconds: 600))) ?? false }
            }
            // Every task suspended on its socket, so each is woken by the write, not found ready.
            while !pairs.allSatisfy({ Reactor.shared.hasWaiter(fd: $0[0]) }) { await Task.yield() }
            for pair in pairs { _ = write(pair[1], "x", 1) }
            var count = 0
            for await ready in group where ready { count += 1 }
            return count
        }
        #expect(woken == 200)
    }

    @Test(.timeLimit(.minutes(5))) func aSecondWaiterOnOneDescriptorIsRefusedAndTheFirstStillWakes() async throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { Reactor.shared.forget(fd: fds[0]); close(fds[0]); close(fds[1]) }
        let fd = fds[0]
        let first = Task { try await Reactor.shared.wait(fd: fd, readable: true, writable: false, deadline: .after(seconds: 600)) }
        while !Reactor.shared.hasWaiter(fd: fd) { await Task.yield() }
        // What a release build does; a debug build stops at an assertion first (the public `wait`).
        await #expect(throws: Reactor.WaiterConflict(fd: fd)) {
            try await Reactor.shared.wait(fd: fd, readable: true, writable: false, deadline: .after(seconds: 600), onConflict: { _ in })
        }
        // Replacing the first waiter would leave it suspended for good (the time limit would catch it).
        _ = write(fds[1], "x", 1)
        #expect(try await first.value)
    }

    @Test func promptCounting() {
        var counter = MarkerCounter("[p]")
        #expect(counter.feed(Array("x[p]y[p]".utf8)) == 2)
        #expect(counter.firstOffset == 1)
        var partial = MarkerCounter("[p]")
        #expect(partial.feed(Array("ab[p".utf8)) == 0)
        // A marker split across two reads is found once the rest arrives, and never counted twice.
        #expect(partial.feed(Array("]".utf8)) == 1)
        #expect(partial.firstOffset == 2)
        #expect(partial.feed(Array("[p][".utf8)) == 2)
        #expect(partial.feed(Array("p]".utf8)) == 3)
    }

    /// Each read is looked at once: a flooding stderr costs linear time, not quadratic (the old
    /// rescan of everything after each 32 KiB read took 22 s for 32 MB).
    @Test func promptCountingLooksOnlyAtNewBytes() {
        var counter = MarkerCounter("[patchctl-sudo-1234]")
        let chunk = [UInt8](repeating: UInt8(ascii: "["), count: 32_768)
        for _ in 0..<1024 { counter.feed(chunk) }  // 32 MiB in 32 KiB reads
        #expect(counter.count == 0)
        #expect(counter.scannedBytes == 32 << 20)
    }

    @Test func outputArrivesInSegmentsAndJoinsWithoutTheMarker() {
        var output = OutputBuffer()
        let text = Array(repeating: Array("0123456789".utf8), count: 300_000).flatMap { $0 }  // 3 MB
        text.withUnsafeBufferPointer { output.append($0) }
        #expect(output.count == text.count)
        #expect(output.segments.count == 3 && output.segments.allSatisfy { $0.count <= OutputBuffer.segmentSize })
        #expect(output.joined() == text)
        #expect(output.joined(removing: 2..<5) == Array(text[..<2] + text[5...]))
    }

    @Test func nulBytesFromEndpointsBecomeReplacementCharacters() {
        #expect(EndpointText.decode(Array("nul\u{0}byte".utf8)) == "nul\u{FFFD}byte")
        #expect(EndpointText.decode(Array("plain é".utf8)) == "plain é")
        #expect(EndpointText.decode([0x61, 0xFF, 0x00]) == "a\u{FFFD}\u{FFFD}")
    }
}
