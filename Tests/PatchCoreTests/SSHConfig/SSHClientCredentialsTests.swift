import Foundation
import Testing
@testable import PatchCore

/// What ssh_config's identity, agent and timing keywords become in the login that is attempted.
@Suite("ssh_config: keys, agent and timers at login")
struct SSHClientCredentialsTests {
    func resolve(_ client: SSHClientOptions, privateKey: String? = nil, connectTimeoutFromFlag: Bool = false) async throws -> Credentials.Resolved {
        var options = ConnectionOptions(knownHostsPath: "/dev/null", connectTimeout: 10, keepaliveInterval: 15,
                                        environment: ["HOME": "/nonexistent", "SSH_AUTH_SOCK": "/run/agent.sock", "OTHER_SOCK": "/run/other.sock", "USER": "me"])
        options.connectTimeoutFromFlag = connectTimeoutFromFlag
        var host = Host(name: "h", privateKeyFile: privateKey)
        host.sshClient = client
        return try await Credentials(options: options).resolve(host)
    }

    @Test func identityFilesInOrderThenTheAgent() async throws {
        var client = SSHClientOptions()
        client.identityFiles = ["/keys/a", "/keys/b"]
        #expect(try await resolve(client).config.auth.map(\.description) == ["publickey /keys/a", "publickey /keys/b", "ssh-agent /run/agent.sock"])
        // The inventory's key wins over ssh_config's.
        #expect(try await resolve(client, privateKey: "/keys/inv").config.auth.map(\.description) == ["publickey /keys/inv", "ssh-agent /run/agent.sock"])
    }

    @Test func identitiesOnlyAndIdentityAgent() async throws {
        var client = SSHClientOptions()
        client.identityFiles = ["/keys/a"]
        client.identitiesOnly = true
        #expect(try await resolve(client).config.auth.map(\.description) == ["publickey /keys/a"])
        client.identitiesOnly = false
        client.identityAgent = "none"
        #expect(try await resolve(client).config.auth.map(\.description) == ["publickey /keys/a"])
        client.identityAgent = "$OTHER_SOCK"
        #expect(try await resolve(client).config.auth.map(\.description) == ["publickey /keys/a", "ssh-agent /run/other.sock"])
        client.identityAgent = "/tmp/agent.1"
        #expect(try await resolve(client).config.auth.map(\.description) == ["publickey /keys/a", "ssh-agent /tmp/agent.1"])
    }

    @Test func timersAndHostKeyAlgorithms() async throws {
        var client = SSHClientOptions()
        client.connectTimeout = 4
        client.serverAliveInterval = 33
        client.hostKeyAlgorithms = ["rsa-sha2-512"]
        let config = try await resolve(client).config
        #expect(config.connectTimeout == 4 && config.keepaliveInterval == 33 && config.hostKeyAlgorithms == ["rsa-sha2-512"])
        // --connect-timeout on the command line beats ConnectTimeout.
        #expect(try await resolve(client, connectTimeoutFromFlag: true).config.connectTimeout == 10)
        let plain = try await resolve(SSHClientOptions()).config
        #expect(plain.connectTimeout == 10 && plain.keepaliveInterval == 15 && plain.hostKeyAlgorithms == nil)
    }
}
