import Foundation
import Testing

/// `--ssh-config` against the lab's real sshd: an alias that only ssh_config knows how to reach,
/// and a ProxyCommand host that must fail with the keyword and its line, never connect directly.
@Suite("patchctl --ssh-config", .serialized, .enabled(if: CLI.labEnabled))
struct SSHConfigCommandTests {
    func files(in folder: URL) throws -> (inventory: String, config: String) {
        let inventory = folder.appendingPathComponent("inventory.yml")
        try """
            all:
              hosts:
                labalias:
                proxied:
            """.write(to: inventory, atomically: true, encoding: .utf8)
        let config = folder.appendingPathComponent("ssh_config")
        try """
            Host labalias
                HostName 127.0.0.1
                Port \(try CLI.lab("LAB_PORT"))
                User root
                IdentityFile \(try CLI.lab("LAB_KEY"))
            Host proxied
                HostName 127.0.0.1
                ProxyCommand nc %h %p
            """.write(to: config, atomically: true, encoding: .utf8)
        return (inventory.path, config.path)
    }

    @Test(arguments: ["openssh", "builtin"])
    func sshConfigAloneReachesTheLabAndProxyCommandFailsClearly(reader: String) async throws {
        let folder = try CLI.temporaryDirectory()
        let (inventory, config) = try files(in: folder)
        let scan = try await CLI.runWaiting(["scan", "-i", inventory, "--ssh-config", config, "--db", folder.appendingPathComponent("h.db").path,
                                "--output", "json", "-vv", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS")],
                               environment: ["PATCHCTL_SSH_CONFIG_READER": reader])
        #expect(scan.status == 2, "\(scan.stderr)")
        let hosts = try #require(try CLI.json(scan.stdout)["hosts"] as? [[String: Any]])
        let alias = try #require(hosts.first { $0["name"] as? String == "labalias" })
        #expect(alias["status"] as? String == "ok", "\(alias)")
        #expect(alias["address"] as? String == "127.0.0.1")
        #expect(alias["port"] as? Int == Int(try CLI.lab("LAB_PORT")))
        let proxied = try #require(hosts.first { $0["name"] as? String == "proxied" })
        #expect(proxied["status"] as? String == "error")
        let error = proxied["error"] as? String ?? ""
        #expect(error.contains("\(config):8: ProxyCommand nc %h %p"), "\(error)")
        #expect(scan.stderr.contains("ssh_config applied") && scan.stderr.contains(reader), "\(scan.stderr)")
    }

    @Test func noneTurnsItOffAndAMissingFileIsAUsageError() async throws {
        let folder = try CLI.temporaryDirectory()
        let (inventory, _) = try files(in: folder)
        // Without ssh_config `labalias` is just a name nobody resolves: nothing is reached.
        let off = try await CLI.runWaiting(["scan", "-i", inventory, "--ssh-config", "none", "--limit", "labalias", "--connect-timeout", "5",
                               "--db", folder.appendingPathComponent("h.db").path, "--output", "json"])
        #expect(off.status == 2)
        let hosts = try #require(try CLI.json(off.stdout)["hosts"] as? [[String: Any]])
        #expect(hosts.first?["address"] as? String == "labalias" && hosts.first?["status"] as? String != "ok")
        let missing = try await CLI.runWaiting(["scan", "-i", inventory, "--ssh-config", folder.appendingPathComponent("nope").path])
        #expect(missing.status == 64 && missing.stderr.contains("--ssh-config"), "\(missing.stderr)")
    }

    /// HostKeyAlgorithms reaches libssh2: the lab's sshd has only an ed25519 host key, so a host
    /// limited to ECDSA cannot agree on one, while ed25519 first logs in.
    @Test func hostKeyAlgorithmsAreOffered() async throws {
        let folder = try CLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("inventory.yml")
        try "all:\n  hosts:\n    ecdsaonly:\n    edfirst:\n".write(to: inventory, atomically: true, encoding: .utf8)
        let config = folder.appendingPathComponent("ssh_config")
        try """
            Host *
                HostName 127.0.0.1
                Port \(try CLI.lab("LAB_PORT"))
                User root
                IdentityFile \(try CLI.lab("LAB_KEY"))
            Host ecdsaonly
                HostKeyAlgorithms ecdsa-sha2-nistp256
            Host edfirst
                HostKeyAlgorithms ssh-ed25519,rsa-sha2-512
            """.write(to: config, atomically: true, encoding: .utf8)
        let scan = try await CLI.runWaiting(["scan", "-i", inventory.path, "--ssh-config", config.path, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"),
                                "--db", folder.appendingPathComponent("h.db").path, "--output", "json"])
        #expect(scan.status == 2, "\(scan.stderr)")
        let hosts = try #require(try CLI.json(scan.stdout)["hosts"] as? [[String: Any]])
        let ecdsa = try #require(hosts.first { $0["name"] as? String == "ecdsaonly" })
        #expect(ecdsa["status"] as? String == "unreachable")
        #expect((ecdsa["error"] as? String ?? "").contains("handshake"), "\(ecdsa)")
        #expect(hosts.first { $0["name"] as? String == "edfirst" }?["status"] as? String == "ok")
    }
}
