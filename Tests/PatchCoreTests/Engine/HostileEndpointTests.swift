import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// A real sshd whose ForceCommand answers with crafted output (lab/hostile/serve.sh): one bad
/// endpoint must never crash the controller, exhaust its memory, stall the other hosts or slip an
/// option into a package manager. Each test runs a healthy crafted host beside the hostile ones.
@Suite("Hostile endpoints", .serialized, .enabled(if: HostileEndpoint.canRun))
struct HostileEndpointTests {
    static let healthy = CraftedScan.debian(apt: "Inst bash [5.2.15-2+b2] (5.2.15-2+b7 Debian:12.5/stable [amd64])")

    static func options(_ endpoint: HostileEndpoint, commandTimeout: Double = 60, maxOutput: Int? = nil) -> ConnectionOptions {
        var options = ConnectionOptions(knownHostsPath: endpoint.knownHostsPath, connectTimeout: 10, commandTimeout: commandTimeout,
                                        environment: ["HOME": NSTemporaryDirectory()])
        if let maxOutput { options.maxOutputBytes = maxOutput }
        return options
    }

    static func host(_ endpoint: HostileEndpoint, _ name: String, _ address: String) -> Host {
        Host(name: name, address: address, port: endpoint.port, user: "root", privateKeyFile: endpoint.keyPath)
    }

    /// Scans `hosts` and returns the results in completion order (the order `onFinished` saw).
    static func scanInOrder(_ hosts: [Host], _ options: ConnectionOptions) async -> [HostScan] {
        let order = Order()
        _ = await ScanRunner(engine: HostFanOut(options: options)).scan(hosts, options: ScanOptions(forks: 8)) { order.append($0) }
        return order.items
    }

