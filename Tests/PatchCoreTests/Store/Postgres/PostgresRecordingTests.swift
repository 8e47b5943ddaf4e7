import Foundation
import GRDB
import LabSupport
import Testing
@testable import PatchCore

/// Runs recorded into a PostgreSQL history by the store code that records into SQLite: the same
/// nights give the same history in both, controllers record side by side, and a server that dies
/// mid-run leaves whole batches and a journal that finishes the run.
@Suite("PostgreSQL history: recording", .serialized, .enabled(if: PostgresServer.enabled))
struct PostgresRecordingTests {
    typealias G = GeneratedHistory

    /// A server with an empty database, the environment to reach it (password file; state folder
    /// for the journal in a temporary folder) and its URL.
    static func server() async throws -> (PostgresServer, [String: String], String) {
        let server = try await PostgresServer()
        try await server.createDatabase("fleet")
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-pgstate-\(UUID().uuidString)").path
        let environment = ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent", "XDG_STATE_HOME": state, "STATE_DIRECTORY": state]
        return (server, environment, server.url(database: "fleet"))
    }

    static func store(_ url: String, _ environment: [String: String], controller: RunController = .thisMachine) async throws -> HistoryStore {
        try await HistoryStore.open(recording: url, controller: controller, environment: environment)
    }

