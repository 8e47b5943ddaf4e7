import Foundation
import Testing
@testable import PatchCore

/// `DeployJob.start`: what `patchctl deploy` and `deploy --resume RUN` resolve before anything
/// is contacted (moved out of the CLI; nothing here needs an endpoint).
@Suite("DeployJob.start")
struct DeploymentStartTests {
    struct Setup {
        var folder: URL
        var store: HistoryStore
        var inventory: String
    }

    static func setup() throws -> Setup {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-start-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("policies"), withIntermediateDirectories: true)
        try "name: nightly\ntargets: all\nselect: security\napproval: auto\nreboot: never\n"
            .write(to: folder.appendingPathComponent("policies/nightly.yml"), atomically: true, encoding: .utf8)
        let inventory = folder.appendingPathComponent("inventory.yml").path
        try "all:\n  hosts:\n    web1: {ansible_host: 127.0.0.1}\n    web2: {ansible_host: 127.0.0.2}\n"
            .write(toFile: inventory, atomically: true, encoding: .utf8)
        let extra = folder.appendingPathComponent("more.yml").path
        try "all:\n  hosts:\n    db1: {ansible_host: 127.0.0.3}\n".write(toFile: extra, atomically: true, encoding: .utf8)
        return Setup(folder: folder, store: try HistoryStore(path: folder.appendingPathComponent("history.db").path), inventory: inventory)
    }

    func fresh(_ s: Setup, inventories: [String], forks: Int = 50) -> DeployJob.Start {
        DeployJob.Start(source: .policy("nightly", inventories: inventories, limit: nil, ring: nil, ignoreWindow: false, dryRun: false, reason: "CHG-1"),
                         forks: forks, environment: [:], currentDirectory: s.folder.path)
    }

    /// A deploy run recorded with `request` (nil: none) and left in `state`.
    func record(_ s: Setup, request: DeployJob.Request?, state: RunState) throws -> String {
        let options = try request.map { try StoreCodec.encode($0) }
        let id = try s.store.beginRun(kind: .deploy, startedAt: Date(), inventory: s.inventory, hostPattern: nil, options: options,
                                      version: "test", policy: "nightly", user: "tester")
        if state != .running { try s.store.finishRun(runId: id, finishedAt: Date(), state: state) }
        return id
    }

    @Test func aPolicyNameBecomesTheAbsoluteFileAndEveryInventoryIsKept() throws {
        let s = try Self.setup()
        let more = s.folder.appendingPathComponent("more.yml").path
        let started = try DeployJob.start(fresh(s, inventories: [s.inventory, more]), store: s.store)
        let request = started.deployment.request
        #expect(request.policy == s.folder.path + "/policies/nightly.yml")
        #expect(request.inventoryPaths == [s.inventory, more] && request.reason == "CHG-1")
        #expect(started.deployment.targetedHosts.map(\.name) == ["web1", "web2", "db1"])
        #expect(started.resuming == nil && started.retried == nil)
    }

    /// `--shard`: each shard's deployment targets its share of the policy's hosts, the shares cover
    /// them once, and `--resume` repeats the shard.
    @Test func shardsSplitThePolicysTargetsAndResumeKeepsTheShard() throws {
        let s = try Self.setup()
        let more = s.folder.appendingPathComponent("more.yml").path
        var targeted: [String] = []
        for k in 1...2 {
            let start = DeployJob.Start(source: .policy("nightly", inventories: [s.inventory, more], limit: nil, ring: nil, ignoreWindow: false,
                                                        dryRun: false, reason: nil, shard: try Shard(index: k, count: 2)),
                                        forks: 5, environment: [:], currentDirectory: s.folder.path)
            let started = try DeployJob.start(start, store: s.store)
            let hosts = started.deployment.targetedHosts.map(\.name)
            #expect(hosts == ["web1", "web2", "db1"].filter { Shard.owner(of: $0, count: 2) == k })
            targeted += hosts
            let id = try record(s, request: started.deployment.request, state: .interrupted)
            let resumed = try DeployJob.start(DeployJob.Start(source: .resume(run: id), forks: 5, environment: [:], currentDirectory: "/"), store: s.store)
            #expect(try resumed.deployment.request.shard == Shard(index: k, count: 2))
            #expect(resumed.deployment.targetedHosts.map(\.name) == hosts)
        }
        #expect(targeted.sorted() == ["db1", "web1", "web2"])
    }

    @Test func resumeRepeatsTheRecordedRequestWithTheNewForks() throws {
        let s = try Self.setup()
        let first = try DeployJob.start(fresh(s, inventories: [s.inventory], forks: 50), store: s.store)
        let id = try record(s, request: first.deployment.request, state: .interrupted)
        let resumed = try DeployJob.start(DeployJob.Start(source: .resume(run: id), forks: 7, environment: [:], currentDirectory: "/"), store: s.store)
        var expected = first.deployment.request
        expected.forks = 7
        #expect(resumed.deployment.request == expected)
        #expect(resumed.resuming?.runId == id)
    }

    @Test(arguments: [RunState.finished, .halted, .waiting])
    func aRunThatEndedIsNotResumed(_ state: RunState) throws {
        let s = try Self.setup()
        let first = try DeployJob.start(fresh(s, inventories: [s.inventory]), store: s.store)
        let id = try record(s, request: first.deployment.request, state: state)
        #expect(throws: PatchError.deploy(message: "run \(id) is \(state.rawValue): nothing to resume")) {
            try DeployJob.start(DeployJob.Start(source: .resume(run: id), forks: 5, environment: [:], currentDirectory: "/"), store: s.store)
        }
    }

    @Test func aRunWithoutARecordedRequestIsNotResumed() throws {
        let s = try Self.setup()
        let id = try record(s, request: nil, state: .interrupted)
        #expect(throws: PatchError.deploy(message: "run \(id) has no recorded deploy request")) {
            try DeployJob.start(DeployJob.Start(source: .resume(run: id), forks: 5, environment: [:], currentDirectory: "/"), store: s.store)
        }
    }
}
