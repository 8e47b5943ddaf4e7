import Foundation
import LabSupport
import PatchCore
import Testing

/// `patchctl history export --to postgres://…` as an operator runs it, against a real server.
@Suite("history export (binary)", .serialized, .enabled(if: PostgresServer.enabled))
struct HistoryExportCommandTests {
    /// A small history written through the store, as scan writes it, by a named controller.
    static func history(host: String = "db1") throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-export-\(UUID().uuidString).db").path
        let store = try HistoryStore(path: path, controller: RunController(host: "ctl-b", name: "office"))
        let at = Date(timeIntervalSince1970: 1_790_000_000)
        let id = try store.beginRun(kind: .scan, startedAt: at, inventory: "lab.yml", hostPattern: nil, options: nil, version: "test")
        let update = PendingUpdate(name: "openssl", installedVersion: "3.0.11-1~deb12u1", availableVersion: "3.0.15-1~deb12u1",
                                   source: "Debian-Security:12/oldstable-security", security: true, architecture: "amd64")
        try store.record(runId: id, hosts: [HostScan(name: host, address: "192.0.2.7", port: 22, status: .ok, error: nil,
                                                     os: OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12"),
                                                     rebootRequired: false, rebootPackages: [], installedCount: 300, updates: [update],
                                                     startedAt: at, finishedAt: at.addingTimeInterval(1))])
        try store.finishRun(runId: id, finishedAt: at.addingTimeInterval(2))
        return path
    }

    static func firstRun(_ db: String) throws -> String {
        try HistoryStore(readOnly: db).runs(limit: 1)[0].runId
    }

    @Test func exportsOnceVerifiedAndSaysWhyItRefuses() async throws {
        let server = try await PostgresServer()
        try await server.createDatabase("fleet")
        let db = try Self.history()
        let environment = ["PGPASSFILE": try server.passwordFile()]
        let url = server.url(database: "fleet")

        let json = try CLI.run(["history", "export", "--db", db, "--to", url, "--output", "json"], environment: environment)
        #expect(json.status == 0, "\(json.stderr)")
        JSONSchema.validate(json.stdout, schema: "history-export")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(document["runs"] as? Int == 1)
        #expect((document["target"] as? String)?.hasPrefix("postgres://patchctl@localhost:\(server.port)/fleet") == true)
        let seen = try await server.admin("SELECT r.controller || ' ' || h.host || ' ' || i.package FROM runs r JOIN run_hosts h ON h.run_id = r.id "
                                          + "JOIN finding_intervals i ON i.host = h.host", database: "fleet")
        #expect(seen.trimmingCharacters(in: .whitespacesAndNewlines) == "office db1 openssl")

        // Again: refused (exit 1, a store error), nothing added.
        let again = try CLI.run(["history", "export", "--db", db, "--to", url], environment: environment)
        #expect(again.status == 1 && again.stderr.contains("already holds 1 runs") && again.stderr.contains("--merge"), "\(again.stderr)")
        #expect(try await server.admin("SELECT COUNT(*) FROM runs", database: "fleet").hasPrefix("1"))
        // With --merge as well: the same runs are there already, so still refused.
        let twice = try CLI.run(["history", "export", "--db", db, "--to", url, "--merge"], environment: environment)
        #expect(twice.status == 1 && twice.stderr.contains("it was exported or merged there before"), "\(twice.stderr)")

        // The table form, into another database: every table and the line saying it was verified.
        try await server.createDatabase("second")
        let table = try CLI.run(["history", "export", "--db", db, "--to", server.url(database: "second")], environment: environment)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("finding_intervals") && table.stdout.contains("1 run exported from \(db)"))
        #expect(table.stdout.contains("every table read back and matched before commit"))
        // Another controller's history, of another host, into that one: merged, and said so.
        let other = try Self.history(host: "db2")
        let merged = try CLI.run(["history", "export", "--db", other, "--to", server.url(database: "second"), "--merge"], environment: environment)
        #expect(merged.status == 0 && merged.stdout.contains("1 run merged from \(other)"), "\(merged.stdout)\(merged.stderr)")
        #expect(try await server.admin("SELECT COUNT(*) FROM runs", database: "second").hasPrefix("2"))

        // Usage errors (64) never echo a password; --db takes no URL yet and says what to do.
        let secret = try CLI.run(["history", "export", "--db", db, "--to", "postgres://patchctl:hunter2@localhost/fleet"], environment: environment)
        #expect(secret.status == 64 && secret.stderr.contains("~/.pgpass") && !secret.stderr.contains("hunter2"), "\(secret.stderr)")
        // history, history show and history events read the PostgreSQL history as they read the file.
        for arguments in [["history"], ["history", "show", try Self.firstRun(db)]] {
            let fromFile = try CLI.run(arguments + ["--db", db, "--output", "json"], environment: environment)
            let fromServer = try CLI.run(arguments + ["--db", url, "--output", "json"], environment: environment)
            #expect(fromServer.status == 0 && fromServer.stdout == fromFile.stdout, "\(arguments): \(fromServer.stderr)")
        }
        JSONSchema.validate(try CLI.run(["history", "--db", url, "--output", "json"], environment: environment).stdout, schema: "history-list")
        let events = try CLI.run(["history", "events", "--db", url], environment: environment)
        #expect(events.status == 0 && events.stdout.contains("history-export") && events.stdout.contains("1 runs from \(db)"), "\(events.stderr)")
        // The compliance report reads it as it reads the file.
        let fromFile = try CLI.run(["report", "compliance", "--db", db, "--format", "json", "--as-of", "2026-09-30"], environment: environment)
        let fromServer = try CLI.run(["report", "compliance", "--db", url, "--format", "json", "--as-of", "2026-09-30"], environment: environment)
        // The same document, but for the database it names.
        func withoutDatabase(_ text: String) throws -> String {
            var document = try CLI.json(text)
            var evidence = try #require(document["evidence"] as? [String: Any])
            #expect((evidence["database"] as? String).map { $0 == url || $0 == db } == true)
            evidence["database"] = nil
            evidence["command"] = nil
            document["evidence"] = evidence
            return String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]), as: UTF8.self)
        }
        let (serverDocument, fileDocument) = (try withoutDatabase(fromServer.stdout), try withoutDatabase(fromFile.stdout))
        #expect(fromServer.status == fromFile.status && serverDocument == fileDocument, "\(fromServer.stderr)")
        // Feeds: none came with this history; `advisories status` says so, as for a file.
        let report = try CLI.run(["advisories", "status", "--db", url], environment: environment)
        #expect(report.status == 0 && report.stdout == "no advisory feeds synced yet\n", "\(report.stderr)")
        let unreachable = try CLI.run(["history", "export", "--db", db, "--to", "postgres://patchctl@localhost:1/fleet"], environment: environment)
        #expect(unreachable.status == 1 && unreachable.stderr.contains("cannot connect"), "\(unreachable.stderr)")
    }
}
