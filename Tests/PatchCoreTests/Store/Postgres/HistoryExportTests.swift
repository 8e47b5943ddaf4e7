import Foundation
import GRDB
import LabSupport
import Testing
@testable import PatchCore

/// `history export --to postgres://`: a SQLite history copied into a real PostgreSQL server,
/// proven equal, all or nothing.
@Suite("PostgreSQL history: export", .serialized, .enabled(if: PostgresServer.enabled))
struct HistoryExportTests {
    typealias G = GeneratedHistory

    /// The report fleet, twenty generated nights of eight hosts (deployments, CVEs, failed contacts),
    /// an exec run whose output has every character COPY must escape, and a controller's name.
    static func history() throws -> GeneratedHistory {
        let (history, _, _) = try G.fleet()
        _ = try FindingIntervalsTests.record(FindingIntervalsTests.nights(20, hosts: 8, seed: 15), into: history)
        let named = try HistoryStore(path: history.store.path, controller: RunController(host: "ctl-a", name: "dmz"))
        let at = G.day(30)
        let id = try named.beginRun(kind: .exec, startedAt: at, inventory: "inv.yml", hostPattern: nil, options: "uname -a", version: "test")
        try named.record(runId: id, hosts: [ExecResult(name: "web1", address: "192.0.2.10", port: 22, status: .ok, exitCode: 0,
                                                       stdout: "tab\there\nback\\slash \\N é 😀\r\n", stderr: "", durationMs: 12,
                                                       startedAt: at, finishedAt: at.addingTimeInterval(1))])
        try named.finishRun(runId: id, finishedAt: at.addingTimeInterval(2))
        return history
    }

    /// A server of its own with an empty database `history`, its password file, and the URL to it.
    static func server() async throws -> (PostgresServer, [String: String], PostgresLocation) {
        let server = try await PostgresServer()
        try await server.createDatabase("history")
        return (server, ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent"], try PostgresLocation(url: server.url(database: "history")))
    }

    static func sqliteCount(_ path: String, _ table: String) throws -> Int {
        try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") ?? -1 }
    }

    @Test func everyTableArrivesExactlyAndOnlyOnce() async throws {
        let (server, environment, location) = try await Self.server()
        let source = try Self.history()
        let summary = try await PostgresHistory.with(location, environment: environment) { target in
            try await HistoryExport.run(source: source.store.path, to: target, user: "tester")
        }

        // Every table of the schema, counted as SQLite counts it; checked again here through psql, not patchctl.
        #expect(summary.tables.map(\.table).sorted() == PostgresSchema.current.tables.map(\.name).sorted())
        for copy in summary.tables {
            #expect(copy.rows == (try Self.sqliteCount(source.store.path, copy.table)), "\(copy.table)")
            let counted = try await server.admin("SELECT COUNT(*) FROM \"\(copy.table)\"", database: "history")
            #expect(counted.trimmingCharacters(in: .whitespacesAndNewlines) == String(copy.rows + (copy.table == "events" ? 1 : 0)), "\(copy.table)")
        }
        #expect(summary.runs > 20 && summary.tables.first { $0.table == "finding_intervals" }!.rows > 50)
        // Values that COPY escapes, dates as GRDB writes them, the controller, the export's own event.
        let stdout = try await server.admin("SELECT encode(convert_to(stdout, 'UTF8'), 'hex') FROM command_results", database: "history")
        #expect(stdout.trimmingCharacters(in: .whitespacesAndNewlines) == Data("tab\there\nback\\slash \\N é 😀\r\n".utf8).map { String(format: "%02x", $0) }.joined())
        let run = try await server.admin("SELECT controller || ' ' || controller_host || ' ' || started_at FROM runs WHERE kind = 'exec'", database: "history")
        #expect(run.trimmingCharacters(in: .whitespacesAndNewlines) == "dmz ctl-a 2026-01-31 02:00:00.000")
        let event = try await server.admin("SELECT \"user\" || ' ' || action FROM events WHERE action = 'history-export'", database: "history")
        #expect(event.trimmingCharacters(in: .whitespacesAndNewlines) == "tester history-export")
        // Identity columns continue after the copied rows.
        let next = try await server.admin("INSERT INTO compliance_exceptions (host, target, until, reason, owner, created_by, created_at) "
                                          + "VALUES ('h', 't', 'u', 'r', 'o', 'c', 'a') RETURNING id", database: "history")
        #expect(Int(next.trimmingCharacters(in: .whitespacesAndNewlines)) == (try Self.sqliteCount(source.store.path, "compliance_exceptions")) + 1)

        // Same columns, in both stores, for every table.
        let columns = try await server.admin("""
            SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public'
            AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
                               AND table_name <> 'patchctl_migrations') ORDER BY 1
            """, database: "history")
        let sqliteColumns = try await DatabaseQueue(path: source.store.path).read { db in
            try PostgresSchema.current.tables.flatMap { table in
                try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table.name]).map { table.name + "." + $0 }
            }
        }
        #expect(columns.split(separator: "\n").map(String.init) == sqliteColumns.sorted())

