import Foundation
import Testing
@testable import PatchCore

/// What `--retry-failed` picks from history: which statuses count as failures, which run is
/// meant when none is named, and the errors for runs it cannot retry.
@Suite("Retrying failed hosts from history")
struct FailedRunTests {
    /// One run of `kind` whose hosts end with `statuses` (host names are the statuses' raw values).
    func record(_ store: HistoryStore, kind: RunKind, at seconds: Double, policy: String? = nil, _ statuses: [HostStatus]) throws -> String {
        let started = Date(timeIntervalSince1970: seconds)
        let id = try store.beginRun(kind: kind, startedAt: started, inventory: nil, hostPattern: nil, options: nil, version: "test", policy: policy)
        try store.record(runId: id, hosts: statuses.enumerated().map { index, status in
            HostScan(name: status.rawValue, address: "10.0.0.\(index + 1)", port: 22, status: status, error: status == .ok ? nil : "x",
                     startedAt: started.addingTimeInterval(Double(index)), finishedAt: started.addingTimeInterval(Double(index) + 1))
        })
        return id
    }

    @Test(arguments: StoreKind.all) func exactlyTheFailureStatusesOfTheLatestRunOfTheKind(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let old = try record(store, kind: .scan, at: 1_700_000_000, [.unreachable])
        let latest = try record(store, kind: .scan, at: 1_700_000_100, HostStatus.allCases)
        _ = try record(store, kind: .exec, at: 1_700_000_200, [.error])  // another kind, later: not the scan's latest
        let failed = try store.failedRun(retrying: .scan, run: nil)
        #expect(failed.runId == latest && failed.kind == .scan)
        #expect(failed.hosts == ["unreachable", "auth_failed", "host_key_mismatch", "host_key_unknown", "host_key_revoked", "timeout", "failed", "error"])
        #expect(try store.failedRun(retrying: .scan, run: old).hosts == ["unreachable"])
        #expect(try store.failedRun(retrying: .scan, run: String(old.prefix(22))).runId == old, "a unique prefix names the run")
    }

    @Test func selectKeepsTheInventorysOrderAndDropsHostsItNoLongerHas() {
        let failed = FailedRun(runId: "r", kind: .scan, hosts: ["c", "gone", "a"])
        let candidates = ["a", "b", "c"].map { Host(name: $0, address: $0, port: 22) }
        #expect(failed.select(candidates).map(\.name) == ["a", "c"])
        #expect(failed.nothingToRetry(limit: "b") == "run r (scan): none of its 3 failed hosts is in the inventory within --limit 'b'; nothing to retry")
        #expect(FailedRun(runId: "r", kind: .scan, hosts: []).nothingToRetry(limit: nil) == "run r (scan): no host failed; nothing to retry")
    }

    @Test(arguments: StoreKind.all) func deployRetriesItsPolicysLatestRunAndAcceptsItsDryRunsByName(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        let mine = try record(store, kind: .deploy, at: 1_700_000_000, policy: "web", [.failed, .ok])
        _ = try record(store, kind: .deploy, at: 1_700_000_100, policy: "db", [.timeout])
        let plan = try record(store, kind: .plan, at: 1_700_000_200, policy: "web", [.unreachable])
        #expect(try store.failedRun(retrying: .deploy, run: nil, policy: "web") == FailedRun(runId: mine, kind: .deploy, hosts: ["failed"]))
        #expect(try store.failedRun(retrying: .deploy, run: plan, policy: "web").hosts == ["unreachable"])
        #expect(throws: PatchError.retry(message: "history has no deploy run of policy mail to retry")) {
            try store.failedRun(retrying: .deploy, run: nil, policy: "mail")
        }
    }

    @Test(arguments: StoreKind.all) func aRunOfAnotherKindAnUnknownRunAndAnEmptyHistoryAreErrors(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let store = made.store
        #expect(throws: PatchError.retry(message: "history has no install run to retry")) { try store.failedRun(retrying: .install, run: nil) }
        let scan = try record(store, kind: .scan, at: 1_700_000_000, [.error])
        #expect(throws: PatchError.retry(message: "run \(scan) is of kind scan; install --retry-failed retries install or install-plan runs")) {
            try store.failedRun(retrying: .install, run: scan)
        }
        #expect(throws: PatchError.runNotFound("19990101")) { try store.failedRun(retrying: .scan, run: "19990101") }
    }
}
