import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// A history written by hostile endpoints (issue 14 #6, #7): what they said, byte for byte, in
/// every field a report shows.
extension GeneratedHistory {
    enum Hostile {
        static let title = HostileText.title, clear = HostileText.clear, clipboard = HostileText.clipboard
        static let conceal = HostileText.conceal, csi8bit = HostileText.csi8bit, override = HostileText.override
        static let isolate = HostileText.isolate, allControls = HostileText.allControls

        static let hostName = "web\(override)1"
        static let package = PendingUpdate(name: "pkg\(title)\(clear)", installedVersion: "1.0\(conceal)\r2.0", availableVersion: "1.1\u{7F}\u{08}",
                                           source: "repo\(clipboard)\(override)", security: true, architecture: "amd64")
        /// A newline and a tab would make a row and a column of their own.
        static let forged = PendingUpdate(name: "fake\nweb9  ok\tx", installedVersion: "1\(isolate)", availableVersion: "2\u{85}\(allControls)",
                                          source: "src", security: false, architecture: "amd64")
        /// Formula triggers in every text column a CSV has.
        static let formula = PendingUpdate(name: "=cmd|'/c calc'!A1", installedVersion: "+1", availableVersion: "-2+3",
                                           source: "@SUM(A1:A9)", security: true, architecture: "amd64")
        static let os = OSInfo(family: .debian, id: "debian", name: "Debian\(conceal)", version: "12\(csi8bit)", codename: "bookworm")

        static func offending(_ text: String) -> [String] { HostileText.offending(text) }
    }

    struct HostileRuns {
        var history: GeneratedHistory
        var firstScan: String
        var secondScan: String
        var exec: String
        var deploy: String
        var inventory: String
    }

    /// Two scans of a hostile host (the second adds hostile findings; a second host fails with
    /// remote text in its error), an exec and a deploy run, an approval request, an exception and a
    /// library entry.
    static func hostile() throws -> HostileRuns {
        typealias H = Hostile
        let history = try fresh()
        let store = history.store
        let plain = update("openssl", "3.0.14-1", "3.0.15-1")
        func scanHost(_ date: Date, _ updates: [PendingUpdate]) -> HostScan {
            HostScan(name: H.hostName, address: "10.0.0.1", port: 22, status: .ok, os: H.os, rebootRequired: false, installedCount: 10,
                     updates: updates, startedAt: date.addingTimeInterval(-2), finishedAt: date)
        }
        let first = try history.scan(at: day(0), [scanHost(day(0), [plain])])
        let second = try history.scan(at: day(1), [
            scanHost(day(1), [plain, H.package, H.forged, H.formula]),
            HostScan(name: "db1", address: "10.0.0.2", port: 22, status: .error, error: "remote said \(H.title)\nweb1: ok",
                     startedAt: day(1).addingTimeInterval(-2), finishedAt: day(1)),
        ])

        let exec = try store.beginRun(kind: .exec, startedAt: day(2), inventory: "inv\(H.title).yml", hostPattern: nil, options: "uptime", version: "test")
        try store.record(runId: exec, hosts: [
            ExecResult(name: H.hostName, address: "10.0.0.1", port: 22, status: .ok, exitCode: 0,
                       stdout: "up \(H.clear)3 days\r\nload\(H.clipboard)\r\n", stderr: "warn\(H.csi8bit)\nlast\rover", durationMs: 5,
                       startedAt: day(2), finishedAt: day(2).addingTimeInterval(1)),
            ExecResult(name: "db1", address: "10.0.0.2", port: 22, status: .unreachable, error: "connect: \(H.title)",
                       startedAt: day(2), finishedAt: day(2).addingTimeInterval(1)),
        ])
        try store.finishRun(runId: exec, finishedAt: day(2).addingTimeInterval(1))

        let deploy = try store.beginRun(kind: .deploy, startedAt: day(3), inventory: "inv.yml", hostPattern: nil, options: nil, version: "test",
                                        policy: "weekly\(H.title)", user: "op\(H.conceal)")
        var host = DeployHostRecord(host: Host(name: H.hostName), status: .failed, ring: "canary\(H.clear)", batch: 1, error: "dpkg said \(H.title)",
                              startedAt: day(3), finishedAt: day(3).addingTimeInterval(10))
        host.os = H.os
        host.planned = [PlannedUpdate(H.package), PlannedUpdate(H.forged)]
        host.installed = [InstalledPackage(name: H.forged.name, fromVersion: H.forged.installedVersion, toVersion: H.forged.availableVersion)]
        host.failed = [FailedPackage(name: H.package.name, fromVersion: H.package.installedVersion, targetVersion: H.package.availableVersion,
                                     actualVersion: "0\(H.csi8bit)", reason: "E: \(H.clipboard)")]
        host.skipped = [SkippedUpdate(name: H.forged.name, version: H.forged.availableVersion, reason: "held\(H.override)", awaitingApproval: true)]
        host.commands = ["apt-get install \(H.title)"]
        host.deferral = "users \(H.conceal) logged in"
        host.repair = "dpkg --configure -a \(H.clear)"
        try store.record(runId: deploy, hosts: [host])
        let report = DeployRunSummary(outcome: .finished, dryRun: false, rings: [
            RingReport(name: "canary\(H.clear)", hosts: 1, failed: 1, state: .ran, note: "soak \(H.title)"),
            RingReport(name: "prod", hosts: 0, failed: 0, state: .waiting),
        ], notes: ["note \(H.title)"])
        try store.finishRun(runId: deploy, finishedAt: day(3).addingTimeInterval(10), report: StoreCodec.encode(report))

        try store.requestApproval(policy: "weekly\(H.title)", package: H.package.name, version: H.package.availableVersion, ring: "canary\(H.clear)",
                                  runId: deploy, at: day(3))
        try store.decide(policy: "weekly\(H.title)", package: H.forged.name, version: "2", state: .rejected, by: "me\(H.csi8bit)",
                         note: "no\(H.clipboard)", at: day(3))
        _ = try store.addException(host: "web\(H.override)*", target: "pkg\(H.title)", until: day(60), reason: "vendor\(H.clipboard)\nfix",
                                   owner: "ops\(H.conceal)", by: "me\(H.csi8bit)", at: day(1))
        let inventory = try history.inventory(["web": [H.hostName], "db": ["db1"]])
        return HostileRuns(history: history, firstScan: first, secondScan: second, exec: exec, deploy: deploy, inventory: inventory)
    }
}
