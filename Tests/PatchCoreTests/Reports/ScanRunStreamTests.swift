import Foundation
import Testing
@testable import PatchCore

/// `history show` of a scan run is read and written a batch of hosts at a time. What it prints must be
/// what the run read whole printed: the same bytes in every format, on both stores.
@Suite("history show, a batch of hosts at a time")
struct ScanRunStreamTests {
    typealias G = GeneratedHistory

    /// Hosts of every shape a run holds: findings with CVE lists and advisories, unfixed CVEs, a
    /// failed contact, a reboot, names that need escaping in JSON and neutralising in a table,
    /// and hosts that started at the same moment (listed by name).
    static func hosts(_ count: Int, at date: Date) -> [HostScan] {
        (0..<count).map { index in
            let name = index == 5 ? "odd\u{1b}[31m\"name\\\(index)" : String(format: "host-%04d", (index * 7919) % count)
            let updates = (0..<(index % 4)).map { n in
                var update = PendingUpdate(name: "pkg\(n)", installedVersion: "1.\(n)", availableVersion: "1.\(n + 1)", source: "Debian:12/stable-security",
                                           security: n % 2 == 0, architecture: n == 2 ? nil : "amd64", severity: n == 1 ? "important" : nil,
                                           advisories: n == 0 ? ["DSA-\(5000 + index)-1"] : [])
                if n == 0 {
                    // In id order, as the store lists them.
                    update.cves = [CVEReference(id: "CVE-2025-0007", severity: .medium, fixedVersion: "1.1", source: "debian-tracker"),
                                   CVEReference(id: "CVE-2026-\(1000 + index % 9)", severity: .high, kev: index % 3 == 0, fixedVersion: "1.1", source: "debian-tracker")]
                }
                return update
            }
            let status: HostStatus = index % 11 == 3 ? .unreachable : .ok
            var scan = G.host(name, at: date.addingTimeInterval(Double(index % 3)), updates, status: status, reboot: index % 5 == 1)
            if status == .ok && index % 4 == 2 {
                scan.unfixedCVEs = [UnfixedCVE(id: "CVE-2025-\(index % 6)", package: "libfoo1", packages: ["libfoo1", "libfoo-dev"], source: "foo",
                                               severity: .medium, vendorSeverity: "medium", cvss: 5.5, kev: false, fixedVersion: nil, feed: "debian-tracker")]
            }
            return scan
        }
    }

    /// What each format printed from the run read whole.
    static func whole(_ run: ScanRun, _ format: OutputFormat, details: Bool) throws -> String {
        switch format {
        case .json: return try JSONOutput.encode(run, pretty: true) + "\n"
        case .ndjson: return try run.hosts.map { try JSONOutput.encode(RunLine(runId: run.runId, item: $0), pretty: false) + "\n" }.joined()
        case .table: return TableReport.scan(run, details: details)
        }
    }

    static func streamed(_ store: HistoryStore, _ id: String, _ format: OutputFormat, details: Bool, batch: Int) throws -> (text: String, pieces: Int) {
        var text = "", pieces = 0
        try store.withView { view in
            try ScanRunStream(view, id: id, batch: batch).render(format, details: details) {
                text += $0
                pieces += 1
            }
        }
        return (text, pieces)
    }

    @Test(arguments: StoreKind.all) func everyFormatPrintsWhatTheWholeRunPrinted(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        // Two nights, so that the second run's findings are intervals that reach back into the first.
        try history.scan(at: G.day(0), Self.hosts(610, at: G.day(0)))
        let recorded = Self.hosts(610, at: G.day(1))
        let id = try history.scan(at: G.day(1), recorded)
        let run = try made.store.run(id: id)
        // Read in batches (`ScanRunOutline.batch`, 250), the run holds every host as it was recorded, in the order they started, then by name.
        let order = recorded.sorted { ($0.startedAt, $0.name) < ($1.startedAt, $1.name) }
        #expect(run.hosts.map(\.name) == order.map(\.name))
        #expect(run.hosts == order)
        for format in OutputFormat.allCases {
            for details in [true, false] where details || format == .table {
                let expected = try Self.whole(run, format, details: details)
                for batch in [7, 250, 1000] {
                    let (text, pieces) = try Self.streamed(made.store, String(id.prefix(22)), format, details: details, batch: batch)
                    #expect(text == expected, "\(format), details \(details), batch \(batch)")
                    if format != .table { #expect(pieces > 1) }
                }
            }
        }
    }

    /// A run that recorded no host yet (begun, not finished): an empty array and no finish time, as before.
    @Test(arguments: StoreKind.all) func aRunWithoutHostsPrintsAsBefore(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let id = try made.store.beginRun(kind: .scan, startedAt: G.day(0), inventory: "inventory.yml", hostPattern: nil, options: nil, version: "test")
        let run = try made.store.run(id: id)
        #expect(run.hosts.isEmpty && run.finishedAt == nil)
        for format in OutputFormat.allCases {
            #expect(try Self.streamed(made.store, id, format, details: true, batch: 3).text == (try Self.whole(run, format, details: true)), "\(format)")
        }
        #expect(try Self.streamed(made.store, id, .json, details: true, batch: 3).text.contains("\"hosts\" : [\n\n  ]"))
    }
}
