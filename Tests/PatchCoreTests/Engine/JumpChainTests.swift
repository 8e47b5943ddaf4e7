import Foundation
import Testing
@testable import PatchCore
import PatchSSH

/// How a host's jump chain becomes logins, without any network.
@Suite("Jump chains: hop logins and refusals")
struct JumpChainTests {
    static func options() -> ConnectionOptions {
        ConnectionOptions(knownHostsPath: "/nonexistent/known_hosts", defaultUser: "ops", defaultPrivateKey: "/nonexistent/ops_key",
                          connectTimeout: 7, environment: ["HOME": "/nonexistent", "USER": "invoker"])
    }

    @Test func hopsLogInWithTheRunsDefaultsNeverTheTargets() async throws {
        var target = Host(name: "web1", address: "10.1.0.5", port: 2222, user: "app", privateKeyFile: "/nonexistent/app_key",
                          passwordEnv: "APP_PASSWORD")
        target.proxyJump = try JumpHop.parseList("bastion.example.com,jump@[2001:db8::1]:2200")
        var options = Self.options()
        options.environment["APP_PASSWORD"] = "secret"
        let chain = try await HostFanOut.jumpChain(target, Credentials(options: options))
        #expect(chain.map(\.user) == ["ops", "jump"])
        #expect(chain.map(\.address) == ["bastion.example.com", "2001:db8::1"])
        #expect(chain.map(\.port) == [22, 2200])
        #expect(chain.map(\.connectTimeout) == [7, 7])
        for hop in chain {
            // The run's key only: not the target's key, and no password (the target's or any).
            #expect(hop.auth.map(\.description) == ["publickey /nonexistent/ops_key"])
        }
        #expect(chain.map(BastionPool.describe) == ["ops@bastion.example.com:22", "jump@[2001:db8::1]:2200"])
    }

    @Test func withoutADefaultUserTheInvokingUserLogsIn() async throws {
        var options = Self.options()
        options.defaultUser = nil
        var target = Host(name: "web1", user: "app")
        target.proxyJump = [JumpHop(address: "bastion")]
        #expect(try await HostFanOut.jumpChain(target, Credentials(options: options)).map(\.user) == ["invoker"])
    }

    @Test func aDirectHostHasNoChain() async throws {
        #expect(try await HostFanOut.jumpChain(Host(name: "web1"), Credentials(options: Self.options())).isEmpty)
    }

    /// WinRM cannot go through a bastion: the host fails before anything is contacted, instead
    /// of being reached directly.
    @Test func winRMBehindABastionIsRefusedNotTriedDirectly() async throws {
        var host = Host(name: "win1", address: "127.0.0.1", port: 1, connection: .winrm, shellType: .powershell)
        host.proxyJump = [JumpHop(address: "bastion")]
        let results: [String] = await HostFanOut(options: Self.options()).run(
            hosts: [host], forks: 1, work: { _ in "contacted" },
            failed: { _, failure, _ in "\(failure.status.rawValue): \(failure.message)" }, onFinished: { _ in })
        #expect(results == ["error: win1: jump hosts (proxy_jump) work over SSH only, not winrm"])
    }
}
