import Foundation
import LabSupport
import Testing
@testable import PatchSSH

/// Keys, host keys and login methods against the machine's real OpenSSH 9.2 sshd with its
/// default algorithms (which refuse SHA-1 `ssh-rsa` signatures), each test with a daemon of its own.
@Suite("Authentication against a real sshd", .serialized, .enabled(if: HostileEndpoint.canRun))
struct AuthenticationTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-auth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func connect(_ server: TestSSHServer, user: String = "root", auth: [SSHConfig.Auth], knownHosts: String? = nil) async throws -> SSHSession {
        let config = SSHConfig(label: "auth-test", address: "127.0.0.1", port: server.port, user: user, auth: auth, connectTimeout: 30)
        return try await SSHSession.connect(config, knownHosts: try KnownHosts(path: try knownHosts ?? server.knownHosts()))
    }

    func whoami(_ session: SSHSession) async throws -> String {
        let result = try await session.run("id -u", timeout: 30)
        await session.close()
        return result.stdout
    }

    @Test func libssh2SignsRSAWithSHA2() {
        // rsa-sha2-256/512 arrived in 1.11; `make` builds Debian trixie's 1.11 where the system has 1.10.
        let parts = LibSSH2.version.split(separator: ".").compactMap { Int($0) }
        #expect(parts.count >= 2 && (parts[0], parts[1]) >= (1, 11), "linked libssh2 \(LibSSH2.version): build with make (scripts/libssh2.sh)")
    }

    @Test func rsaUserKeyFile() async throws {
        let key = try await offPool { [folder] in try TestSSHServer.clientKey(type: "rsa", in: folder) }
        let server = try await TestSSHServer.start(authorizedKeys: [key.publicKey])
        let session = try await connect(server, auth: [.keyFile(path: key.path, passphrase: nil)])
        #expect(try await whoami(session) == "0\n")
        // sshd logs the signature algorithm it accepted: SHA-2, never SHA-1 `ssh-rsa`.
        #expect(server.log.contains("Accepted publickey for root"), "\(server.log)")
        #expect(server.log.contains("RSA SHA256:"))
    }

    @Test func rsaUserKeyFromAgent() async throws {
        let key = try await offPool { [folder] in try TestSSHServer.clientKey(type: "rsa", in: folder) }
        let server = try await TestSSHServer.start(authorizedKeys: [key.publicKey])
        let agent = try await offPool { [folder] in try SSHAgent(in: folder) }
        defer { agent.stop() }
        try await offPool { try agent.add(key.path) }
        let session = try await connect(server, auth: [.agent(socket: agent.socket)])
        #expect(try await whoami(session) == "0\n")
    }

    @Test func rsaOnlyHostKeyIsVerified() async throws {
        let key = try await offPool { [folder] in try TestSSHServer.clientKey(type: "ed25519", in: folder) }
        let server = try await TestSSHServer.start(hostKeyTypes: ["rsa"], authorizedKeys: [key.publicKey])
        let session = try await connect(server, auth: [.keyFile(path: key.path, passphrase: nil)])
        #expect(session.hostKeyFingerprint == (try server.fingerprint("rsa")))
        #expect(session.hostKeyEntry.hasPrefix("ssh-rsa "))
        #expect(try await whoami(session) == "0\n")
    }

    @Test func passwordLogin() async throws {
        let (user, password) = try await offPool { try Self.passwordAccount() }
        let server = try await TestSSHServer.start(config: ["PasswordAuthentication yes", "KbdInteractiveAuthentication no", "UsePAM no"])
        let session = try await connect(server, user: user, auth: [.password(password)])
        #expect(try await whoami(session) != "0\n")
        #expect(server.log.contains("Accepted password for \(user)"), "\(server.log)")
        await #expect(throws: SSHError.self) { _ = try await connect(server, user: user, auth: [.password("wrong")]) }
    }

    @Test func keyboardInteractiveLogin() async throws {
        let (user, password) = try await offPool { try Self.passwordAccount() }
        // PAM asks for the password through keyboard-interactive; plain `password` is not offered.
        let server = try await TestSSHServer.start(config: ["PasswordAuthentication no", "KbdInteractiveAuthentication yes", "UsePAM yes"])
        let session = try await connect(server, user: user, auth: [.password(password)])
        #expect(try await whoami(session) != "0\n")
        #expect(server.log.contains("Accepted keyboard-interactive/pam for \(user)"), "\(server.log)")
        do {
            _ = try await connect(server, user: user, auth: [.password("wrong")])
            Issue.record("a wrong password logged in")
        } catch let SSHError.authentication(_, _, tried, _) {
            #expect(tried == ["keyboard-interactive"])
        }
    }

    @Test func hostKeyTypeOnRecordIsTheOneAskedFor() async throws {
        // The server offers ed25519 and RSA; known_hosts holds only its RSA key (with an unrelated
        // ed25519 line, so the file has both types). OpenSSH asks for the recorded type first.
        let key = try await offPool { [folder] in try TestSSHServer.clientKey(type: "ed25519", in: folder) }
        let server = try await TestSSHServer.start(hostKeyTypes: ["ed25519", "rsa"], authorizedKeys: [key.publicKey])
        let knownHosts = try server.knownHosts(types: ["rsa"])
        let other = "other.example ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG8UGfMNHqW4Q4p5t2TB1rzvT3pBsVb\n"
        let handle = try #require(FileHandle(forWritingAtPath: knownHosts))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(other.utf8))
        try handle.close()
        let session = try await connect(server, auth: [.keyFile(path: key.path, passphrase: nil)], knownHosts: knownHosts)
        #expect(session.hostKeyFingerprint == (try server.fingerprint("rsa")))
        await session.close()
        // With the ed25519 key on record (hashed, as HashKnownHosts writes it), ed25519 is asked for.
        let hashed = try server.knownHosts(types: ["ed25519", "rsa"])
        #expect(try await offPool { try TestSSHServer.run("/usr/bin/ssh-keygen", ["-H", "-f", hashed]).status } == 0)
        let again = try await connect(server, auth: [.keyFile(path: key.path, passphrase: nil)], knownHosts: hashed)
        #expect(again.hostKeyFingerprint == (try server.fingerprint("ed25519")))
        await again.close()
    }

    @Test func hostOnlyVouchedForByACertificateAuthorityIsRefusedClearly() async throws {
        let key = try await offPool { [folder] in try TestSSHServer.clientKey(type: "ed25519", in: folder) }
        let server = try await TestSSHServer.start(authorizedKeys: [key.publicKey])
        let path = folder.appendingPathComponent("known_hosts_ca").path
        try "@cert-authority *.example,[127.0.0.1]:* ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG8UGfMNHqW4Q4p5t2TB1rzvT3pBsVb\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let config = SSHConfig(label: "ca-host", address: "127.0.0.1", port: server.port, user: "root",
                               auth: [.keyFile(path: key.path, passphrase: nil)], connectTimeout: 30)
        do {
            _ = try await SSHSession.connect(config, knownHosts: try KnownHosts(path: path), policy: .acceptNew)
            Issue.record("connected to a host only a certificate authority vouches for")
        } catch let error as SSHError {
            guard case let .hostKeyCertificateOnly(_, _, _, _, line) = error else { Issue.record("\(error)"); return }
            #expect(line == 1)
            #expect(error.description.contains("does not support host certificates"))
        }
        // Not silently added beside the CA line either.
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 1)
    }

    /// The lab's password account (lab/password-user.sh makes it; it touches no other account).
    static func passwordAccount() throws -> (String, String) {
        let script = HostileEndpoint.repository.appendingPathComponent("lab/password-user.sh").path
        let result = try TestSSHServer.run("/bin/bash", [script])
        let fields = result.output.split(separator: "\n").last?.split(separator: " ").map(String.init) ?? []
        guard result.status == 0, fields.count == 2 else { throw HostileEndpoint.Failure("password-user.sh: \(result.output)") }
        return (fields[0], fields[1])
    }
}

/// A real ssh-agent on a socket of the test's own.
final class SSHAgent: @unchecked Sendable {
    let socket: String
    private let process: Process

    init(in folder: URL) throws {
        socket = folder.appendingPathComponent("agent.sock").path
        process = Process()
        // Under a shell, like TestSSHServer's sshd (Foundation missed the exit of a daemon it started).
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "exec /usr/bin/ssh-agent -D -a \"$1\"", "sh", socket]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready once `ssh-add -l` reaches it (exit 1 = no identities yet, 2 = not reachable).
        for _ in 0..<500 {
            if try TestSSHServer.run("/usr/bin/ssh-add", ["-l"], environment: ["SSH_AUTH_SOCK": socket]).status != 2 { return }
            usleep(10_000)
        }
        throw HostileEndpoint.Failure("ssh-agent did not start")
    }

    func add(_ key: String) throws {
        let result = try TestSSHServer.run("/usr/bin/ssh-add", [key], environment: ["SSH_AUTH_SOCK": socket])
        guard result.status == 0 else { throw HostileEndpoint.Failure("ssh-add: \(result.output)") }
    }

    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitForExit()
    }
}