        // The copied tables have planner statistics (ANALYZE after the commit): reltuples is -1 until a table is analyzed.
        let analyzed = try await server.admin("SELECT reltuples FROM pg_class WHERE relname = 'run_hosts'", database: "history")
        #expect((Double(analyzed.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1) > 0, "\(analyzed)")
        // Runs keep their stored summaries (the triggers are for recording, not for copying).
        #expect(try await server.admin("SELECT COUNT(*) FROM runs WHERE host_count IS NULL", database: "history").hasPrefix("0"))
        // Read back through patchctl's own reading queries: both stores answer alike, run by run.
        let sqlite = source.store
        let runs = try sqlite.runs(limit: 1000)
        let events = try sqlite.events(limit: 1000)
        try await PostgresHistory.with(location, environment: environment) { target in
            let view = try await target.view()
            #expect(try view.runs(limit: 1000) == runs)
            #expect(try view.runs(limit: 1000, controller: "dmz").map(\.runId) == runs.filter { $0.controller == "dmz" }.map(\.runId))
            // PostgreSQL has the export's own event besides.
            #expect(try view.events(limit: 1000).filter { $0.action != .historyExport } == events)
            #expect(try view.events(limit: 5, host: "db1") == sqlite.events(limit: 5, host: "db1"))
            for run in runs {
                switch run.kind {
                case .exec: #expect(try view.execRun(id: run.runId) == sqlite.execRun(id: run.runId))
                case .deploy, .plan, .install, .installPlan: #expect(try view.deployRunReport(id: run.runId) == sqlite.deployRunReport(id: run.runId))
                default: #expect(try view.run(id: run.runId) == sqlite.run(id: run.runId), "\(run.runId)")
                }
            }
            #expect(try view.resolveRun(String(runs[0].runId.prefix(17))).id == runs[0].runId)
            #expect(throws: PatchError.self) { try view.resolveRun("1999") }
        }

