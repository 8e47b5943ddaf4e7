import Foundation

extension SSHClientConfig {
    /// The host key algorithms libssh2 checks, in OpenSSH's preference order: HostKeyAlgorithms'
    /// `+`, `-` and `^` forms apply to this list.
    public static let supportedHostKeyAlgorithms = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
    ]
    /// A jump chain longer than this is a loop in ssh_config (a hop whose own ProxyJump leads back).
    static let maxJumpHops = 16

    /// Per-host outcome: the host with ssh_config applied, or why it cannot be reached as configured.
    public struct Resolution: Sendable {
        public var hosts: [Result<Host, SSHConfigError>]
        /// One line per place that turned host key checking off, with how many hosts it covers.
        public var warnings: [String]
    }

    /// Applies ssh_config to every SSH host (WinRM and local hosts are left alone), at most
    /// `concurrency` lookups at a time (each `ssh -G` is a process).
    public func resolve(_ hosts: [Host], flagUser: String?, flagPrivateKey: String?, concurrency: Int = 8) async -> Resolution {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let results = ResultsBox(count: hosts.count)
                let slots = DispatchSemaphore(value: max(1, concurrency))
                let group = DispatchGroup()
                for (index, host) in hosts.enumerated() {
                    guard host.connection == .ssh else { results.set(index, .success(host)); continue }
                    slots.wait()
                    group.enter()
                    DispatchQueue.global().async {
                        let result: Result<Host, SSHConfigError>
                        do throws(SSHConfigError) {
                            result = .success(try self.apply(to: host, flagUser: flagUser, flagPrivateKey: flagPrivateKey))
                        } catch {
                            result = .failure(error)
                        }
                        results.set(index, result)
                        slots.signal()
                        group.leave()
                    }
                }
                group.wait()
                let all = results.values
                var off: [String: Int] = [:]
                for case let .success(host) in all where host.hostKeyChecking == .off {
                    if let place = host.sshClient.hostKeyCheckingOffAt { off[place, default: 0] += 1 }
                }
                let warnings = off.sorted { $0.key < $1.key }.map { place, count in
                    "StrictHostKeyChecking no (\(place)) for \(count) host\(count == 1 ? "" : "s"): an unknown host key is accepted without being recorded; a changed key is still refused"
                }
                continuation.resume(returning: Resolution(hosts: all, warnings: warnings))
            }
        }
    }

    private final class ResultsBox: @unchecked Sendable {
        private let lock = NSLock()
        private var storage: [Result<Host, SSHConfigError>?]
        init(count: Int) { storage = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: Result<Host, SSHConfigError>) { lock.withLock { storage[index] = value } }
        var values: [Result<Host, SSHConfigError>] { lock.withLock { storage.map { $0! } } }
    }

    /// One host: flag > inventory > ssh_config > patchctl's default. The inventory's values are
    /// given to ssh_config the way `ssh -l/-p/-o HostName=` gives them, so `Match` sees them.
    public func apply(to original: Host, flagUser: String?, flagPrivateKey: String?) throws(SSHConfigError) -> Host {
        var host = original
        let setAddress = host.fromInventory.contains("address") || host.address != host.name
        let setPort = host.fromInventory.contains("port") || host.port != 22
        let query = SSHConfigQuery(host: host.name, hostName: setAddress ? host.address : nil, user: host.user ?? flagUser,
                                   port: setPort ? host.port : nil)
        let settings = try settings(for: query)
        if let refused = settings.refused.first {
            let message = "\(refused.keyword) \(refused.value): \(refused.reason)"
            throw refused.origin.map { SSHConfigError($0, message) } ?? SSHConfigError(path, message)
        }
        func fail(_ keyword: String, _ message: String) -> SSHConfigError {
            settings.origins[keyword].map { SSHConfigError($0, message) } ?? SSHConfigError(path, message)
        }
        if let name = settings.hostName, !setAddress { host.address = name }
        if let port = settings.port, !setPort { host.port = port }
        if let user = settings.user, host.user == nil, flagUser == nil { host.user = user }
        var client = SSHClientOptions()
        client.configFile = path
        if host.privateKeyFile == nil, flagPrivateKey == nil, let files = settings.identityFiles {
            for file in files {
                switch settings.expand(file) {
                case let .success(path):
                    if KeyFile.isSecurityKey(path: path) {
                        throw fail("identityfile", "IdentityFile \(file): FIDO security keys (sk-…) are not supported natively; `connection: openssh` runs such a host through the system ssh")
                    }
                    client.identityFiles.append(path)
                case let .failure(message): throw fail("identityfile", "IdentityFile: \(message)")
                }
            }
        }
        client.identitiesOnly = settings.identitiesOnly ?? false
        client.identityAgent = settings.identityAgent
        if let text = settings.hostKeyAlgorithms {
            client.hostKeyAlgorithms = Self.hostKeyAlgorithms(text)
            if client.hostKeyAlgorithms?.isEmpty == true {
                throw fail("hostkeyalgorithms", "HostKeyAlgorithms \(text): none of these is supported (patchctl verifies \(Self.supportedHostKeyAlgorithms.joined(separator: ",")))")
            }
        }
        client.connectTimeout = settings.connectTimeout.map(Double.init)
        client.serverAliveInterval = settings.serverAliveInterval
        client.serverAliveCountMax = settings.serverAliveCountMax
        host.sshClient = client

        if host.knownHostsFile == nil, let files = settings.userKnownHostsFiles, let first = files.first {
            if let extra = files.dropFirst().first(where: { FileManager.default.fileExists(atPath: $0) }) {
                throw fail("userknownhostsfile", "UserKnownHostsFile: only one file is supported, and \(extra) exists besides \(first)")
            }
            host.knownHostsFile = first
        }
        if host.hostKeyChecking == nil, let strict = settings.strictHostKeyChecking {
            switch strict {
            case .yes: host.hostKeyChecking = .strict
            case .acceptNew: host.hostKeyChecking = .acceptNew
            case .no:
                host.hostKeyChecking = .off
                host.sshClient.hostKeyCheckingOffAt = settings.origins["stricthostkeychecking"]?.description ?? path
            }
        }

        var hops = host.proxyJump
        if hops.isEmpty, !host.fromInventory.contains("proxy_jump") {
            if let jump = settings.proxyJump {
                do { hops = try JumpHop.parseList(jump) } catch { throw fail("proxyjump", "ProxyJump: \(error)") }
            } else if setAddress, host.address != host.name {
                try checkAnsibleView(host, query: query)
            }
        }
        host.proxyJump = try resolveHops(hops, target: host.name, depth: 0)
        return host
    }

    /// Ansible runs `ssh ADDRESS`, so an entry written for an inventory's address (`Host 10.0.0.*`
    /// with a ProxyJump or ProxyCommand) reached the host through its bastion there; here `Host`
    /// sees the inventory name. Rather than connect directly where Ansible went through a
    /// bastion, the host fails with what to write instead.
    private func checkAnsibleView(_ host: Host, query: SSHConfigQuery) throws(SSHConfigError) {
        // A safety check, not an answer that connects: the built-in reader suffices (no second
        // ssh process per host); when it cannot read the file, the lookup by name stands.
        guard let written = try? builtin.entries(for: SSHConfigQuery(host: host.address, user: query.user, port: query.port)),
              let byAddress = try? SSHConfigSettings(values: written.values.mapValues { $0.map { $0.arguments.joined(separator: " ") } },
                                                     origins: Self.origins(written), query: query, local: builtin.local, defaults: nil)
        else { return }
        let proxy = byAddress.proxyJump.map { ("ProxyJump", $0, byAddress.origins["proxyjump"]) }
            ?? byAddress.refused.first { $0.keyword == "ProxyCommand" }.map { ("ProxyCommand", $0.value, $0.origin) }
        guard let (keyword, value, origin) = proxy else { return }
        let message = "\(keyword) \(value) applies to this host's address \(host.address) (as Ansible's `ssh \(host.address)` would see it) "
            + "but not to its inventory name \(host.name), which Host patterns match here; refusing to connect directly: "
            + "match the address with `Match host \(host.address)` (or add \(host.name) to the Host line)"
        throw origin.map { SSHConfigError($0, message) } ?? SSHConfigError(path, message)
    }

    /// Each hop with its own ssh_config (HostName, User, Port), as OpenSSH connects to it; the
    /// first hop's own ProxyJump puts its bastions before it (ssh runs `ssh -W … first`).
    func resolveHops(_ hops: [JumpHop], target: String, depth: Int) throws(SSHConfigError) -> [JumpHop] {
        guard !hops.isEmpty else { return [] }
        guard depth + hops.count <= Self.maxJumpHops else {
            throw SSHConfigError(path, "\(target): ProxyJump chain longer than \(Self.maxJumpHops) hops (a loop in ssh_config?)")
        }
        var chain: [JumpHop] = []
        for (index, hop) in hops.enumerated() {
            let settings = try settings(for: SSHConfigQuery(host: hop.address, user: hop.user, port: hop.port))
            if let refused = settings.refused.first {
                let message = "jump host \(hop): \(refused.keyword) \(refused.value): \(refused.reason)"
                throw refused.origin.map { SSHConfigError($0, message) } ?? SSHConfigError(path, message)
            }
            var resolved = JumpHop(user: hop.user ?? settings.user, address: settings.hostName ?? hop.address, port: hop.port ?? settings.port)
            if resolved.port == 22 { resolved.port = nil }
            if index == 0, let jump = settings.proxyJump {
                let before: [JumpHop]
                do { before = try JumpHop.parseList(jump) } catch {
                    let message = "ProxyJump of \(hop): \(error)"
                    throw settings.origins["proxyjump"].map { SSHConfigError($0, message) } ?? SSHConfigError(path, message)
                }
                chain += try resolveHops(before, target: target, depth: depth + hops.count)
            }
            chain.append(resolved)
            guard chain.count <= Self.maxJumpHops else {
                throw SSHConfigError(path, "\(target): ProxyJump chain longer than \(Self.maxJumpHops) hops (a loop in ssh_config?)")
            }
        }
        return chain
    }

    /// HostKeyAlgorithms: a list, or `+list` (append), `-list` (remove, patterns allowed), `^list`
    /// (put first), applied to patchctl's own list; kept: what libssh2 verifies.
    static func hostKeyAlgorithms(_ text: String) -> [String] {
        let supported = supportedHostKeyAlgorithms
        func list(_ text: Substring) -> [String] { text.split(separator: ",").map(String.init) }
        var result: [String]
        switch text.first {
        case "+": result = supported + list(text.dropFirst()).filter { !supported.contains($0) }
        case "-":
            let removed = list(text.dropFirst())
            result = supported.filter { name in !removed.contains { SSHPattern.matches(name, $0) } }
        case "^":
            let first = list(text.dropFirst())
            result = first + supported.filter { !first.contains($0) }
        default: result = list(Substring(text))
        }
        var seen = Set<String>()
        return result.filter { supported.contains($0) && seen.insert($0).inserted }
    }
}
