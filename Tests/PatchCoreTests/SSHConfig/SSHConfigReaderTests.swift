import Foundation
import Testing
@testable import PatchCore

/// The built-in ssh_config reader (OpenSSH's readconf.c rules) and how its answer is applied to a
/// host: precedence, refusals, jump chains, host key settings.
@Suite("ssh_config: built-in reader and applying it")
final class SSHConfigReaderTests {
    let folder: URL
    let home: URL

    init() throws {
        folder = try SSHConfigCorpus.copy()
        home = folder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".ssh"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    var local: SSHConfigReader.Local {
        SSHConfigReader.Local(home: home.path, user: "me", uid: getuid(), hostName: "controller.example", shell: "/bin/sh", execTimeout: 5)
    }

    func config(_ name: String) -> SSHClientConfig {
        SSHClientConfig(path: folder.appendingPathComponent(name).path, environment: [:], reader: .builtin, local: local)
    }

    func write(_ text: String, _ name: String = "config") throws -> String {
        let url = home.appendingPathComponent(".ssh/\(name)")
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: url.path)
        return url.path
    }

    func settings(_ name: String, _ host: String, user: String? = nil) throws -> SSHConfigSettings {
        try config(name).settings(for: SSHConfigQuery(host: host, user: user))
    }

    @Test func lineSyntaxIsOpenSSHs() throws {
        let origin = SSHConfigOrigin(file: "f", line: 1)
        #expect(try SSHConfigFile.parseLine("Port=2201", origin: origin)?.arguments == ["2201"])
        #expect(try SSHConfigFile.parseLine("  \"HostName\" \"x y\"", origin: origin)?.keyword == "hostname")
        #expect(try SSHConfigFile.parseLine("  \"HostName\" \"x y\"", origin: origin)?.arguments == ["x y"])
        #expect(try SSHConfigFile.parseLine("User a # comment", origin: origin)?.arguments == ["a"])
        #expect(try SSHConfigFile.parseLine("IdentityFile a\\ b 'c d'", origin: origin)?.arguments == ["a b", "c d"])
        #expect(try SSHConfigFile.parseLine("   # only a comment", origin: origin) == nil)
        #expect(throws: SSHConfigError.self) { try SSHConfigFile.parseLine("User \"open", origin: origin) }
        #expect(throws: SSHConfigError.self) { try SSHConfigFile.parseLine("User", origin: origin) }
    }

    @Test func hostPatternsNegationAndFirstValueWins() throws {
        let web1 = try settings("basic.conf", "web1")
        #expect(web1.hostName == "10.0.1.web1" && web1.user == "ops" && web1.port == 2201)
        #expect(web1.identityFiles == ["~/.ssh/ops_ed25519", "%d/.ssh/keys/%r@%h"])
        #expect(web1.identitiesOnly == true && web1.connectTimeout == 7)
        #expect(web1.serverAliveInterval == 20 && web1.serverAliveCountMax == 5)
        #expect(web1.origins["port"]?.description.hasSuffix("basic.conf:8") == true)
        let web9 = try settings("basic.conf", "web9")  // `!web9` vetoes the whole `Host web* !web9` line
        #expect(web9.user == "fallback" && web9.port == nil && web9.serverAliveInterval == 60)
        #expect(try settings("basic.conf", "web2", user: "root").user == nil)  // -l beats User
        let db = try settings("basic.conf", "db")
        #expect(db.hostName == "db.internal.example" && db.strictHostKeyChecking == .acceptNew)
        #expect(db.userKnownHostsFiles == ["\(home.path)/.ssh/known_hosts.d/db.internal.example", "\(home.path)/unused_known_hosts"])
        #expect(db.identityAgent == "\(home.path)/.ssh/agent.sock")
        #expect(try settings("basic.conf", "ask").strictHostKeyChecking == nil)
        #expect(try settings("basic.conf", "lax").strictHostKeyChecking == .no)
    }

    @Test func matchFinalReadsTheFileAgainWithTheFinalHostName() throws {
        let alias = try settings("final.conf", "alias")
        #expect(alias.hostName == "10.1.2.3" && alias.user == "finaluser" && alias.port == 2222)
        #expect(alias.serverAliveInterval == 30 && alias.connectTimeout == 12)
        let unrelated = try settings("final.conf", "unrelated")
        #expect(unrelated.user == nil && unrelated.connectTimeout == 12)
    }