        // Once only: a second export into the same history is refused and changes nothing.
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { again in
                try await HistoryExport.run(source: source.store.path, to: again, user: "tester")
            }
        } throws: {
            String(describing: $0).contains("already holds \(summary.runs) runs")
        }
        // A history with records still in its journal is not exported as if it were whole.
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: HistoryJournal.path(forDatabase: source.store.path)))
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { again in
                try await HistoryExport.run(source: source.store.path, to: again, user: "tester")
            }
        } throws: {
            String(describing: $0).contains("holds records the database could not take yet")
        }
    }

    /// The library's files, beside the SQLite history, arrive in the PostgreSQL history: a controller
    /// with none of them installs from there. A file missing or changed beside the source is refused.
    @Test func theLibrarysFilesTravelWithTheHistory() async throws {
        let (server, environment, location) = try await Self.server()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("export-library-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let source = PackageRepository(store: try HistoryStore(path: folder.appendingPathComponent("db/history.db").path))
        let payload = try TestPackages.randomText(bytes: 3 * PackageRepository.partSize / 2)
        let big = try await TestPackages.deb("big-agent", version: "1.0", in: folder, payload: payload)
        let small = try await TestPackages.deb("small-agent", version: "1.0", in: folder)
        let (bigRecord, _) = try await source.add(.init(path: big), by: "alice", at: Date())
        let (smallRecord, _) = try await source.add(.init(path: small), by: "alice", at: Date())
        // The same installer under two names: one copy of its bytes.
        let msi = folder.appendingPathComponent("Agent.msi")
        try Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 7, count: 600)).write(to: msi)
        var msiRecord: PackageRecord?
        for name in ["agent", "agent-dup"] {
            msiRecord = try await source.add(.init(path: msi.path, name: name, version: "1.0", platform: .windows), by: "alice", at: Date()).record
        }
        let parts = { (record: PackageRecord) in (Int(record.size ?? 0) + PackageRepository.partSize - 1) / PackageRepository.partSize }

        // A file gone from beside the source: refused, naming the package, and nothing committed.
        let smallPath = source.filePath(sha256: try #require(smallRecord.sha256))
        let kept = folder.appendingPathComponent("kept").path
        try FileManager.default.moveItem(atPath: smallPath, toPath: kept)
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: source.store.path, to: target, user: "tester")
            }
        } throws: { "\($0)".contains("small-agent@1.0 is missing") }
        #expect(try await server.admin("SELECT COUNT(*) FROM packages", database: "history").hasPrefix("0"))
        try FileManager.default.moveItem(atPath: kept, toPath: smallPath)

        let summary = try await PostgresHistory.with(location, environment: environment) { target in
            try await HistoryExport.run(source: source.store.path, to: target, user: "tester")
        }
        #expect(summary.tables.first { $0.table == "package_files" }?.rows == parts(bigRecord) + parts(smallRecord) + 1)
        #expect(summary.tables.first { $0.table == "packages" }?.rows == 4)

        // A controller of its own, with an empty folder: fetches each file from the history, byte for byte.
        var elsewhere = environment
        elsewhere["STATE_DIRECTORY"] = folder.appendingPathComponent("elsewhere").path
        let target = PackageRepository(store: try await HistoryStore.open(recording: server.url(database: "history"), environment: elsewhere))
        #expect(target.root != source.root)
        for (record, file) in [(bigRecord, big), (smallRecord, small), (try #require(msiRecord), msi.path)] {
            let found = try #require(try target.find(name: record.name, version: record.version).first)
            #expect(FileManager.default.contentsEqual(atPath: try target.localFile(found), andPath: file), "\(record.reference)")
        }
    }

    /// A second controller's SQLite history merged into one that holds the first's: every run of
    /// each reads back as in its own file (interval ids moved past the target's), once only; a
    /// history sharing a scanned host, or merged twice, is refused with nothing written.
    @Test func aSecondHistoryMergesIntoOneThatHoldsTheFirsts() async throws {
        let (server, environment, location) = try await Self.server()
        let first = try Self.history()
        let second = try G.fresh()
        var nights = FindingIntervalsTests.nights(12, hosts: 5, seed: 77)
        for index in nights.indices {
            for scan in nights[index].scans.indices { nights[index].scans[scan].name = "office-" + nights[index].scans[scan].name }
            for deploy in nights[index].deploys.indices { nights[index].deploys[deploy].host = "office-" + nights[index].deploys[deploy].host }
        }
        _ = try FindingIntervalsTests.record(nights, into: second)
        _ = try second.store.addException(host: "office-host1", target: "openssl", until: G.day(60), reason: "vendor fix pending", owner: "ops",
                                          by: "alice", at: G.day(3))
        try await PostgresHistory.with(location, environment: environment) { target in
            _ = try await HistoryExport.run(source: first.store.path, to: target, user: "tester")
        }
        let intervalsBefore = try await server.admin("SELECT COUNT(*) FROM finding_intervals", database: "history")

        // Without --merge: refused, as before.
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: second.store.path, to: target, user: "tester")
            }
        } throws: { "\($0)".contains("--merge adds it to one that holds another's") }

        let summary = try await PostgresHistory.with(location, environment: environment) { target in
            try await HistoryExport.run(source: second.store.path, to: target, user: "tester", merge: true)
        }
        let secondRuns = try second.store.runs(limit: 1000).count
        #expect(summary.merged && summary.runs == secondRuns)
        let intervals = try Self.sqliteCount(first.store.path, "finding_intervals") + (try Self.sqliteCount(second.store.path, "finding_intervals"))
        #expect(try await server.admin("SELECT COUNT(*) FROM finding_intervals", database: "history").trimmingCharacters(in: .whitespacesAndNewlines)
                == String(intervals), "before the merge: \(intervalsBefore)")

        // Each run reads back as its own history has it; the events and exceptions of both are there.
        try await PostgresHistory.with(location, environment: environment) { target in
            let view = try await target.view()
            for sqlite in [first.store, second.store] {
                for run in try sqlite.runs(limit: 1000) {
                    switch run.kind {
                    case .exec: #expect(try view.execRun(id: run.runId) == sqlite.execRun(id: run.runId))
                    case .deploy, .plan, .install, .installPlan: #expect(try view.deployRunReport(id: run.runId) == sqlite.deployRunReport(id: run.runId))
                    default: #expect(try view.run(id: run.runId) == sqlite.run(id: run.runId), "\(run.runId)")
                    }
                }
            }
            let events = try view.events(limit: 10_000).filter { $0.action != .historyExport }
            let both = try first.store.events(limit: 10_000).count + second.store.events(limit: 10_000).count
            #expect(events.count == both)
        }
        // Versions the fleet has seen: one row each, both histories'. The target's count as seen before any run
        // (a run recording into it meanwhile may reach the merged hosts); the merged history's keep their runs.
        var versions = try FindingVersionsTests.versions(second.store)
        let firstVersions = try FindingVersionsTests.versions(first.store)
        #expect(!firstVersions.values.contains("") && !Set(firstVersions.keys).isDisjoint(with: versions.keys), "both held some")
        for version in firstVersions.keys { versions[version] = "" }
        let merged = try await HistoryStore.open(recording: location.description, environment: environment.merging(["XDG_STATE_HOME": NSTemporaryDirectory()]) { $1 })
        #expect(try FindingVersionsTests.versions(merged) == versions)
        let exceptions = try await server.admin("SELECT COUNT(*) FROM compliance_exceptions WHERE host = 'office-host1'", database: "history")
        #expect(exceptions.trimmingCharacters(in: .whitespacesAndNewlines) == "1")

        // Twice: refused. A history that scanned one of the same hosts: refused, naming it; nothing changes.
        let runs = try await server.admin("SELECT COUNT(*) FROM runs", database: "history")
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: second.store.path, to: target, user: "tester", merge: true)
            }
        } throws: { "\($0)".contains("it was exported or merged there before") }
        let overlapping = try G.fresh()
        try overlapping.scan(at: G.day(10, hour: 9), [G.host("host3", at: G.day(10, hour: 9), [G.update("zlib1g", "1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1+deb12u1")])])
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: overlapping.store.path, to: target, user: "tester", merge: true)
            }
        } throws: { "\($0)".contains("both histories scanned host3 between") && "\($0)".contains("not interleaved") }
        #expect(try await server.admin("SELECT COUNT(*) FROM runs", database: "history") == runs)
    }

    /// What a history answers (`HistoryAnswers`: every scan run, the CVE exposures, a compliance
    /// report) and what it holds of each host's scans (every column of the intervals but their ids, the
    /// hosts' sequences), as text with each run id's random part left out: histories recorded apart
    /// draw their own.
    static func answers(_ store: HistoryStore) throws -> String {
        let ids = try store.runs(limit: 1000).filter { $0.kind == .scan }.map(\.runId).sorted()
        let answers = try HistoryAnswers(store, location: "history", runs: ids)
        var text = try JSONOutput.encode(answers.runs, pretty: true) + "\n" + answers.exposures.map { withoutRandom("\($0)") }.sorted().joined(separator: "\n") + "\n" + answers.report
        let intervals = "host, first_seq, last_seq, closed_seq, closed_reason, first_run, first_at, identity_key"
        for (table, columns) in [("finding_intervals", intervals + ", package, architecture, installed_version, available_version, source, security, severity, "
                                    + "cves_digest, version_first_run, version_first_at, version_first_security, advisories"),
                                 ("unfixed_cve_intervals", intervals + ", cve, source_package, package, packages, severity, vendor_severity, cvss, kev, "
                                    + "fixed_version, feed"),
                                 ("run_hosts", "run_id, host, scan_seq"), ("scan_hosts", "host, last_seq, last_run, last_at, open_digest, prior_digest")] {
            // By name: a PostgreSQL row's columns come in no particular order.
            let names = columns.components(separatedBy: ", ")
            let rows = try store.reading { db in try db.rows("SELECT \(columns) FROM \(table)", []) }
            text += "\n" + rows.map { row in withoutRandom(names.map { "\(row[$0] as DatabaseValue)" }.joined(separator: " | ")) }.sorted().joined(separator: "\n")
        }
        return withoutRandom(text)
    }

    static func withoutRandom(_ text: String) -> String {
        text.replacingOccurrences(of: #"(\d{8}T\d{6}Z)-[0-9a-f]{6}"#, with: "$1", options: .regularExpression)
    }

    /// Hosts one controller scanned for nine nights and another from then on (a handover): merged in
    /// either order, the history answers as one that scanned them all along does. Findings open at
    /// the handover go on or close for the reason recording gives, first sightings carry over, and
    /// the merged history records on. Scans that interleave, or of a host the other history retired
    /// since, are refused with nothing written.
    @Test func hostsHandedOverBetweenControllersMergeIntoOneSequenceOfScans() async throws {
        let server = try await PostgresServer()
        let environment = ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent", "XDG_STATE_HOME": NSTemporaryDirectory()]
        var nights = FindingIntervalsTests.nights(21, hosts: 6, seed: 7)
        let last = nights.removeLast()
        // From the handover on, host1's unfixed CVEs are gone, and the feed changed the others' KEV flag: the
        // unfixed CVEs open at the handover are resolved or superseded there.
        for night in 9..<nights.count {
            for scan in nights[night].scans.indices {
                nights[night].scans[scan].unfixedCVEs = nights[night].scans[scan].name == "host1" ? []
                    : nights[night].scans[scan].unfixedCVEs.map { cve in
                        var changed = cve
                        changed.kev.toggle()
                        return changed
                    }
            }
        }
        let whole = try G.fresh(), earlier = try G.fresh(), later = try G.fresh()
        _ = try FindingIntervalsTests.record(nights, into: whole)
        _ = try FindingIntervalsTests.record(nights[..<9], into: earlier)
        _ = try FindingIntervalsTests.record(nights[9...], into: later, fromDay: 9)
        let expected = try Self.answers(whole.store)
        #expect(try Self.sqliteCount(later.store.path, "scan_hosts") == 6)
        _ = try FindingIntervalsTests.record([last], into: whole, fromDay: 20)
        let expectedOn = try Self.answers(whole.store)

        for (name, first, second) in [("earlier-first", earlier, later), ("later-first", later, earlier)] {
            try await server.createDatabase(name.replacingOccurrences(of: "-", with: "_"))
            let location = try PostgresLocation(url: server.url(database: name.replacingOccurrences(of: "-", with: "_")))
            let summary = try await PostgresHistory.with(location, environment: environment) { target in
                _ = try await HistoryExport.run(source: first.store.path, to: target, user: "tester")
                return try await HistoryExport.run(source: second.store.path, to: target, user: "tester", merge: true)
            }
            #expect(summary.notes.contains { $0.hasPrefix("hosts both histories scanned: 6") }, "\(name): \(summary.notes)")
            let merged = try await HistoryStore.open(recording: location.description, environment: environment)
            #expect(try Self.answers(merged) == expected, "\(name)")
            // It records on as the one history does: the next night's changes are judged against the handover's end.
            _ = try FindingIntervalsTests.record([last], into: G(store: merged, folder: whole.folder), fromDay: 20)
            #expect(try Self.answers(merged) == expectedOn, "\(name), recording on")
        }

        // A history whose scans of host2 fall between two of the target's: refused, nothing written.
        try await server.createDatabase("interleaved")
        let location = try PostgresLocation(url: server.url(database: "interleaved"))
        let between = try G.fresh()
        try between.scan(at: G.day(4, hour: 9), [G.host("host2", at: G.day(4, hour: 9))])
        try await PostgresHistory.with(location, environment: environment) { target in
            _ = try await HistoryExport.run(source: earlier.store.path, to: target, user: "tester")
        }
        let runs = try await server.admin("SELECT COUNT(*) FROM runs", database: "interleaved")
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: between.store.path, to: target, user: "tester", merge: true)
            }
        } throws: { "\($0)".contains("both histories scanned host2 between") }
        // A host the target retired, scanned by the merged history since: refused, naming the step that ends it.
        let retiring = try await HistoryStore.open(recording: location.description, environment: environment)
        _ = try retiring.retire(hosts: ["host3"], reason: "left", by: "alice", at: G.day(9, hour: 6))
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: later.store.path, to: target, user: "tester", merge: true)
            }
        } throws: { "\($0)".contains("patchctl hosts unretire host3") }
        #expect(try await server.admin("SELECT COUNT(*) FROM runs", database: "interleaved") == runs)
    }

    /// A history that pruned every scan of its hosts still numbered them: the later history's scans
    /// follow that count, ordered by the last scan its `scan_hosts` remembers.
    @Test func hostsWhoseEarlierScansWerePrunedAreHandedOverAfterThem() async throws {
        let server = try await PostgresServer()
        try await server.createDatabase("history")
        let location = try PostgresLocation(url: server.url(database: "history"))
        let environment = ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent", "XDG_STATE_HOME": NSTemporaryDirectory()]
        let nights = FindingIntervalsTests.nights(12, hosts: 4, seed: 5)
        let earlier = try G.fresh(), later = try G.fresh()
        _ = try FindingIntervalsTests.record(nights[..<6], into: earlier)
        let ids = try FindingIntervalsTests.record(nights[6...], into: later, fromDay: 6)
        let counted = try earlier.store.rows("SELECT host, last_seq FROM scan_hosts")
        _ = try earlier.store.prune(before: G.day(6), dryRun: false, user: "tester")
        #expect(try Self.sqliteCount(earlier.store.path, "run_hosts") == 0 && (try Self.sqliteCount(earlier.store.path, "scan_hosts")) == 4)
        let summary = try await PostgresHistory.with(location, environment: environment) { target in
            _ = try await HistoryExport.run(source: earlier.store.path, to: target, user: "tester")
            return try await HistoryExport.run(source: later.store.path, to: target, user: "tester", merge: true)
        }
        #expect(summary.notes.contains { $0.hasPrefix("hosts both histories scanned: 4") })
        let merged = try await HistoryStore.open(recording: location.description, environment: environment)
        for id in ids { #expect(try merged.run(id: id) == later.store.run(id: id), "\(id)") }
        let before = Dictionary(uniqueKeysWithValues: counted.map { ($0["host"] as String, $0["last_seq"] as Int64) })
        let own = try later.store.rows("SELECT host, last_seq FROM scan_hosts")
        for row in try merged.rows("SELECT host, last_seq FROM scan_hosts") {
            let host: String = row["host"]
            #expect(row["last_seq"] as Int64 == before[host]! + (own.first { $0["host"] as String == host }?["last_seq"] as Int64? ?? -1), "\(host)")
        }
    }

    @Test func theServerDyingMidwayLeavesNothingWrittenAndTheExportCanBeRepeated() async throws {
        let (server, environment, location) = try await Self.server()
        let source = try Self.history()
        // Killed when runs, run_hosts and more are already copied inside the open transaction.
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { target in
                try await HistoryExport.run(source: source.store.path, to: target, user: "tester") { table, _, _ in
                    if table == "finding_intervals" { try await server.kill() }
                }
            }
        } throws: { error in
            String(describing: error).contains("history database postgres://patchctl@localhost")
        }
        try await server.restart()
        #expect(try await server.admin("SELECT COUNT(*) FROM runs", database: "history").hasPrefix("0"))
        #expect(try await server.admin("SELECT COUNT(*) FROM run_hosts", database: "history").hasPrefix("0"))

        let summary = try await PostgresHistory.with(location, environment: environment) { retry in
            try await HistoryExport.run(source: source.store.path, to: retry, user: "tester")
        }
        #expect(summary.runs == (try Self.sqliteCount(source.store.path, "runs")))
    }

    @Test func controllersStartingTogetherCreateTheSchemaOnce() async throws {
        let (server, environment, location) = try await Self.server()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await PostgresHistory.with(location, environment: environment) { try await $0.migrate() }
                }
            }
            try await group.waitForAll()
        }
        let applied = try await server.admin("SELECT COUNT(*), COUNT(DISTINCT identifier) FROM patchctl_migrations", database: "history")
        let count = PostgresSchema.current.migrations.count
        #expect(applied.trimmingCharacters(in: .whitespacesAndNewlines) == "\(count)|\(count)")
        // A history a newer patchctl migrated is refused, not written to.
        try await server.admin("INSERT INTO patchctl_migrations VALUES ('v99: from the future', 'x')", database: "history")
        await #expect {
            try await PostgresHistory.with(location, environment: environment) { try await $0.migrate() }
        } throws: { String(describing: $0).contains("written by a newer patchctl") }
    }

    /// Takes `name` in a task of its own; returns once it is held, with the task and what ends the holding.
    static func hold(_ name: String, in history: PostgresHistory) async -> (task: Task<Void, any Error>, release: AsyncStream<Void>.Continuation) {
        let (inside, release) = AsyncStream<Void>.makeStream()
        let (entered, signal) = AsyncStream<Void>.makeStream()
        let task = Task {
            try await history.withLock(name, wait: nil) {
                signal.yield()
                for await _ in inside { break }
            }
        }
        for await _ in entered { break }
        return (task, release)
    }

    @Test func theLockNamesItsHolderAndGoesWithItsSession() async throws {
        let (server, environment, plain) = try await Self.server()
        let named = try PostgresLocation(url: server.url(database: "history") + "&application_name=patchctl-dmz")
        let lock = "deploy linux-security"
        try await PostgresHistory.with(named, environment: environment) { holder in
            try await PostgresHistory.with(plain, environment: environment) { other in
                let holding = await Self.hold(lock, in: holder)
                await #expect { try await other.withLock(lock, wait: nil) {} } throws: { error in
                    guard case let PatchError.locked(name, text) = error else { return false }
                    return name == lock && text.contains("held by patchctl-dmz from 127.0.0.1")
                }
                holding.release.yield()
                try await holding.task.value
                try await other.withLock(lock, wait: nil) {}

                // A session that ends while holding the lock (a controller killed mid-deploy) leaves it free.
                let crashing = await Self.hold(lock, in: holder)
                try await server.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'patchctl-dmz'")
                try await other.withLock(lock, wait: 30) {}
                crashing.task.cancel()
            }
        }
    }

    @Test func theDigestIgnoresOrderAndSeesEveryChange() {
        func digest(_ rows: [[CopyValue]]) -> RowDigest {
            var total = RowDigest()
            for row in rows {
                var hasher = RowDigest.Row()
                for value in row { hasher.add(value) }
                total.add(hasher)
            }
            return total
        }
        let rows: [[CopyValue]] = [[.integer(1), .text("a"), .null], [.integer(2), .text("b"), .boolean(true)], [.integer(3), .real(0.1), .blob([0, 1])]]
        #expect(digest(rows) == digest(rows.reversed()))
        #expect(digest(rows) != digest(Array(rows.dropLast())))
        #expect(digest(rows) != digest([[.integer(1), .text("a"), .text("")]] + rows.dropFirst()))
        #expect(digest([[.text("ab"), .text("c")]]) != digest([[.text("a"), .text("bc")]]))
        #expect(digest([[.null]]) != digest([[.text("")]]))
    }
}
