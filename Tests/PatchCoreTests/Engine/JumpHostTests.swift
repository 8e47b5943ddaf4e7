import Foundation
import LabSupport
import Testing
@testable import PatchCore
@testable import PatchSSH

/// Jump hosts against real sshd processes in network namespaces the tests make themselves
/// (`JumpTopology`): the controller reaches only the bastion, and every direct attempt at a
/// target fails at once on an `unreachable` route, so a result from a target proves the path.
@Suite("Jump hosts through real bastions in network namespaces", .serialized,
       .enabled(if: JumpTopology.canRun(chroot: Lab.env["LAB_ROOT"])))
struct JumpHostTests {
    static let bastion = JumpHop(user: "root", address: JumpTopology.bastion, port: 22)
    static let bastionHop = "root@\(JumpTopology.bastion):22"

    static func topology() throws -> JumpTopology {
        try JumpTopology(chroot: try Lab.value("LAB_ROOT"))
    }

    /// The run's defaults (user, key) are what the bastion gets; targets log in with the same key.
    static func options(_ topology: JumpTopology, knownHosts: String? = nil, maxConnecting: Int = 100) throws -> ConnectionOptions {
        var options = try Lab.options(knownHosts: knownHosts ?? topology.knownHostsPath)
        options.defaultUser = "root"
        options.defaultPrivateKey = topology.keyPath
        // Generous: a loaded test machine must not turn a slow login into a failure (tests of
        // timeouts set their own).
        options.connectTimeout = 60
        options.maxConnecting = maxConnecting
        return options
    }

    static func host(_ name: String, _ address: String, port: Int = 22, via chain: [JumpHop] = [bastion]) -> Host {
        var host = Host(name: name, address: address, port: port)
        host.proxyJump = chain
        return host
    }

    /// The topology's names and addresses are the machine's only set: while one lives, another
    /// test run's `JumpTopology` waits on its lock (a try here fails at once) instead of tearing it down.
    @Test func aLiveTopologyHoldsTheMachinesLock() throws {
        func lockable() -> Bool {
            let descriptor = open(NamespaceTopology.lockPath(name: "jump"), O_RDWR | O_CLOEXEC)
            guard descriptor >= 0 else { return false }
            defer { close(descriptor) }
            return flock(descriptor, LOCK_EX | LOCK_NB) == 0
        }
        var topology: JumpTopology? = try Self.topology()
        #expect(topology != nil && !lockable())
        topology = nil
        #expect(lockable())
    }