    final class Order: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [HostScan] = []
        func append(_ scan: HostScan) { lock.withLock { list.append(scan) } }
        var items: [HostScan] { lock.withLock { list } }
    }

    /// Defect 1: 200,000 nested elements in zypper's patches section overflowed the stack of the
    /// XML walk (exit 139, every other host's result lost). Now that host is an `error`.
    @Test func nestedZypperXMLIsAnErrorNotACrash() async throws {
        let nested = "<?xml version='1.0'?><stream>" + String(repeating: "<a>", count: 200_000) + String(repeating: "</a>", count: 200_000) + "</stream>"
        let endpoint = try HostileEndpoint(["127.0.6.1": .output(CraftedScan.suse(patches: nested)), "127.0.6.2": .output(Self.healthy)])
        let results = await Self.scanInOrder([Self.host(endpoint, "nested", "127.0.6.1"), Self.host(endpoint, "fine", "127.0.6.2")],
                                             Self.options(endpoint))
        let nestedHost = try #require(results.first { $0.name == "nested" })
        #expect(nestedHost.status == .error)
        #expect(nestedHost.error?.contains("nested deeper than 128 levels") == true, "\(nestedHost.error ?? "")")
        #expect(results.first { $0.name == "fine" }?.status == .ok)
    }

    /// Defect 2: an endpoint running `yes` drove the controller to gigabytes. Each stream is
    /// capped: past it the host is an `error` naming the cap and its channel is closed.
    @Test func floodingOutputIsCappedAndTheOthersFinish() async throws {
        let endpoint = try HostileEndpoint([
            "127.0.6.1": .script("exec yes\n"),
            "127.0.6.2": .script("exec yes patchctl >&2\n"),
            "127.0.6.3": .output(Self.healthy),
        ])
        let results = await Self.scanInOrder(
            [Self.host(endpoint, "stdout-flood", "127.0.6.1"), Self.host(endpoint, "stderr-flood", "127.0.6.2"), Self.host(endpoint, "fine", "127.0.6.3")],
            Self.options(endpoint, commandTimeout: 300, maxOutput: 8 << 20))
        for name in ["stdout-flood", "stderr-flood"] {
            let flood = try #require(results.first { $0.name == name })
            #expect(flood.status == .error, "\(name): \(flood.status) \(flood.error ?? "")")
            #expect(flood.error?.contains("output exceeded 8 MiB") == true, "\(flood.error ?? "")")
        }
        #expect(results.first { $0.name == "fine" }?.status == .ok)
    }

    /// Defect 3: with a become password, the sudo prompt marker was searched for in all of stderr
    /// after every read: 32 MB of stderr took 22 s and a healthy host in the same run was reported
    /// `timeout`. The healthy host (its own answer takes 2 s) must finish ok, and first.
    @Test func stderrFloodWithBecomePasswordDoesNotStallOthers() async throws {
        let endpoint = try HostileEndpoint([
            "127.0.6.1": .script("head -c 33554432 /dev/zero | tr '\\\\000' '[' >&2\nexit 1\n"),
            "127.0.6.2": .script("head -c 33554432 /dev/zero | tr '\\\\000' '[' >&2\nexit 1\n"),
            "127.0.6.3": .script("sleep 2\ncat \"$HOSTILE_DIR/data/healthy\"\n"),
        ])
        try Data(Self.healthy).write(to: endpoint.directory.appendingPathComponent("data/healthy"))
        var hosts = [Self.host(endpoint, "flood-a", "127.0.6.1"), Self.host(endpoint, "flood-b", "127.0.6.2")]
        for index in hosts.indices {
            hosts[index].user = "root"
            hosts[index].become = true
            hosts[index].becomeUser = "nobody"
            hosts[index].becomePasswordEnv = "HOSTILE_BECOME_PASSWORD"
        }
        hosts.append(Self.host(endpoint, "fine", "127.0.6.3"))
        var options = Self.options(endpoint, commandTimeout: 10)
        options.environment["HOSTILE_BECOME_PASSWORD"] = "not-a-real-password"
        let results = await Self.scanInOrder(hosts, options)
        let fine = try #require(results.first { $0.name == "fine" })
        #expect(fine.status == .ok, "\(fine.error ?? "")")
        // The bound tells a stall from a busy machine: the host's own answer takes 2 s.
        #expect(fine.finishedAt.timeIntervalSince(fine.startedAt) < 8)
        for name in ["flood-a", "flood-b"] {
            // Their output is no scan (an error); on a loaded machine 32 MB may also outlast 10 s.
            let status = results.first { $0.name == name }?.status
            #expect(status == .error || status == .timeout, "\(name): \(String(describing: status))")
        }
        #expect(endpoint.commands("127.0.6.1").first?.contains("sudo -H -S -p") == true)
    }

    /// Defect 3, the reactor: hosts that never stop sending must not starve a healthy host of the
    /// shared reactor thread (each yields after a fair share of reading).
    @Test func endlessStreamsDoNotStarveAHealthyHost() async throws {
        let endpoint = try HostileEndpoint([
            "127.0.6.1": .script("exec yes\n"),
            "127.0.6.2": .script("exec yes\n"),
            "127.0.6.3": .script("sleep 1\ncat \"$HOSTILE_DIR/data/healthy\"\n"),
        ])
        try Data(Self.healthy).write(to: endpoint.directory.appendingPathComponent("data/healthy"))
        let results = await Self.scanInOrder(
            [Self.host(endpoint, "yes-a", "127.0.6.1"), Self.host(endpoint, "yes-b", "127.0.6.2"), Self.host(endpoint, "fine", "127.0.6.3")],
            Self.options(endpoint, commandTimeout: 60, maxOutput: 128 << 20))
        let fine = try #require(results.first { $0.name == "fine" })
        #expect(fine.status == .ok, "\(fine.error ?? "")")
        // Its own answer takes 1 s; the bound tells a starved host from a busy machine.
        #expect(fine.finishedAt.timeIntervalSince(fine.startedAt) < 6)
        for name in ["yes-a", "yes-b"] { #expect(results.first { $0.name == name }?.status == .error) }
    }

    /// Defect 8: a package name that is an apt option is never planned, and nothing the endpoint
    /// named reaches a command line as an option.
    @Test func optionLookingPackageNamesAreRejected() async throws {
        let apt = """
            Inst -oDPkg::Pre-Invoke::=/bin/touch${IFS}/tmp/patchctl-pwned [1.0] (2.0 Debian:12.5/stable [amd64])
            Inst bash [5.2.15-2+b2] (5.2.15-2+b7 Debian:12.5/stable [amd64])
            Inst curl [7.88.1-10] (--force-yes Debian:12.5/stable [amd64])
            """
        let endpoint = try HostileEndpoint(["127.0.6.1": .output(CraftedScan.debian(apt: apt))])
        let result = try #require(await Self.scanInOrder([Self.host(endpoint, "injector", "127.0.6.1")], Self.options(endpoint)).first)
        #expect(result.status == .ok)
        #expect(result.updates.map(\.name) == ["bash"])
        #expect(result.rejectedUpdates.map(\.name) == ["-oDPkg::Pre-Invoke::=/bin/touch${IFS}/tmp/patchctl-pwned", "curl"])
        #expect(result.rejectedUpdates[0].reason.contains("starts with '-'"))
    }

    /// Defect 9: NUL bytes in what an endpoint prints become U+FFFD at once, so the live result and
    /// anything stored later are the same text.
    @Test func nulBytesBecomeReplacementCharacters() async throws {
        let endpoint = try HostileEndpoint(["127.0.6.1": .output(Array("nul".utf8) + [0] + Array("byte\n".utf8))])
        let ran = await HostFanOut(options: Self.options(endpoint)).run(
            hosts: [Self.host(endpoint, "nul", "127.0.6.1")], forks: 1,
            work: { connection in try await connection.run("anything").stdout },
            failed: { _, failure, _ in "failed: \(failure.message)" }, onFinished: { _ in })
        #expect(ran == ["nul\u{FFFD}byte\n"])
    }
}