    /// Blocking store calls on a thread of their own, so two controllers really run at once.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Run ids (start time plus random bits) masked, for comparing histories recorded separately.
    static func masked(_ text: String) -> String {
        text.replacingOccurrences(of: #"\d{8}T\d{6}Z-[0-9a-f]{6}"#, with: "RUN", options: .regularExpression)
    }

    static func count(_ store: HistoryStore, _ table: String) throws -> Int {
        try store.rows("SELECT COUNT(*) AS n FROM \(table)").first?["n"] ?? -1
    }

    /// The same report from both stores, as JSON, the database's name aside.
    static func reports(_ kind: ComplianceRequest.Kind, asOf: Date, controller: String? = nil, sqlite: HistoryStore,
                        postgres: HistoryStore) throws -> (String, String) {
        let request = ComplianceRequest(kind: kind, database: sqlite.path, asOf: asOf, since: "30d", controller: controller)
        let mine = try ComplianceReport.build(request, store: sqlite)
        var theirs = try ComplianceReport.build(request, store: postgres)
        #expect(theirs.hosts.count > 0)
        // Read in batches of two hosts (ranges in the server's collation), the same report.
        var batched = request
        batched.hostBatch = 2
        #expect(try json(ComplianceReport.build(batched, store: postgres)) == json(theirs), "\(kind) in batches")
        theirs.evidence.database = mine.evidence.database
        theirs.evidence.command = mine.evidence.command
        return (try json(mine), try json(theirs))
    }

    /// A report's JSON with its evidence's run lists sorted: runs that start in the same second
    /// (one night's deployments) are listed by id, which differs between two recordings.
    static func evidenceSorted(_ text: String) throws -> String {
        var document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        var evidence = try #require(document["evidence"] as? [String: Any])
        for key in ["runs", "state_runs"] { evidence[key] = (evidence[key] as? [String])?.sorted() }
        document["evidence"] = evidence
        return String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func theSameNightsGiveTheSameHistoryInBothStores() async throws {
        let (server, environment, url) = try await Self.server()
        _ = server
        let sqlite = try G.fresh()
        let postgres = G(store: try await Self.store(url, environment), folder: sqlite.folder)
        #expect(postgres.store.isPostgres)
        let nights = FindingIntervalsTests.nights(12, hosts: 6, seed: 21)
        let at = G.day(20)
        let output = "tab\there\nback\\slash \\N é 😀\r\n"
        for history in [sqlite, postgres] {
            _ = try FindingIntervalsTests.record(nights, into: history)
            let id = try history.store.beginRun(kind: .exec, startedAt: at, inventory: "inv.yml", hostPattern: nil, options: "uname -a", version: "test")
            try history.store.record(runId: id, hosts: [ExecResult(name: "host1", address: "192.0.2.10", port: 22, status: .ok, exitCode: 0,
                                                                   stdout: output, stderr: "", durationMs: 12, startedAt: at, finishedAt: at.addingTimeInterval(1))])
            try history.store.finishRun(runId: id, finishedAt: at.addingTimeInterval(2))
        }

        // Run by run, as `history` and `history show` read them, each SQLite run paired with its PostgreSQL twin
        // (runs that start together, such as one night's deployments, told apart by their hosts).
        func documents(_ store: HistoryStore) throws -> [(run: RunListing, document: String)] {
            try store.runs(limit: 1000).map { run in
                switch run.kind {
                case .exec: (run, try Self.json(try store.execRun(id: run.runId)))
                case .deploy: (run, try Self.json(try store.deployRunReport(id: run.runId)))
                default: (run, try Self.json(try store.run(id: run.runId)))
                }
            }.sorted { ($0.run.startedAt, Self.masked($0.document)) < ($1.run.startedAt, Self.masked($1.document)) }
        }
        let runs = try documents(sqlite.store)
        let twins = try documents(postgres.store)
        #expect(runs.count == twins.count && runs.count > 12)
        for (run, twin) in zip(runs, twins) {
            #expect(run.document.replacingOccurrences(of: run.run.runId, with: twin.run.runId) == twin.document, "\(run.run.kind) \(run.run.runId)")
            var listed = run.run
            listed.runId = twin.run.runId
            #expect(listed == twin.run)
        }
        // The compliance family of reports reads both stores alike, as of several moments.
        let rename = Dictionary(zip(runs, twins).map { ($0.run.runId, $1.run.runId) }, uniquingKeysWith: { first, _ in first })
        for day in [3.0, 8.5, 11.9] {
            for kind in [ComplianceRequest.Kind.compliance, .hosts, .trend] {
                let (mine, theirs) = try Self.reports(kind, asOf: G.day(day, hour: 20), sqlite: sqlite.store, postgres: postgres.store)
                #expect(try Self.evidenceSorted(rename.reduce(mine) { $0.replacingOccurrences(of: $1.key, with: $1.value) }) == Self.evidenceSorted(theirs),
                        "\(kind) day \(day)")
            }
        }
        // The CVE exposures (`report cves`), `diff` and the metrics read both stores alike.
        func renamedExposure(_ exposure: HistoryStore.CVEExposure) -> HistoryStore.CVEExposure {
            var copy = exposure
            copy.runId = rename[copy.runId] ?? copy.runId
            copy.firstRun = rename[copy.firstRun] ?? copy.firstRun
            return copy
        }
        let (exposures, twinExposures) = (try sqlite.store.cveExposures(), try postgres.store.cveExposures())
        #expect(!exposures.isEmpty && exposures.map(renamedExposure) == twinExposures)
        let early = try #require(runs.first { $0.run.kind == .scan }?.run.runId)
        for (since, twinSince) in [("last", "last"), (early, rename[early] ?? "")] {
            let mine = try Self.json(FindingsDiff.build(store: sqlite.store, since: since, environment: [:]))
            let theirs = try Self.json(FindingsDiff.build(store: postgres.store, since: twinSince, environment: [:]))
            #expect(rename.reduce(mine) { $0.replacingOccurrences(of: $1.key, with: $1.value) } == theirs, "diff --since \(since)")
        }
        let metrics = MetricsRequest(database: sqlite.store.path, at: G.day(11, hour: 20))
        // One night's deployments start in the same second, one run per host: which is "the latest
        // deploy" is then decided by their random ids, so its lines are left out of the comparison.
        func unambiguous(_ text: String) -> String {
            text.split(separator: "\n").filter { !$0.contains("kind=\"deploy\"") }.joined(separator: "\n")
        }
        let exposition = unambiguous(try MetricsReport.build(metrics, store: sqlite.store).exposition())
        let twinExposition = unambiguous(try MetricsReport.build(metrics, store: postgres.store).exposition())
        #expect(exposition.contains("kind=\"scan\"") && rename.reduce(exposition) { $0.replacingOccurrences(of: $1.key, with: $1.value) } == twinExposition)

        // The stored intervals themselves: as many, opened and closed at the same sightings for the same reasons.
        for table in ["finding_intervals", "cve_lists", "unfixed_cve_intervals", "scan_hosts", "run_hosts", "deploy_packages", "command_results"] {
            #expect(try Self.count(sqlite.store, table) == Self.count(postgres.store, table), "\(table)")
        }
        let closings = "SELECT host, package, architecture, first_seq, last_seq, closed_seq, closed_reason FROM finding_intervals ORDER BY 1, 2, 3, 4"
        // By column name: a PostgreSQL row's columns come in no particular order.
        func named(_ rows: [Row]) -> [[String: DatabaseValue]] { rows.map { Dictionary($0.map { ($0, $1) }, uniquingKeysWith: { first, _ in first }) } }
        #expect(named(try sqlite.store.rows(closings)) == named(try postgres.store.rows(closings)))
        // Pruning cuts both alike: the same runs, intervals and events go, the cut is an event, and a
        // report reaching before it says so.
        var pruned = try sqlite.store.prune(before: G.day(4), dryRun: false, user: "tester", now: G.day(12))
        let twinPruned = try postgres.store.prune(before: G.day(4), dryRun: false, user: "tester", now: G.day(12))
        pruned.bytesFreed = 0
        #expect(pruned == twinPruned && pruned.runs >= 4 && pruned.findingIntervals > 0)
        #expect(Set(try sqlite.store.runs(limit: 1000).map { rename[$0.runId] ?? $0.runId }) == Set(try postgres.store.runs(limit: 1000).map(\.runId)))
        #expect(try postgres.store.retentionWarnings(periodFrom: G.day(1)) == sqlite.store.retentionWarnings(periodFrom: G.day(1)))
        #expect(try !postgres.store.retentionWarnings(periodFrom: G.day(1)).isEmpty)
        #expect(try postgres.store.events(limit: 5).first?.action == .historyPrune)

        // Exec output arrives byte for byte.
        let stored = try await server.admin("SELECT encode(convert_to(stdout, 'UTF8'), 'hex') FROM command_results", database: "fleet")
        #expect(stored.trimmingCharacters(in: .whitespacesAndNewlines) == Data(output.utf8).map { String(format: "%02x", $0) }.joined())
    }

    @Test func twoControllersRecordSideBySideIntoOneHistory() async throws {
        let (server, environment, url) = try await Self.server()
        _ = server
        let dmz = try await Self.store(url, environment, controller: RunController(host: "ctl-a", name: "dmz"))
        let office = try await Self.store(url, environment, controller: RunController(host: "ctl-b", name: "office"))
        let nights = FindingIntervalsTests.nights(8, hosts: 6, seed: 5)
        let shards: [(HistoryStore, Set<String>)] = [(dmz, ["host1", "host3", "host5"]), (office, ["host2", "host4", "host6"])]
        // Each controller scans its shard night by night, both at once; and both scan `shared` at once, many times.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (store, hosts) in shards {
                group.addTask {
                    try await Self.onThread {
                        let history = G(store: store, folder: FileManager.default.temporaryDirectory)
                        for (index, night) in nights.enumerated() {
                            try history.scan(at: G.day(Double(index)), night.scans.filter { hosts.contains($0.name) })
                            try history.scan(at: G.day(Double(index), hour: 3), [G.host("shared", at: G.day(Double(index), hour: 3))])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        // The shared host's scans took distinct sequence numbers, 1 to 16, whichever controller came first.
        let sequence = try dmz.rows("SELECT scan_seq FROM run_hosts WHERE host = 'shared' ORDER BY scan_seq").map { $0["scan_seq"] as Int }
        #expect(sequence == Array(1...16))
        #expect(try dmz.rows("SELECT last_seq FROM scan_hosts WHERE host = 'shared'").first?["last_seq"] == 16)

        // Each shard's hosts read back as a single controller recording every host into SQLite records them.
        let sqlite = try G.fresh()
        for (index, night) in nights.enumerated() { try sqlite.scan(at: G.day(Double(index)), night.scans) }
        let expected = try sqlite.store.runs(limit: 100).reversed().map { try sqlite.store.run(id: $0.runId) }
        let recorded = try dmz.runs(limit: 100)
        #expect(Set(recorded.compactMap(\.controller)) == ["dmz", "office"])
        #expect(try dmz.runs(limit: 100, controller: "office").count == 16)
        // One compliance report over both controllers: each shard's hosts judged as the single controller's history judges them.
        let request = ComplianceRequest(kind: .compliance, database: dmz.path, asOf: G.day(7, hour: 20), since: "30d")
        let shared = try ComplianceReport.build(request, store: dmz)
        let single = try ComplianceReport.build(request, store: sqlite.store)
        #expect(shared.hosts.map(\.name) == single.hosts.map(\.name) + ["shared"] || Set(shared.hosts.map(\.name)) == Set(single.hosts.map(\.name) + ["shared"]))
        for host in single.hosts {
            let other = shared.hosts.first { $0.name == host.name }
            #expect(Self.masked(try Self.json(other)) == Self.masked(try Self.json(host)), "\(host.name)")
        }
        // And one controller's: its shard, plus the host both scanned.
        let dmzOnly = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: dmz.path, asOf: G.day(7, hour: 20), since: "30d",
                                                                   controller: "dmz"), store: dmz)
        #expect(Set(dmzOnly.hosts.filter { $0.lastScan != nil }.map(\.name)) == ["host1", "host3", "host5", "shared"])

        let scans = try recorded.reversed().map { try dmz.run(id: $0.runId) }
        for (index, night) in expected.enumerated() {
            for host in night.hosts {
                let seen = scans.filter { $0.startedAt == night.startedAt }.flatMap(\.hosts).filter { $0.name == host.name }
                #expect(seen.count == 1, "\(host.name) night \(index)")
                #expect(Self.masked(try Self.json(seen)) == Self.masked(try Self.json([host])), "\(host.name) night \(index)")
            }
        }
    }

    @Test func theServerDyingMidRunLeavesWholeBatchesAndTheJournalFinishesTheRun() async throws {
        let (server, environment, url) = try await Self.server()
        let store = try await Self.store(url, environment, controller: RunController(host: "ctl-a", name: "dmz"))
        let nights = FindingIntervalsTests.nights(1, hosts: 6, seed: 9)
        let scans = nights[0].scans
        let id = try store.beginRun(kind: .scan, startedAt: G.day(0), inventory: "inv.yml", hostPattern: nil, options: nil, version: "test")
        let recorder = RunRecorder<HostScan>(store: store, runId: id, batchSize: 2, flushInterval: 3600)
        recorder.add(scans[0])
        recorder.add(scans[1])
        try recorder.flush()
        try await server.kill()
        for scan in scans[2...] { recorder.add(scan) }
        #expect(throws: HistoryWriteFailure.self) { try recorder.finish(at: G.day(0, hour: 3)) }
        let journal = store.journalPath
        #expect(journal.hasPrefix(environment["XDG_STATE_HOME"]!) && FileManager.default.fileExists(atPath: journal), "\(journal)")
        #expect(recorder.journal.written == 5, "four hosts and the run's end")

        try await server.restart()
        // Only the batch written before the kill is there, whole; the run still reads as running.
        #expect(try await server.admin("SELECT COUNT(*) FROM run_hosts", database: "fleet").hasPrefix("2"))
        #expect(try await server.admin("SELECT state FROM runs", database: "fleet").hasPrefix("running"))
        // A reader on this controller is told of the records waiting in its journal, and leaves them there.
        #expect(try await HistoryStore.open(reading: url, environment: environment).pendingJournal == journal)
        // The next recording open on this controller imports the journal: the run is whole, and says it was not written normally.
        let reopened = try await Self.store(url, environment)
        #expect(reopened.recoveredRuns == [id])
        #expect(!FileManager.default.fileExists(atPath: journal))
        let listed = try #require(try reopened.runs(limit: 5).first)
        #expect(listed.state == .incomplete && listed.hosts == 6 && listed.controller == "dmz")
        let expected = scans.map(FindingIntervalsTests.normalized)
        let stored = try reopened.run(id: id).hosts.map(FindingIntervalsTests.normalized)
        #expect(Self.masked(try Self.json(stored.sorted { $0.name < $1.name })) == Self.masked(try Self.json(expected.sorted { $0.name < $1.name })))
    }

    @Test func aDatabaseWithSomeoneElsesTablesIsLeftAlone() async throws {
        let (server, environment, url) = try await Self.server()
        try await server.admin("CREATE TABLE runs (id INT PRIMARY KEY, owner TEXT)", database: "fleet")
        await #expect { try await Self.store(url, environment) } throws: {
            String(describing: $0).contains("already has tables patchctl would use (runs): refusing to add patchctl's schema")
        }
        // Nothing was added or altered: no patchctl table, and the other program's table as it was.
        let tables = try await server.admin("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'",
                                            database: "fleet")
        #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "runs")
        let columns = try await server.admin("SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'runs'",
                                             database: "fleet")
        #expect(columns.trimmingCharacters(in: .whitespacesAndNewlines) == "id,owner")
    }

    @Test func aServerThatStopsAnsweringFailsTheRequestInsteadOfHanging() async throws {
        let (server, environment, url) = try await Self.server()
        _ = server
        let postgres = try await PostgresHistory.connect(try PostgresLocation(url: url), environment: environment, requestTimeout: 2)
        let pid: Int = try #require(try postgres.rows("SELECT pg_backend_pid() AS pid", []).first?["pid"])
        // The server process serving this connection stops, as a partitioned network would look: no answer, no close.
        #expect(kill(pid_t(pid), SIGSTOP) == 0)
        #expect { try postgres.rows("SELECT 1", []) } throws: { String(describing: $0).contains("the server gave no answer in 2 s") }
        // The connection was given up: what follows fails at once (and a recorder turns to its journal).
        #expect { try postgres.rows("SELECT 1", []) } throws: { String(describing: $0).contains("closed the connection") }
        kill(pid_t(pid), SIGCONT)
        await postgres.close()
    }
}

@Suite("run_hosts writes")
struct RunHostColumnsTests {
    /// `putRunHost` resets the columns it is not given, as INSERT OR REPLACE did: its list must be the table's.
    @Test func theListedColumnsAreTheTables() throws {
        let queue = try DatabaseQueue()
        try HistoryStore.migrator.migrate(queue)
        let columns = try queue.read { db in try db.columns(in: "run_hosts").map(\.name) }
        #expect(columns == HistoryStore.runHostColumns)
    }
}
