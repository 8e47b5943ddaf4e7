import Foundation
import GRDB
import LabSupport
import Testing
@testable import PatchCore

/// Where a PostgreSQL history is and how patchctl logs in: the URL, the password's sources, TLS.
@Suite("PostgreSQL history: location and password")
struct PostgresLocationTests {
    @Test func urlsNameUserHostPortDatabaseAndTLS() throws {
        let full = try PostgresLocation(url: "postgresql://patchctl@db.example.net:6432/history?sslmode=verify-ca&sslrootcert=/etc/ssl/ca.pem")
        #expect(full.user == "patchctl" && full.host == "db.example.net" && full.port == 6432 && full.database == "history")
        #expect(full.sslMode == .verifyCA && full.sslRootCert == "/etc/ssl/ca.pem")
        #expect(full.description == "postgres://patchctl@db.example.net:6432/history?sslmode=verify-ca&sslrootcert=/etc/ssl/ca.pem")
        let plain = try PostgresLocation(url: "postgres://ops@[2001:db8::5]/patchctl")
        #expect(plain.host == "2001:db8::5" && plain.port == 5432 && plain.sslMode == .verifyFull)
        #expect(plain.description == "postgres://ops@[2001:db8::5]/patchctl")
        #expect(PostgresLocation.isURL("postgres://a@b/c") && !PostgresLocation.isURL("/var/lib/patchctl/patchctl.db"))
    }

    @Test func aPasswordInTheURLIsRefusedAndNeverRepeated() {
        for url in ["postgres://ops:s3cret@db/history", "postgres://ops@db/history?password=s3cret"] {
            #expect {
                try PostgresLocation(url: url)
            } throws: { error in
                let text = String(describing: error)
                return text.contains("~/.pgpass") && !text.contains("s3cret")
            }
        }
    }

    @Test(arguments: [
        ("postgres://db/history", "name the user"),
        ("postgres://ops@/history", "name the server"),
        ("postgres://ops@db", "name the database"),
        ("postgres://ops@db/history?sslmode=prefer", "prefer and allow"),
        ("postgres://ops@db/history?sslmode=disable&sslrootcert=/ca", "never be checked"),
        ("postgres://ops@db/history?connect_timeout=3", "unknown parameter"),
    ])
    func mistakesAreNamed(url: String, message: String) {
        #expect { try PostgresLocation(url: url) } throws: { String(describing: $0).contains(message) }
    }

    /// The schema is derived from the SQLite migrations, but triggers are written by hand: a
    /// trigger SQLite has and PostgreSQL would lack is refused, not silently dropped.
    @Test func theDerivedSchemaRefusesAnUntranslatedTrigger() throws {
        let queue = try DatabaseQueue()
        try HistoryStore.migrator.migrate(queue)
        #expect(try queue.read { try PostgresSchema(reading: $0) }.tables.contains { $0.name == "runs" })
        try queue.write { try $0.execute(sql: "CREATE TRIGGER runs_touch AFTER UPDATE ON runs BEGIN SELECT 1; END") }
        #expect { try queue.read { try PostgresSchema(reading: $0) } } throws: { String(describing: $0).contains("runs_touch") }
    }

    @Test func passwordFileLinesMatchAsLibpqReadsThem() {
        let file = """
            # comment
            other:5432:*:ops:wrong
            db\\:1:5432:history:ops:escaped\\:colon
            db:*:history:ops:first
            db:5432:history:ops:second
            *:*:*:*:fallback
            """
        #expect(PostgresPassword.find(in: file, host: "db", port: 5432, database: "history", user: "ops") == "first")
        #expect(PostgresPassword.find(in: file, host: "db:1", port: 5432, database: "history", user: "ops") == "escaped:colon")
        #expect(PostgresPassword.find(in: file, host: "x", port: 1, database: "y", user: "z") == "fallback")
        #expect(PostgresPassword.find(in: "db:5432:history:ops", host: "db", port: 5432, database: "history", user: "ops") == nil)
    }
}

@Suite("PostgreSQL history: a real server", .serialized, .enabled(if: PostgresServer.enabled))
struct PostgresConnectionTests {
    @Test func logsInWithAPasswordFileOrCommandOverVerifiedTLS() async throws {
        let server = try await PostgresServer()
        try await server.createDatabase("history")
        let location = try PostgresLocation(url: server.url(database: "history"))

        let viaFile = try await PostgresHistory.connect(location, environment: ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent"])
        let secure = try await viaFile.rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.decode(Bool.self)
        #expect(secure == true)
        await viaFile.close()

        let command = "test \"$PGUSER@$PGHOST:$PGPORT/$PGDATABASE\" = 'patchctl@localhost:\(server.port)/history' && echo '\(server.password)'"
        let viaCommand = try await PostgresHistory.connect(location, environment: ["PATCHCTL_DB_PASSWORD_COMMAND": command, "HOME": "/nonexistent"])
        let name = try await viaCommand.rows("SELECT current_setting('application_name')").first?.decode(String.self)
        #expect(name == "patchctl")
        await viaCommand.close()
    }

    @Test func refusalsSayWhyAndNeverShowThePassword() async throws {
        let server = try await PostgresServer()
        try await server.createDatabase("history")
        func failure(_ url: String, _ environment: [String: String]) async -> String {
            do {
                let history = try await PostgresHistory.connect(try PostgresLocation(url: url), environment: environment)
                await history.close()
                return "connected"
            } catch {
                return String(describing: error)
            }
        }
        let good = ["PGPASSFILE": try server.passwordFile(), "HOME": "/nonexistent"]
        // verify-full checks names: an address is refused before any contact; verify-ca accepts the certificate there.
        let address = await failure(server.url(database: "history", host: "127.0.0.1"), good)
        #expect(address.contains("connect by the name in the server's certificate, or use sslmode=verify-ca"), "\(address)")
        #expect(await failure(server.url(database: "history", host: "127.0.0.1", sslMode: "verify-ca"), good) == "connected")
        let untrusted = await failure(server.url(database: "history", ca: server.otherCAFile), good)
        #expect(untrusted.contains("TLS"), "\(untrusted)")

        let wrong = "wrong-\(UUID().uuidString)"
        let refused = await failure(server.url(database: "history"), ["PATCHCTL_DB_PASSWORD_COMMAND": "echo \(wrong)", "HOME": "/nonexistent"])
        #expect(refused.contains("password authentication failed for user \"patchctl\""), "\(refused)")
        #expect(!refused.contains(wrong) && !refused.contains(server.password))

        let open = await failure(server.url(database: "history"), ["PGPASSFILE": try server.passwordFile(mode: 0o644), "HOME": "/nonexistent"])
        #expect(open.contains("permissions 644"), "\(open)")
        let silent = await failure(server.url(database: "history"), ["PATCHCTL_DB_PASSWORD_COMMAND": "exit 3", "HOME": "/nonexistent"])
        #expect(silent.contains("db_password_command exited 3"), "\(silent)")
    }
}
