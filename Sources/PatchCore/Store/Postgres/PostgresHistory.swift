import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import PatchSSH
import PostgresNIO

/// One connection to a PostgreSQL history. Locks that must hold across controllers are
/// PostgreSQL advisory locks, held by this connection's session: they go when it ends, however
/// it ends (a controller that dies mid-run never leaves a lock behind).
public final class PostgresHistory: Sendable {
    public let location: PostgresLocation
    let connection: PostgresConnection
    let logger: Logger
    /// Held by a synchronous transaction (`transaction`) and by each synchronous query outside one,
    /// so that the recorder's transaction and a reader on another thread never interleave on the
    /// one connection.
    let exclusive = NIOLock()
    /// How long one synchronous request may wait for the server's answer (seconds).
    let requestTimeout: Int64

    init(location: PostgresLocation, connection: PostgresConnection, logger: Logger, requestTimeout: Int64 = 300) {
        self.location = location
        self.connection = connection
        self.logger = logger
        self.requestTimeout = requestTimeout
    }

    /// Connects (TLS as `location.sslMode` says, the password from `PostgresPassword`) within `timeout` seconds.
    public static func connect(_ location: PostgresLocation, environment: [String: String], timeout: Int64 = 15, requestTimeout: Int64 = 300,
                               logger: Logger = Logger(label: "patchctl.postgres", factory: { _ in SwiftLogNoOpLogHandler() })) async throws -> PostgresHistory {
        if location.sslMode == .verifyFull && isAddress(location.host) {
            throw PatchError.store(path: location.description, message: "sslmode=verify-full checks the server's name, and patchctl's TLS "
                                   + "checks host names only, not addresses: connect by the name in the server's certificate, or use sslmode=verify-ca")
        }
        let password = try PostgresPassword.lookup(for: location, environment: environment)
        var configuration = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user, password: password,
                                                             database: location.database, tls: try tls(location))
        configuration.options.connectTimeout = .seconds(timeout)
        configuration.options.additionalStartupParameters = [("application_name", location.applicationName)]
        // SNI and the name checked (verify-full) are the host as written; verify-ca and require connect to addresses too.
        configuration.options.tlsServerName = Self.isAddress(location.host) ? nil : location.host
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            return PostgresHistory(location: location, connection: connection, logger: logger, requestTimeout: requestTimeout)
        } catch {
            throw PatchError.store(path: location.description, message: "cannot connect: " + Self.explain(error))
        }
    }

    /// Connects, runs `body`, and closes the connection however `body` ends.
    public static func with<T: Sendable>(_ location: PostgresLocation, environment: [String: String],
                                         _ body: (PostgresHistory) async throws -> T) async throws -> T {
        let history = try await connect(location, environment: environment)
        do {
            let result = try await body(history)
            await history.close()
            return result
        } catch {
            await history.close()
            throw error
        }
    }

    static func tls(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        guard location.sslMode != .disable else { return .disable }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .require, .disable: tls.certificateVerification = .none
        }
        if let root = location.sslRootCert {
            guard FileManager.default.isReadableFile(atPath: root) else {
                throw PatchError.store(path: location.description, message: "sslrootcert \(root): no such readable file")
            }
            tls.trustRoots = .file(root)
        }
        do {
            return .require(try NIOSSLContext(configuration: tls))
        } catch {
            throw PatchError.store(path: location.description, message: "TLS: \(error)")
        }
    }

    static func isAddress(_ host: String) -> Bool {
        PortProbe.socketAddress(host) != nil
    }

    /// What went wrong, in the server's words where it said something: PSQLError's own
    /// description is deliberately empty, and its debug one carries the query's values.
    static func explain(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            return explain(transaction.closureError ?? transaction.commitError ?? transaction.beginError ?? transaction.rollbackError ?? error)
        }
        guard let psql = error as? PSQLError else { return TerminalText.neutralised(String(describing: error)) }
        if let info = psql.serverInfo, let message = info[.message] {
            var text = message
            if let detail = info[.detail] { text += " (\(detail))" }
            if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
            return TerminalText.neutralised(text)
        }
        switch psql.code {
        case .serverClosedConnection, .uncleanShutdown, .clientClosedConnection: return "the server closed the connection"
        default: break
        }
        if let underlying = psql.underlying {
            if underlying is PSQLError { return explain(underlying) }
            if underlying is NIOSSLError || underlying is NIOSSLExtraError || underlying is BoringSSLError {
                return "TLS: " + TerminalText.neutralised(String(describing: underlying))
            }
            return TerminalText.neutralised(String(describing: underlying))
        }
        switch psql.code {
        case .sslUnsupported: return "the server does not offer TLS (use sslmode=disable only where that is acceptable)"
        default: return psql.code.description
        }
    }

    public func close() async {
        try? await connection.close()
    }

    /// Starts closing without waiting (a store's deinit); the connection is kept until it has closed.
    func closeNow() {
        let connection = self.connection
        let closing: EventLoopFuture<Void> = connection.close()
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// Runs statements that return nothing.
    func execute(_ sql: String) async throws {
        let logger = self.logger
        try await guarded { connection in _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
    }

    /// A query's rows, all of them (for small results).
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await guarded { connection in
            var collected: [PostgresRow] = []
            for try await row in try await connection.query(query, logger: logger) { collected.append(row) }
            return collected
        }
    }

    /// What a request gets when the connection closed under it.
    var closedError: PatchError { PatchError.store(path: location.description, message: "the server closed the connection") }

    /// Any error of a request as patchctl reports it: the history named, the server's words
    /// (`explain`), after `context` ("copying runs") when given.
    func storeError(_ error: any Error, context: String? = nil) -> PatchError {
        if let error = error as? PatchError { return error }
        return PatchError.store(path: location.description, message: (context.map { $0 + ": " } ?? "") + Self.explain(error))
    }

    /// Runs `body` on the connection unless the connection closes first. postgres-nio drops a
    /// request written to a connection that is already gone (its promise or continuation is never
    /// completed), so a query after the server died would wait forever: here the connection's
    /// closing ends the wait with an error instead, and the stranded request is left behind.
    /// Errors come out as `storeError`.
    func guarded<T: Sendable>(context: String? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let connection = self.connection
        let closed = closedError
        guard !connection.isClosed else { throw closed }
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let once = ResumeOnce(continuation)
                Task {
                    do { once.resume(.success(try await body(connection))) } catch { once.resume(.failure(error)) }
                }
                connection.closeFuture.whenComplete { _ in once.resume(.failure(closed)) }
            }
        } catch {
            throw storeError(error, context: context)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws
    /// (a connection that died took its transaction with it).
    func inTransaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await execute("BEGIN")
        do {
            let result = try await body()
            try await execute("COMMIT")
            return result
        } catch {
            try? await execute("ROLLBACK")
            throw error
        }
    }

    /// `COPY table (columns) FROM STDIN`, fed by `write`.
    func copy(into table: String, columns: [String], _ write: @escaping @Sendable (PostgresCopyFromWriter) async throws -> Void) async throws {
        let logger = self.logger
        try await guarded(context: "copying \(table)") { connection in
            try await connection.copyFrom(table: table, columns: columns, logger: logger, writeData: write)
        }
    }

    /// The advisory lock key of a name: the first 8 bytes of SHA-256("patchctl\0" + name), so keys of
    /// other applications on the same server are unlikely to collide.
    static func lockKey(_ name: String) -> Int64 {
        let digest = SHA256.hash(data: Data(("patchctl\u{0}" + name).utf8))
        return digest.withUnsafeBytes { bytes in bytes.prefix(8).reduce(Int64(0)) { ($0 << 8) | Int64($1) } }
    }

    /// Holds the advisory lock `name` for the length of `body`: waits for it up to `wait` seconds,
    /// or with `wait` nil fails at once when another session holds it. The error names the
    /// holder's application name and client address, from pg_stat_activity.
    func withLock<T: Sendable>(_ name: String, wait: Int?, _ body: () async throws -> T) async throws -> T {
        let key = Self.lockKey(name)
        if let wait {
            try await execute("SET lock_timeout = '\(wait)s'")
            do {
                _ = try await rows("SELECT pg_advisory_lock(\(key))")
                try await execute("SET lock_timeout = 0")
            } catch {
                try? await execute("SET lock_timeout = 0")
                throw PatchError.store(path: location.description, message: "waited \(wait) s for the lock '\(name)': " + (try await holder(of: key)))
            }
        } else {
            let taken = try await rows("SELECT pg_try_advisory_lock(\(key))").first?.decode(Bool.self) ?? false
            guard taken else {
                throw PatchError.locked(policy: name, holder: try await holder(of: key))
            }
        }
        do {
            let result = try await body()
            _ = try await rows("SELECT pg_advisory_unlock(\(key))")
            return result
        } catch {
            // The session may be gone with the lock; only a live one is unlocked.
            _ = try? await rows("SELECT pg_advisory_unlock(\(key))")
            throw error
        }
    }

    /// Who holds the advisory lock `key`, as far as the server tells.
    func holder(of key: Int64) async throws -> String {
        let rows = try await rows(PostgresQuery(unsafeSQL: Self.holderSQL(key)))
        guard let row = rows.first else { return "held by another session" }
        let (application, client, pid, since) = try row.decode((String, String, Int32, String).self)
        return Self.holderDescription(application: application, client: client, pid: Int(pid), since: since)
    }

    /// The session holding advisory lock `key`: its application name, client address, pid and start.
    static func holderSQL(_ key: Int64) -> String {
        let high = Int64(Int32(truncatingIfNeeded: key >> 32)), low = Int64(Int32(truncatingIfNeeded: key))
        return """
            SELECT a.application_name AS application, COALESCE(host(a.client_addr), 'local') AS client, a.pid AS pid, a.backend_start::text AS since
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = \(Int64(UInt32(truncatingIfNeeded: high))) AND l.objid::bigint = \(Int64(UInt32(truncatingIfNeeded: low)))
            """
    }

    static func holderDescription(application: String, client: String, pid: Int, since: String) -> String {
        "held by \(TerminalText.neutralised(application)) from \(client) (server pid \(pid), connected \(since))"
    }

    /// Takes the advisory lock `name` at once, for as long as this session lasts or until `unlock`;
    /// held elsewhere, `PatchError.locked(policy:)` names the holder. Synchronous, as the store's
    /// other calls are. Returns the lock's key.
    func tryLock(_ name: String, policy: String) throws -> Int64 {
        let key = Self.lockKey(name)
        let taken: Bool = try rows("SELECT pg_try_advisory_lock(\(key)) AS taken", []).first?["taken"] ?? false
        guard taken else {
            let holder = try rows(Self.holderSQL(key), []).first.map { row in
                Self.holderDescription(application: row["application"], client: row["client"], pid: row["pid"], since: row["since"])
            }
            throw PatchError.locked(policy: policy, holder: holder ?? "held by another session")
        }
        return key
    }

    /// Gives back an advisory lock `tryLock` took (nothing to do when the session is gone: so is the lock).
    func unlock(_ key: Int64) {
        _ = try? rows("SELECT pg_advisory_unlock(\(key))", [])
    }

    /// Brings the database to this patchctl's schema, under the advisory lock `migrations` so
    /// that controllers starting together never race on it. Refuses a database whose migrations
    /// this version does not know (a newer patchctl wrote them).
    public func migrate() async throws {
        let schema = PostgresSchema.current
        try await withLock("migrations", wait: 60) {
            try await refuseForeignTables(schema)
            try await execute("CREATE TABLE IF NOT EXISTS patchctl_migrations (identifier TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            let missing = try await appliedMigrations(use: "use").missing
            guard !missing.isEmpty else { return }
            let now = JSONOutput.timestamp(Date())
            try await inTransaction {
                for statement in schema.statements { try await execute(statement) }
                for migration in missing {
                    for statement in PostgresSchema.dataSteps[migration] ?? [] { try await execute(statement) }
                    _ = try await rows("INSERT INTO patchctl_migrations (identifier, applied_at) VALUES (\(migration), \(now))")
                }
            }
        }
    }

    /// A database that is not a patchctl history yet (no `patchctl_migrations`) but already has tables
    /// or views named as ours (looked up in pg_class: information_schema shows only what this user
    /// may use) belongs to someone else: never add to or alter them, as an SQLite
    /// history never adds its schema to another program's file.
    func refuseForeignTables(_ schema: PostgresSchema) async throws {
        let ours = try await rows("SELECT to_regclass('patchctl_migrations') IS NOT NULL").first?.decode(Bool.self) ?? false
        guard !ours else { return }
        let names = schema.tables.map(\.name) + schema.views.map(\.name)
        let taken = try await rows("""
            SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relname = ANY(\(names)) ORDER BY 1
            """).map { try $0.decode(String.self) }
        guard taken.isEmpty else {
            throw PatchError.store(path: location.description, message: "not a patchctl history, and it already has tables patchctl would use ("
                                   + taken.prefix(5).map { TerminalText.neutralised($0) }.joined(separator: ", ") + (taken.count > 5 ? ", …" : "")
                                   + "): refusing to add patchctl's schema to it; give patchctl a database of its own")
        }
    }

    /// The schema's migrations this database has not had; a migration this version does not know
    /// (a newer patchctl's) is refused, to `use` or to read.
    func appliedMigrations(use: String) async throws -> (applied: Set<String>, missing: [String]) {
        let known = PostgresSchema.current.migrations
        let applied = Set(try await rows("SELECT identifier FROM patchctl_migrations").map { try $0.decode(String.self) })
        let unknown = applied.subtracting(known)
        guard unknown.isEmpty else {
            throw PatchError.store(path: location.description, message: "written by a newer patchctl (unknown migrations: "
                                   + unknown.sorted().joined(separator: ", ") + "): upgrade patchctl to \(use) it")
        }
        return (applied, known.filter { !applied.contains($0) })
    }
}

/// Resumes a continuation with whichever result comes first; later ones are dropped.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = continuation
    }

    func resume(_ result: Result<T, any Error>) {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume(with: result)
    }
}
