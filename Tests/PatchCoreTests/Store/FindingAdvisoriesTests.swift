import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Issue 13: a finding's vendor advisory ids are a field of their own (`advisories`), filled by
/// the RHEL-family and SUSE parsers from real recorded output, kept in history (migration v11,
/// which fills the intervals stored before it from their `source`), and printed by `history show`.
@Suite("Finding advisories", .serialized)
struct FindingAdvisoriesTests {
    typealias G = GeneratedHistory
    static let lab = RhelPlatformTests.lab

    /// The lab's Rocky 9 scan, as recorded from real dnf.
    static func rockyFindings() throws -> ScanFindings {
        try RhelPlatformTests.platform().parseScan(RhelPlatformTests.scanOutput(
            checkUpdate: try Fixture.text(lab + "dnf-check-update.txt"), checkUpdateExit: 100,
            updateInfo: try Fixture.text(lab + "dnf-updateinfo-list-available.txt"),
            rpm: try Fixture.text(lab + "rpm-qa.txt"), reboot: try Fixture.text(lab + "needs-restarting-none.txt")))
    }

    @Test(arguments: StoreKind.all) func historyKeepsAndShowsEachFindingsAdvisories(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let updates = try Self.rockyFindings().updates
        #expect(updates.map(\.advisories) == [["PLSA-2025:0003", "PLSA-2025:0001"], [], ["PLBA-2025:0002"]])
        let runId = try history.scan(at: G.day(0), [G.host("rocky", at: G.day(0), updates)])
        let stored = try history.store.run(id: runId)
        #expect(stored.hosts.first?.updates.map(\.advisories) == updates.map(\.advisories))
        // What `history show RUN --output json` prints.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(JSONOutput.encode(stored, pretty: true).utf8)) as? [String: Any])
        let printed = try #require(((document["hosts"] as? [[String: Any]])?.first?["updates"] as? [[String: Any]]))
        #expect(printed.map { $0["advisories"] as? [String] } == [["PLSA-2025:0003", "PLSA-2025:0001"], [], ["PLBA-2025:0002"]])
        // An unchanged second scan keeps them (the interval only moves).
        let again = try history.scan(at: G.day(1), [G.host("rocky", at: G.day(1), updates)])
        #expect(try history.store.run(id: again).hosts.first?.updates.map(\.advisories) == updates.map(\.advisories))
    }

    /// A history written before v11 (findings as v10 stored them, advisories only in `source`)
    /// reads back with its advisories once opened.
    @Test func migrationV11FillsStoredFindingsFromTheirSource() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-v11-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("history.db").path
        let updates = try Self.rockyFindings().updates
        let runId = "20260101T020000Z-abcdef"
        let at = G.day(0)
        do {
            let pool = try DatabasePool(path: path)
            try HistoryStore.migrator.migrate(pool, upTo: "v10: findings as intervals")
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO runs (id, kind, started_at, finished_at, state) VALUES (?, 'scan', ?, ?, 'finished');
                    INSERT INTO run_hosts (run_id, host, address, port, status, started_at, finished_at, scan_seq, updates_count, security_count)
                        VALUES (?, 'rocky', '127.0.0.1', 22, 'ok', ?, ?, 1, 3, 1);
                    INSERT INTO scan_hosts (host, last_seq, last_run, last_at) VALUES ('rocky', 1, ?, ?);
                    """, arguments: [runId, at, at, runId, at, at, runId, at])
                for update in updates {
                    // v10's columns: no advisories.
                    try db.execute(sql: """
                        INSERT INTO finding_intervals (host, package, architecture, installed_version, available_version, source, security, severity,
                            first_seq, last_seq, first_run, last_run, first_at, last_at, version_first_run, version_first_at, version_first_security)
                        VALUES ('rocky', ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [update.name, update.architecture ?? "", update.installedVersion, update.availableVersion, update.source,
                                         update.security, update.severity, runId, runId, at, at, runId, at, update.security])
                }
            }
        }
        let store = try HistoryStore(path: path)
        let read = try store.run(id: runId).hosts.first?.updates.sorted { $0.name < $1.name }
        #expect(read?.map(\.advisories) == updates.sorted { $0.name < $1.name }.map(\.advisories))
        #expect(read?.first { $0.name == "patchlab-openssl-lib" }?.advisories == ["PLSA-2025:0003", "PLSA-2025:0001"])
    }

    @Test func legacySourcesNameTheirAdvisoriesAndNothingElse() throws {
        #expect(AdvisoryIDs.inLegacySource("ALSA-2025:23700, ALSA-2025:22790 (appstream)") == ["ALSA-2025:23700", "ALSA-2025:22790"])
        #expect(AdvisoryIDs.inLegacySource("FEDORA-2025-1a2b3c4d5e (updates)") == ["FEDORA-2025-1a2b3c4d5e"])
        #expect(AdvisoryIDs.inLegacySource("SLE-Module-Basesystem15-SP5-Updates, patch:SUSE-SLE-Module-Basesystem-15-SP5-2023-4176")
            == ["SUSE-SLE-Module-Basesystem-15-SP5-2023-4176"])
        #expect(AdvisoryIDs.inLegacySource("Debian-Security:12/oldstable-security") == [])
        #expect(AdvisoryIDs.inLegacySource("patchlab-appstream") == [])
        #expect(AdvisoryIDs.inLegacySource("my repo (mirror)") == [], "a repository name in brackets is no advisory")
        // A record stored before the field decodes with its advisories.
        let old = #"{"name":"a","installed_version":"1","available_version":"2","source":"RHSA-2025:1 (baseos)","security":true}"#
        let decoded = try JSONDecoder().decode(PendingUpdate.self, from: Data(old.utf8))
        #expect(decoded.advisories == ["RHSA-2025:1"])
    }

    /// Apt rates nothing and names no advisory: the keys are still there, null and [].
    @Test func everyDocumentedKeyIsPresentForADebianFinding() throws {
        let update = PendingUpdate(name: "libssl3", installedVersion: "1", availableVersion: "2", source: "Debian-Security:12/oldstable-security",
                                   security: true)
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(JSONOutput.encode(update, pretty: false).utf8)) as? [String: Any])
        #expect(Set(printed.keys) == ["name", "installed_version", "available_version", "source", "security", "architecture", "severity",
                                      "advisories", "cves"])
        #expect(printed["severity"] is NSNull && printed["architecture"] is NSNull && (printed["advisories"] as? [Any])?.isEmpty == true)
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(JSONOutput.encode(PlannedUpdate(update), pretty: false).utf8)) as? [String: Any])
        #expect(planned["severity"] is NSNull && (planned["advisories"] as? [Any])?.isEmpty == true, "\(planned)")
        let os = try #require(try JSONSerialization.jsonObject(with: Data(JSONOutput.encode(OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"), pretty: false).utf8)) as? [String: Any])
        #expect(os["codename"] is NSNull && os["kernel"] is NSNull && os["architecture"] is NSNull, "\(os)")
    }
}
