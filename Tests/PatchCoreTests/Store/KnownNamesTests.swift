import Foundation
import Testing
@testable import PatchCore

/// What `defer`, `approve` and `hosts retire` check a name against, and the names they suggest.
@Suite("Names history knows")
struct KnownNamesTests {
    typealias G = GeneratedHistory

    /// Every host any run contacted, once and in order: scanned, failed or only reached by `exec`.
    @Test(arguments: StoreKind.all) func everyHostAnyRunContactedIsListedOnceInOrder(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        #expect(try made.store.hostNames().isEmpty)
        for night in 0..<3 {
            try history.scan(at: G.day(Double(night)), [
                G.host("web2", at: G.day(Double(night))), G.host("db1", at: G.day(Double(night)), status: night == 1 ? .unreachable : .ok),
                G.host("web10", at: G.day(Double(night))),
            ])
        }
        let at = G.day(4)
        let run = try made.store.beginRun(kind: .exec, startedAt: at, inventory: "inv.yml", hostPattern: nil, options: "uptime", version: "test")
        try made.store.record(runId: run, hosts: [ExecResult(name: "app1", address: "192.0.2.20", port: 22, status: .ok, exitCode: 0, stdout: "up",
                                                            stderr: "", durationMs: 5, startedAt: at, finishedAt: at)])
        #expect(try made.store.hostNames() == ["app1", "db1", "web10", "web2"])
        #expect {
            try KnownNames.checkHost("web20", inventory: nil, store: made.store)
        } throws: { error in
            error is PatchError && ("\(error)".contains("did you mean 'web2'") || "\(error)".contains("did you mean 'web10'"))
        }
        try KnownNames.checkHost("app1", inventory: nil, store: made.store)
    }
}