    @Test func matchCriteria() throws {
        let short = try settings("match.conf", "shortname")
        #expect(short.port == 2300 && short.user == "viaoriginal")  // host sees HostName, originalhost the name typed
        // `host !*.example.org` alone never matches: a list of only negations matches nothing (match.c).
        #expect(try settings("match.conf", "plain", user: "deploy").port == nil)
        #expect(try settings("match.conf", "plain", user: "admin").serverAliveCountMax == 7)
        #expect(try settings("match.conf", "execme").serverAliveInterval == 9)  // Match exec ran `test execme = execme`
        #expect(try settings("match.conf", "plain").serverAliveInterval == nil)
        #expect(try settings("match.conf", "plain").user == "everyone")
    }

    @Test func includeInsideAHostBlock() throws {
        #expect(try settings("include-in-host.conf", "web1").user == "incuser")
        #expect(try settings("include-in-host.conf", "web2").serverAliveInterval == 42)
        // The included `Host otherhost` never matches: its including block was not active.
        #expect(try settings("include-in-host.conf", "otherhost").port == 2500)
        #expect(try settings("include-in-host.conf", "db").user == nil)
    }

    @Test func relativeIncludesAreUnderDotSSHAndLoopsStop() throws {
        _ = try write("Host *\n    User fromconfd\n", "conf.d/10.conf")
        let path = try write("Include conf.d/*.conf\n")
        let reader = SSHClientConfig(path: path, environment: [:], reader: .builtin, local: local)
        #expect(try reader.settings(for: SSHConfigQuery(host: "any")).user == "fromconfd")

        let loop = try write("Include \(home.path)/.ssh/loop\n", "loop")
        let looping = SSHClientConfig(path: loop, environment: [:], reader: .builtin, local: local)
        #expect { try looping.settings(for: SSHConfigQuery(host: "any")) } throws: { error in
            "\(error)".contains("too many nested Includes") && "\(error)".contains("loop:1")
        }
    }

    @Test func unknownKeywordsAreErrorsUnlessIgnored() throws {
        let bad = try write("Host *\n    Port 22\n    NoSuchOption yes\n", "bad")
        #expect { try SSHClientConfig(path: bad, environment: [:], reader: .builtin, local: local).settings(for: SSHConfigQuery(host: "x")) } throws: { error in
            "\(error)" == "ssh_config \(bad):3: Bad configuration option: nosuchoption"
        }
        let ignoring = try write("IgnoreUnknown NoSuch*\nNoSuchOption yes\nUser ok\n", "ignoring")
        #expect(try SSHClientConfig(path: ignoring, environment: [:], reader: .builtin, local: local).settings(for: SSHConfigQuery(host: "x")).user == "ok")
    }

    @Test func matchExecIsBoundedInTime() throws {
        let path = try write("Match exec \"sleep 30\"\n    User never\n", "slow")
        var quick = local
        quick.execTimeout = 0.5
        let reader = SSHClientConfig(path: path, environment: [:], reader: .builtin, local: quick)
        let started = Date()
        #expect { try reader.settings(for: SSHConfigQuery(host: "x")) } throws: { error in
            "\(error)".contains("Match exec 'sleep 30': did not finish") && "\(error)".contains("slow:1")
        }
        #expect(Date().timeIntervalSince(started) < 20)
    }

    // MARK: Applying

    @Test func precedenceFlagInventorySSHConfigDefault() throws {
        let basic = config("basic.conf")
        // Nothing in the inventory: ssh_config fills address, port, user, keys (expanded).
        let plain = try basic.apply(to: Host(name: "web1"), flagUser: nil, flagPrivateKey: nil)
        #expect(plain.address == "10.0.1.web1" && plain.port == 2201 && plain.user == "ops")
        #expect(plain.sshClient.identityFiles == ["\(home.path)/.ssh/ops_ed25519", "\(home.path)/.ssh/keys/ops@10.0.1.web1"])
        #expect(plain.sshClient.connectTimeout == 7 && plain.sshClient.serverAliveInterval == 20 && plain.sshClient.identitiesOnly)
        // The inventory's port, user and key win; ssh_config fills only the rest.
        var inventory = Host(name: "web1", port: 2022, user: "inv", privateKeyFile: "/keys/inv")
        inventory.fromInventory = ["port", "user", "private_key_file"]
        let mixed = try basic.apply(to: inventory, flagUser: nil, flagPrivateKey: nil)
        #expect(mixed.address == "10.0.1.web1" && mixed.port == 2022 && mixed.user == "inv")
        #expect(mixed.privateKeyFile == "/keys/inv" && mixed.sshClient.identityFiles.isEmpty)
        // --user and --private-key beat ssh_config (and `%r` in IdentityFile sees the user OpenSSH would).
        let flagged = try basic.apply(to: Host(name: "web1"), flagUser: "flag", flagPrivateKey: "/keys/flag")
        #expect(flagged.user == nil && flagged.sshClient.identityFiles.isEmpty)
        // An inventory address is HostName: ssh_config's is not used.
        let addressed = try basic.apply(to: Host(name: "web1", address: "192.0.2.9"), flagUser: nil, flagPrivateKey: nil)
        #expect(addressed.address == "192.0.2.9" && addressed.port == 2201)
        // No entry at all: the host is unchanged but for the defaults' `Host *`.
        let other = try basic.apply(to: Host(name: "unknown"), flagUser: nil, flagPrivateKey: nil)
        #expect(other.address == "unknown" && other.port == 22 && other.user == "fallback")
    }

    @Test func refusedKeywordsFailTheHostNamingFileAndLine() throws {
        let refused = config("refused.conf")
        let path = folder.appendingPathComponent("refused.conf").path
        let expectations: [(String, String)] = [
            ("proxied", "refused.conf:3: ProxyCommand nc %h %p"), ("kerberos", "refused.conf:5: GSSAPIAuthentication yes"),
            ("token", "refused.conf:7: PKCS11Provider"), ("certified", "refused.conf:9: CertificateFile"),
            ("remotecmd", "refused.conf:11: RemoteCommand"), ("tunnel", "refused.conf:13: Tunnel yes"),
            ("muxonly", "refused.conf:16: ControlPath"), ("localcmd", "refused.conf:23: LocalCommand"),
            ("aliased", "refused.conf:25: HostKeyAlias"),
        ]
        for (name, message) in expectations {
            #expect { try refused.apply(to: Host(name: name), flagUser: nil, flagPrivateKey: nil) } throws: { error in
                "\(error)".hasPrefix("ssh_config \(path.dropLast("refused.conf".count))\(message)")
            }
        }
        // Multiplexing that opens its own master, and harmless keywords, are not in the way.
        #expect(try refused.apply(to: Host(name: "muxauto"), flagUser: nil, flagPrivateKey: nil).address == "muxauto")
        #expect(try refused.apply(to: Host(name: "ignored"), flagUser: nil, flagPrivateKey: nil).address == "ignored")
    }

    @Test func securityKeyIdentitiesAreRefused() throws {
        let key = home.appendingPathComponent(".ssh/id_sk").path
        try "-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n".write(toFile: key, atomically: true, encoding: .utf8)
        try "sk-ssh-ed25519@openssh.com AAAA me@host\n".write(toFile: key + ".pub", atomically: true, encoding: .utf8)
        let path = try write("Host *\n    IdentityFile ~/.ssh/id_sk\n", "sk")
        let reader = SSHClientConfig(path: path, environment: [:], reader: .builtin, local: local)
        #expect { try reader.apply(to: Host(name: "x"), flagUser: nil, flagPrivateKey: nil) } throws: { error in
            "\(error)".contains("sk:2: IdentityFile ~/.ssh/id_sk: FIDO security keys")
        }
    }

    @Test func jumpHostsAreResolvedWithTheirOwnEntries() throws {
        let jumps = config("proxyjump.conf")
        let inner = try jumps.apply(to: Host(name: "inner1"), flagUser: nil, flagPrivateKey: nil)
        #expect(inner.proxyJump == [JumpHop(user: "jumper", address: "bastion.example.net", port: 2200),
                                    JumpHop(user: "admin", address: "192.0.2.7", port: 2022)])
        // The first hop's own ProxyJump comes before it (ssh runs `ssh -W … edge`, which reads edge's entry).
        let deep = try jumps.apply(to: Host(name: "deep"), flagUser: nil, flagPrivateKey: nil)
        #expect(deep.proxyJump == [JumpHop(address: "198.51.100.1"), JumpHop(address: "edge.example.net")])
        #expect(try jumps.apply(to: Host(name: "direct"), flagUser: nil, flagPrivateKey: nil).proxyJump.isEmpty)
        // A chain the inventory set stays, but its hops get their ssh_config entries.
        var host = Host(name: "inner2")
        host.proxyJump = [JumpHop(address: "mid")]
        #expect(try jumps.apply(to: host, flagUser: nil, flagPrivateKey: nil).proxyJump == [JumpHop(address: "192.0.2.7", port: 2999)])

        let loop = try write("Host a\n    ProxyJump b\nHost b\n    ProxyJump a\nHost t\n    ProxyJump a\n", "loop-jump")
        let looping = SSHClientConfig(path: loop, environment: [:], reader: .builtin, local: local)
        #expect { try looping.apply(to: Host(name: "t"), flagUser: nil, flagPrivateKey: nil) } throws: { error in
            "\(error)".contains("ProxyJump chain longer than")
        }
    }

    @Test func aBastionWrittenForTheAddressIsNotSilentlySkipped() throws {
        let path = try write("Host 10.0.0.*\n    ProxyJump bastion\nMatch host 10.0.1.*\n    ProxyJump bastion\n", "by-address")
        let reader = SSHClientConfig(path: path, environment: [:], reader: .builtin, local: local)
        // Ansible would have gone through the bastion (`ssh 10.0.0.5`); a direct connection is refused.
        #expect { try reader.apply(to: Host(name: "web1", address: "10.0.0.5"), flagUser: nil, flagPrivateKey: nil) } throws: { error in
            "\(error)".contains("by-address:2: ProxyJump bastion applies to this host's address 10.0.0.5") && "\(error)".contains("Match host 10.0.0.5")
        }
        // Written with Match host, it applies; an address nothing proxies stays direct.
        #expect(try reader.apply(to: Host(name: "web2", address: "10.0.1.5"), flagUser: nil, flagPrivateKey: nil).proxyJump == [JumpHop(address: "bastion")])
        #expect(try reader.apply(to: Host(name: "web3", address: "10.0.2.5"), flagUser: nil, flagPrivateKey: nil).proxyJump.isEmpty)
    }

    @Test func hostKeySettings() async throws {
        let basic = config("basic.conf")
        let db = try basic.apply(to: Host(name: "db"), flagUser: nil, flagPrivateKey: nil)
        #expect(db.knownHostsFile == "\(home.path)/.ssh/known_hosts.d/db.internal.example" && db.hostKeyChecking == .acceptNew)
        // A second known_hosts file that exists cannot be honoured: said, not skipped.
        try "".write(toFile: "\(home.path)/unused_known_hosts", atomically: true, encoding: .utf8)
        #expect { try basic.apply(to: Host(name: "db"), flagUser: nil, flagPrivateKey: nil) } throws: { error in
            "\(error)".contains("basic.conf:16: UserKnownHostsFile: only one file is supported")
        }
        // The inventory's own choice wins.
        var strict = Host(name: "lax")
        strict.hostKeyChecking = .strict
        #expect(try basic.apply(to: strict, flagUser: nil, flagPrivateKey: nil).hostKeyChecking == .strict)
        // `no` only from the user's file, and then with a warning naming it.
        let resolution = await basic.resolve([Host(name: "lax"), Host(name: "ask"), Host(name: "win", connection: .winrm)],
                                             flagUser: nil, flagPrivateKey: nil)
        let hosts = try resolution.hosts.map { try $0.get() }
        #expect(hosts.map(\.hostKeyChecking) == [.off, nil, nil])
        #expect(hosts[2].sshClient == SSHClientOptions())  // WinRM hosts are not resolved
        #expect(resolution.warnings.count == 1)
        #expect(resolution.warnings.first?.contains("StrictHostKeyChecking no (\(folder.path)/basic.conf:20) for 1 host") == true)

        let algos = try basic.apply(to: Host(name: "algos"), flagUser: nil, flagPrivateKey: nil)
        #expect(algos.sshClient.hostKeyAlgorithms == ["ssh-ed25519", "rsa-sha2-512"])
        #expect(SSHClientConfig.hostKeyAlgorithms("+ssh-dss,ssh-rsa") == SSHClientConfig.supportedHostKeyAlgorithms)
        #expect(SSHClientConfig.hostKeyAlgorithms("-ecdsa-*,ssh-rsa") == ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256"])
        #expect(SSHClientConfig.hostKeyAlgorithms("^rsa-sha2-256").prefix(2) == ["rsa-sha2-256", "ssh-ed25519"])
        let none = try write("HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com\n", "certonly")
        #expect { try SSHClientConfig(path: none, environment: [:], reader: .builtin, local: local).apply(to: Host(name: "x"), flagUser: nil, flagPrivateKey: nil) } throws: { error in
            "\(error)".contains("certonly:1: HostKeyAlgorithms ssh-ed25519-cert-v01@openssh.com: none of these is supported")
        }
    }
}
