import Foundation
import LabSupport
import PatchSSH
import Testing
@testable import PatchCore

/// `connection: openssh`: hosts run through the machine's own OpenSSH client (one ControlMaster
/// per host), against the lab's real sshd and a test's own daemon whose log counts the logins.
@Suite("OpenSSH client transport")
struct OpenSSHTransportTests {
    static func openssh(_ host: Host) -> Host {
        var host = host
        host.connection = .openssh
        return host
    }

    @Test func scanEqualsTheLibssh2Scan() async throws {
        let native = try Lab.host("native")
        let viaClient = Self.openssh(try Lab.host("client"))
        let results = await Lab.scan([native, viaClient], try Lab.options())
        #expect(results.map(\.status) == [.ok, .ok], "\(results.map { $0.error ?? "" })")
        #expect(results[1].updates.map(\.name) == results[0].updates.map(\.name))
        #expect(!results[1].updates.isEmpty)
    }

    @Test func everyCommandOfAHostSharesOneLogin() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-openssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = try await offPool { [folder] in try TestSSHServer.clientKey(type: "ed25519", in: folder) }
        let server = try await TestSSHServer.start(authorizedKeys: [key.publicKey])
        let host = Self.openssh(Host(name: "client", address: "127.0.0.1", port: server.port, user: "root", privateKeyFile: key.path))
        let runs = try #require(await Lab.run(["echo one", "echo two >&2; exit 3", "id -u"], on: [host],
                                              try Lab.options(knownHosts: try server.knownHosts())).first)
        #expect(runs.map { $0.result?.stdout } == ["one\n", "", "0\n"], "\(runs.map(\.message))")
        #expect(runs[1].result?.exitStatus == 3 && runs[1].result?.stderr == "two\n")
        // Four commands (the login check and three) over one ControlMaster: one authentication.
        #expect(server.log.components(separatedBy: "Accepted publickey for root").count - 1 == 1, "\(server.log)")
        // `-O exit` at the end of the host ended the master: its session is closed in the daemon's log.
        #expect(server.log.contains("Disconnected from user root") || server.log.contains("Close session: user root"), "\(server.log)")
    }

    @Test func unknownHostKeyIsRefusedBySSHItself() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("kh-empty-\(UUID().uuidString)").path
        let ran = try await Lab.run("true", on: Self.openssh(try Lab.host()), try Lab.options(knownHosts: empty))
        #expect(ran.status == .hostKeyUnknown, "\(ran)")
        #expect(ran.message.contains("ssh-keyscan") && ran.message.contains(">> \(empty)"), "\(ran.message)")
        #expect(ran.message.contains("Host key verification failed"), "\(ran.message)")
    }

    @Test func wrongKeyIsAuthFailed() async throws {
        var host = Self.openssh(try Lab.host())
        host.user = "nobody-here"
        let ran = try await Lab.run("true", on: host, try Lab.options())
        #expect(ran.status == .authFailed, "\(ran)")
    }

    @Test func becomeWithPasswordThroughSudoS() async throws {
        let variable = "PATCHCTL_TEST_OPENSSH_BECOME"
        let host = Self.openssh(try Lab.becomeHost(passwordEnv: variable))
        let ran = try await Lab.run("id -u", on: host, try Lab.options(environment: [variable: try Lab.value("LAB_SUDO_PASSWORD")]))
        #expect(ran.result?.stdout == "0\n", "\(ran)")
        #expect(ran.result?.stderr.isEmpty == true, "the sudo prompt marker is not shown: \(ran.result?.stderr ?? "")")
    }

    @Test func uploadStreamsTheFileWithoutSFTP() async throws {
        let local = FileManager.default.temporaryDirectory.appendingPathComponent("upload-\(UUID().uuidString)")
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: local)
        let host = Self.openssh(try Lab.host("rw", portKey: "LAB_RW_PORT"))
        let remote = "/tmp/patchctl-openssh-upload-\(UUID().uuidString)"
        let outcome = await HostFanOut(options: try Lab.options()).run(
            hosts: [host], forks: 1,
            work: { connection -> String in
                _ = try await connection.upload(local.path, to: remote)
                return try await connection.run("sha256sum \(remote) && stat -c %a \(remote) && rm \(remote)").stdout
            },
            failed: { _, failure, _ in "failed: \(failure.message)" }, onFinished: { _ in })
        let expected = try TestSSHServer.run("/usr/bin/sha256sum", [local.path]).output.split(separator: " ").first.map(String.init) ?? "?"
        #expect(outcome.first?.hasPrefix(expected) == true, "\(outcome)")
        #expect(outcome.first?.hasSuffix("600\n") == true, "\(outcome)")
    }
}