    @Test func twentyTargetsShareOneBastionConnection() async throws {
        let topology = try Self.topology()
        var hosts = JumpTopology.targets.enumerated().map { Self.host("t\($0.offset)", $0.element) }
        // A target whose channel the bastion cannot open (nothing listens on that port), in the
        // middle of the run: its failed open must not damage the session the others share.
        hosts.insert(Self.host("closed", JumpTopology.innerBastion, port: 9), at: 10)
        let results = await Lab.run(["echo \"$SSH_CONNECTION\""], on: hosts, try Self.options(topology, maxConnecting: 4))
        #expect(results.count == 21)
        for (host, ran) in zip(hosts, results) where host.name != "closed" {
            let output = try #require(ran.first?.result, "\(host.name): \(ran.first?.message ?? "")").stdout
            // The target saw the bastion's inside address as its client: the bytes went through it.
            #expect(output.hasPrefix(JumpTopology.bastionInside + " ") && output.contains(" \(host.address) 22"), "\(host.name): \(output)")
        }
        let closed = try #require(results[10].first)
        #expect(closed.status == .unreachable)
        #expect(closed.message.contains("closed: via bastion \(Self.bastionHop): cannot open a channel to \(JumpTopology.innerBastion) port 9"), "\(closed.message)")
        #expect(closed.message.contains("connect failed"), "\(closed.message)")

        // One login at the bastion for all twenty, and twenty logins at the targets, all from the bastion.
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 1, "\(topology.log("a"))")
        #expect(topology.count("b", "Accepted publickey for root from \(JumpTopology.bastionInside)") == 20, "\(topology.log("b"))")
        // The bastion's connection ends with the run, politely.
        #expect(topology.waitForLog("a", "Received disconnect from 10.231.0.1"), "\(topology.log("a"))")
    }

    /// Megabytes each way on ten channels at once: flow control (windows, packets half sent,
    /// socketpairs full) on the one shared connection loses and mixes up nothing.
    @Test func bulkBytesBothWaysOnTenChannelsAtOnce() async throws {
        let topology = try Self.topology()
        let hosts = JumpTopology.targets.prefix(10).enumerated().map { Self.host("t\($0.offset)", $0.element) }
        let size = 3_000_000
        let file = topology.directory.appendingPathComponent("payload")
        try Data(repeating: 0x5a, count: size).write(to: file)
        let outcomes: [Result<(Int64, String), HostFanOut.Failure>] = await HostFanOut(options: try Self.options(topology)).run(
            hosts: hosts, forks: 10,
            work: { connection in
                // SFTP into the chroot's /dev/null: the tree stays read-only, the bytes still cross.
                let sent = try await connection.upload(file.path, to: "/dev/null")
                let output = try await connection.run("head -c \(size) /dev/zero | tr '\\0' \(connection.host.name.last!)").stdout
                return .success((sent, output))
            },
            failed: { _, failure, _ in .failure(failure) }, onFinished: { _ in })
        #expect(outcomes.count == 10)
        for (host, outcome) in zip(hosts, outcomes) {
            let (sent, output) = try outcome.get()
            #expect(sent == Int64(size), "\(host.name)")
            // Each host's own letter, all of it: no byte crossed into another channel.
            #expect(output == String(repeating: host.name.last!, count: size), "\(host.name): \(output.utf8.count) bytes")
        }
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 1)
    }

    /// A target the bastion gets no answer from (no host has its address: ARP fails after about
    /// 3 s) holds up the channel opens queued behind it until it fails, and no longer: libssh2
    /// opens one channel at a time. The host behind it then gets its channel; nobody hangs.
    @Test func unansweredTargetHoldsTheOpensBehindItOnlyUntilItFails() async throws {
        let topology = try Self.topology()
        let ghost = Self.host("ghost", "10.232.0.250")
        let hosts = [ghost, Self.host("t0", JumpTopology.targets[0])]
        let started = Date()
        let results = await Lab.run(["true"], on: hosts, try Self.options(topology))
        let failure = try #require(results[0].first)
        #expect(failure.status == .unreachable, "\(failure.message)")
        #expect(failure.message.hasPrefix("ghost: via bastion \(Self.bastionHop): cannot open a channel to 10.232.0.250 port 22: Channel open failure (connect failed)"), "\(failure.message)")
        #expect(results[1].first?.result?.exitStatus == 0, "\(results[1].first?.message ?? "")")
        // Bounds tell "waited for the bastion's own TCP timeout (about 2 min)" from a loaded machine.
        #expect(Date().timeIntervalSince(started) < 60)

        // With a connect timeout shorter than the bastion's wait, the host times out, naming the
        // hop; the open still in flight is closed when it ends, and the run ends on time.
        var options = try Self.options(topology)
        options.connectTimeout = 1
        let again = Date()
        let timedOut = try #require(await Lab.run(["true"], on: [ghost], options).first?.first)
        #expect(timedOut.status == .timeout)
        #expect(timedOut.message == "ghost: via bastion \(Self.bastionHop): 10.232.0.250: channel open timed out after 1s")
        #expect(Date().timeIntervalSince(again) < 60)

        // One host after the other: the second waits behind the first's open, still in flight
        // (about 3 s) when its own second is up, and its error says so.
        let hosts2 = [Self.host("ghost2", "10.232.0.251"), Self.host("t0", JumpTopology.targets[0])]
        let queued = await Lab.run(["true"], on: hosts2, options, forks: 1)
        #expect(queued[0].first?.status == .timeout)
        let behind = try #require(queued[1].first)
        // Normally the second host's 1 s runs out while the first open is in flight, and its error
        // says what it waited behind. On a loaded machine the bastion may answer the first open
        // before the second host starts: then the second simply succeeds, or (slower still) its
        // channel opens and its own 1 s runs out later, in the SSH handshake or the authentication
        // through it; or the first open ends just as the second's turn comes, and the second's own
        // open is what runs out of its 1 s (no longer queued behind anything). Never a hang, never
        // a wrong message: each is the exact message of the phase the 1 s ran out in.
        if behind.status == .timeout {
            #expect([
                "t0: via bastion \(Self.bastionHop): \(JumpTopology.targets[0]): channel open (queued behind the open to 10.232.0.251 port 22, which the bastion has not answered) timed out after 1s",
                "t0: via bastion \(Self.bastionHop): \(JumpTopology.targets[0]): channel open timed out after 1s",
                "t0: handshake timed out after 1s",
                "t0: authentication timed out after 1s",
            ].contains(behind.message), "\(behind.message)")
        } else {
            #expect(behind.result?.exitStatus == 0, "\(behind.message)")
        }
    }

    /// Keepalives to the bastion every second while commands sit idle behind it: the output that
    /// follows still arrives (a queued keepalive reply once hid every channel's data).
    @Test func keepalivesWhileIdleDoNotStallTheChannels() async throws {
        let topology = try Self.topology()
        let hosts = JumpTopology.targets.prefix(2).enumerated().map { Self.host("t\($0.offset)", $0.element) }
        var options = try Self.options(topology)
        options.keepaliveInterval = 1
        options.commandTimeout = 20
        let results = await Lab.run(["sleep 3; echo first", "echo second"], on: hosts, options)
        for (host, ran) in zip(hosts, results) {
            #expect(ran.map { $0.result?.stdout ?? $0.message } == ["first\n", "second\n"], "\(host.name)")
        }
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 1)
    }

    /// OpenSSH's rule: the destination's user and key are not the jump host's. A target that
    /// refuses its own login fails as a target (no "via"), after the bastion let it through.
    @Test func targetSettingsDoNotApplyToTheBastion() async throws {
        let topology = try Self.topology()
        var target = Self.host("t0", JumpTopology.targets[0])
        target.user = "nobody"
        target.privateKeyFile = topology.directory.appendingPathComponent("wrong_host_key").path  // not authorized anywhere
        let ran = try #require(await Lab.run(["true"], on: [target], try Self.options(topology)).first?.first)
        #expect(ran.status == .authFailed)
        #expect(ran.message.hasPrefix("t0: authentication failed for user nobody"), "\(ran.message)")
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 1, "\(topology.log("a"))")
        #expect(topology.count("b", "Connection from \(JumpTopology.bastionInside)") == 1)
    }

    /// The bastion dies while commands run behind it: every host ends at once with an error that
    /// names the hop, and none waits for its command timeout.
    @Test func bastionCrashMidRunFailsItsHostsNamingTheHop() async throws {
        let topology = try Self.topology()
        let hosts = JumpTopology.targets.prefix(3).enumerated().map { Self.host("t\($0.offset)", $0.element) }
        let options = try Self.options(topology)
        let run = Task { await Lab.run(["sleep 60"], on: hosts, options) }
        // Once all three commands run behind the bastion, it crashes. A loaded machine may take
        // well over 10 s for three handshakes through it: crashing earlier tests something else.
        let deadline = Date().addingTimeInterval(180)
        while topology.count("b", "Starting session") < 3, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(topology.count("b", "Starting session") == 3)
        let crashed = Date()
        try topology.crash("a")
        let results = await run.value
        // The commands would run 60 s: well below that tells a noticed crash from a loaded machine.
        #expect(Date().timeIntervalSince(crashed) < 40)
        for (host, ran) in zip(hosts, results) {
            let failure = try #require(ran.first)
            #expect(failure.status == .error, "\(host.name): \(failure.message)")
            #expect(failure.message.hasPrefix("\(host.name): via bastion \(Self.bastionHop): \(JumpTopology.bastion): bastion connection: broken ("), "\(failure.message)")
        }
    }

    /// A bastion connection that ends while no channel uses it is noticed at once, and the next
    /// host behind it gets a new connection instead of the dead one's error.
    @Test func idleBastionConnectionThatEndsIsReplaced() async throws {
        let topology = try Self.topology()
        let knownHosts = try KnownHosts(path: topology.knownHostsPath)
        let pool = BastionPool(knownHosts: knownHosts, policy: .strict)
        let auth: [SSHConfig.Auth] = [.keyFile(path: topology.keyPath, passphrase: nil)]
        let hop = SSHConfig(label: JumpTopology.bastion, address: JumpTopology.bastion, user: "root", auth: auth)
        let target = SSHConfig(label: "t0", address: JumpTopology.targets[0], user: "root", auth: auth)
        func runOnce() async throws -> Bastion {
            let bastion = try await pool.bastion(for: [hop], target: "t0")
            let session = try await SSHSession.connect(target, via: bastion, knownHosts: knownHosts)
            #expect(try await session.run("echo \"$SSH_CONNECTION\"", timeout: 20).stdout.hasPrefix(JumpTopology.bastionInside + " "))
            await session.close()
            return bastion
        }
        let first = try await runOnce()
        // runOnce's session is gone: once its channel is closed, nothing reads the bastion's socket.
        for _ in 0..<250 where first.tunnelsOpen != 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(first.tunnelsOpen == 0 && first.tunnelsOpened == 1)
        try topology.crash("a")
        try topology.restartBastion()
        for _ in 0..<250 where first.lostConnection == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(first.lostConnection != nil, "the relay did not notice the end of its idle connection")
        let second = try await runOnce()
        #expect(second !== first)
        await pool.closeAll()
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 2, "\(topology.log("a"))")
    }

    @Test func twoHopChainReachesATargetOnlyTheSecondBastionReaches() async throws {
        let topology = try Self.topology()
        let inner = JumpHop(address: JumpTopology.innerBastion)  // no user: the run's default
        let hosts = [
            Self.host("deep", JumpTopology.deepTarget, via: [Self.bastion, inner]),
            // The same target through the first bastion alone: it has no route there.
            Self.host("short", JumpTopology.deepTarget),
        ]
        let results = await Lab.run(["echo \"$SSH_CONNECTION\""], on: hosts, try Self.options(topology))
        let deep = try #require(results[0].first?.result, "\(results[0].first?.message ?? "")")
        #expect(deep.stdout.hasPrefix(JumpTopology.innerBastionInside + " "), "\(deep.stdout)")
        let short = try #require(results[1].first)
        #expect(short.status == .unreachable)
        #expect(short.message.hasPrefix("short: via bastion \(Self.bastionHop): cannot open a channel to \(JumpTopology.deepTarget) port 22"), "\(short.message)")
        // The first bastion carried both hosts on one connection; the second was logged in to through it.
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 1, "\(topology.log("a"))")
        #expect(topology.count("b", "Accepted publickey for root from \(JumpTopology.bastionInside)") == 1)
        #expect(topology.count("c", "Accepted publickey for root from \(JumpTopology.innerBastionInside)") == 1)
    }

    @Test func untrustedBastionFailsEveryHostBehindItAndNoTargetIsContacted() async throws {
        let topology = try Self.topology()
        let hosts = JumpTopology.targets.prefix(5).enumerated().map { Self.host("t\($0.offset)", $0.element) }
        for acceptNew in [false, true] {
            var options = try Self.options(topology, knownHosts: topology.wrongBastionKnownHostsPath)
            options.acceptNewHostKeys = acceptNew  // a changed key is refused either way
            let results = await Lab.run(["true"], on: hosts, options)
            for (host, ran) in zip(hosts, results) {
                let failure = try #require(ran.first)
                #expect(failure.status == .hostKeyMismatch, "\(host.name): \(failure.message)")
                #expect(failure.message.hasPrefix("\(host.name): via bastion \(Self.bastionHop): \(JumpTopology.bastion) port 22: HOST KEY CHANGED"), "\(failure.message)")
            }
        }
        // One key exchange per run at the bastion, no login there, nothing at all at the targets.
        #expect(topology.count("a", "Connection from 10.231.0.1") == 2, "\(topology.log("a"))")
        #expect(topology.count("a", "Accepted publickey") == 0)
        #expect(topology.count("b", "Connection from") == 0, "\(topology.log("b"))")
    }

    @Test func deadBastionFailsEveryHostBehindItAtOnce() async throws {
        let topology = try Self.topology()
        let dead = JumpHop(address: JumpTopology.bastion, port: JumpTopology.deadPort)
        let hosts = JumpTopology.targets.prefix(5).enumerated().map { Self.host("t\($0.offset)", $0.element, via: [dead]) }
        var options = try Self.options(topology)
        options.connectTimeout = 90
        let started = Date()
        let results = await Lab.run(["true"], on: hosts, options)
        for (host, ran) in zip(hosts, results) {
            let failure = try #require(ran.first)
            #expect(failure.status == .unreachable, "\(host.name): \(failure.message)")
            #expect(failure.message == "\(host.name): via bastion root@\(JumpTopology.bastion):\(JumpTopology.deadPort): cannot connect to \(JumpTopology.bastion) port \(JumpTopology.deadPort): Connection refused")
        }
        // Refused is immediate: far below the 90 s connect timeout, nothing waited on.
        #expect(Date().timeIntervalSince(started) < 45)
        #expect(topology.count("b", "Connection from") == 0)
    }

    @Test func bastionRefusingForwardingGivesEachHostAClearError() async throws {
        let topology = try Self.topology()
        let refusing = JumpHop(address: JumpTopology.bastion, port: JumpTopology.refusingPort)
        let hosts = JumpTopology.targets.prefix(5).enumerated().map { Self.host("t\($0.offset)", $0.element, via: [refusing]) }
        let results = await Lab.run(["true"], on: hosts, try Self.options(topology))
        for (host, ran) in zip(hosts, results) {
            let failure = try #require(ran.first)
            #expect(failure.status == .unreachable, "\(host.name): \(failure.message)")
            #expect(failure.message.hasPrefix("\(host.name): via bastion root@\(JumpTopology.bastion):\(JumpTopology.refusingPort): cannot open a channel to \(host.address) port 22: Channel open failure (administratively prohibited)"), "\(failure.message)")
            #expect(failure.message.contains("AllowTcpForwarding"))
        }
        #expect(topology.count("a", "Accepted publickey for root from 10.231.0.1") == 1, "\(topology.log("a"))")
        #expect(topology.count("a", "refused local port forward") == 5, "\(topology.log("a"))")
        #expect(topology.count("b", "Connection from") == 0)
    }
}
