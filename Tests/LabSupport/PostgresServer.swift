import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real PostgreSQL server (Debian's `postgresql` package) for one test: a new cluster made by
/// `initdb` in a temporary directory and run by `pg_ctl` as the unprivileged user `nobody`,
/// listening on 127.0.0.1 only. TLS uses a CA and a server certificate (for `localhost` only)
/// made here; the role `patchctl` logs in with a scram-sha-256 password; only the test's own
/// administration uses the cluster's Unix socket (trust, in a directory only root and `nobody` reach).
public final class PostgresServer: @unchecked Sendable {
    public let directory: String
    public private(set) var port = 0
    /// The CA that signed the server's certificate, and one that did not.
    public let caFile: String
    public let otherCAFile: String
    public let password: String
    public static let user = "patchctl"
    let bin: String
    var data: String { directory + "/data" }
    var socketDirectory: String { directory + "/socket" }
    var logFile: String { directory + "/log/server.log" }

    /// The newest installed server's programs, if any.
    public static var binDirectory: String? {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        return versions.compactMap(Int.init).sorted().last.map { "/usr/lib/postgresql/\($0)/bin" }
            .flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") ? $0 : nil }
    }

    /// initdb refuses root, so the cluster runs as `nobody` through runuser: both must exist.
    public static var canRun: Bool {
        binDirectory != nil && getuid() == 0 && getpwnam("nobody") != nil && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")
    }

    /// Tests that need a server run where one can; under `make test` (PATCHCTL_REQUIRE_LAB=1) they
    /// always run, so a machine without PostgreSQL fails them instead of skipping.
    public static var enabled: Bool {
        canRun || ProcessInfo.processInfo.environment["PATCHCTL_REQUIRE_LAB"] == "1"
    }

    public init() async throws {
        guard let bin = Self.binDirectory else { throw HostileEndpoint.Failure("no PostgreSQL server installed (apt-get install postgresql)") }
        self.bin = bin
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-pg-\(UUID().uuidString.prefix(8))").path
        let files = FileManager.default
        try files.createDirectory(atPath: directory + "/ca", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        chmod(directory, 0o755)
        password = "pw-" + UUID().uuidString
        caFile = directory + "/ca/root.crt"
        otherCAFile = directory + "/ca/other.crt"
        // A throwing initializer never reaches deinit: a server that failed half-way is stopped and its folder removed here.
        do {
            // Certificates: the server's names `localhost` only, so a connection to 127.0.0.1 fails verify-full.
            try await Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                                    "-subj", "/CN=patchctl test CA", "-keyout", directory + "/ca/root.key", "-out", caFile])
            try await Self.openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                                    "-subj", "/CN=another CA", "-keyout", directory + "/ca/other.key", "-out", otherCAFile])
            try await Self.openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
                                    "-keyout", directory + "/server.key", "-out", directory + "/ca/server.csr"])
            try "subjectAltName=DNS:localhost\n".write(toFile: directory + "/ca/ext.cnf", atomically: true, encoding: .utf8)
            try await Self.openssl(["x509", "-req", "-in", directory + "/ca/server.csr", "-CA", caFile, "-CAkey", directory + "/ca/root.key",
                                    "-CAcreateserial", "-days", "2", "-extfile", directory + "/ca/ext.cnf", "-out", directory + "/server.crt"])
            for folder in [data, socketDirectory, directory + "/log"] {
                try files.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            for path in [data, socketDirectory, directory + "/log", directory + "/server.key", directory + "/server.crt"] { chown(path, 65534, 65534) }
            chmod(directory + "/server.key", 0o600)
            try await TestProcess.check("/usr/sbin/runuser", ["-u", "nobody", "--", bin + "/initdb", "-D", data, "-U", "pgadmin", "-E", "UTF8",
                                                              "--no-locale", "--auth-local=trust", "--auth-host=scram-sha-256"], timeout: .seconds(120))
            try """
                local all all trust
                hostssl all all 127.0.0.1/32 scram-sha-256
                hostnossl all all 127.0.0.1/32 scram-sha-256

                """.write(toFile: data + "/pg_hba.conf", atomically: true, encoding: .utf8)
            chown(data + "/pg_hba.conf", 65534, 65534)
            // A port the kernel just gave out; another process taking it first makes pg_ctl fail, and we pick again.
            for attempt in 1...5 {
                port = try TestSSHServer.freePort()
                let settings = """

                    listen_addresses = '127.0.0.1'
                    port = \(port)
                    unix_socket_directories = '\(socketDirectory)'
                    ssl = on
                    ssl_cert_file = '\(directory)/server.crt'
                    ssl_key_file = '\(directory)/server.key'
                    max_connections = 40
                    shared_buffers = 32MB
                    fsync = off

                    """
                try settings.write(toFile: data + "/postgresql.auto.conf", atomically: true, encoding: .utf8)
                chown(data + "/postgresql.auto.conf", 65534, 65534)
                let started = try await Self.pgctl(bin, data, ["-l", logFile, "-w", "-t", "60", "start"])
                if started.status == 0 { break }
                if attempt == 5 { throw HostileEndpoint.Failure("pg_ctl start failed: \(started.combined)\n\(log)") }
            }
            try await admin("CREATE ROLE \(Self.user) LOGIN PASSWORD '\(password)'")
        } catch {
            stopNow(mode: "immediate")
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit {
        stopNow(mode: "immediate")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// The server's log so far, for failure messages.
    public var log: String { (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? "" }

    /// Runs SQL as the cluster's superuser over its Unix socket; returns psql's unaligned output.
    @discardableResult
    public func admin(_ sql: String, database: String = "postgres") async throws -> String {
        try await TestProcess.check(bin + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory, "-p", String(port),
                                                    "-U", "pgadmin", "-d", database, "-c", sql], timeout: .seconds(60))
    }

    /// A new, empty database owned by `patchctl`.
    public func createDatabase(_ name: String) async throws {
        try await admin("CREATE DATABASE \(name) OWNER \(Self.user)")
    }

    /// `postgres://patchctl@HOST:PORT/DATABASE?…` with the test CA (never a password).
    public func url(database: String, host: String = "localhost", sslMode: String = "verify-full", ca: String? = nil) -> String {
        var url = "postgres://\(Self.user)@\(host):\(port)/\(database)?sslmode=\(sslMode)"
        if sslMode != "disable" { url += "&sslrootcert=\(ca ?? caFile)" }
        return url
    }

    /// A password file (0600) with this server's line for `patchctl`.
    public func passwordFile(mode: mode_t = 0o600) throws -> String {
        let path = directory + "/pgpass-\(UUID().uuidString.prefix(6))"
        try "# test\nlocalhost:\(port):*:\(Self.user):\(password)\n127.0.0.1:\(port):*:\(Self.user):\(password)\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, mode)
        return path
    }

    /// Stops the server at once, as a crash or a kill would (`pg_ctl -m immediate`): open
    /// transactions are lost, connections drop.
    public func kill() async throws {
        let stopped = try await Self.pgctl(bin, data, ["-m", "immediate", "-w", "stop"])
        guard stopped.status == 0 else { throw HostileEndpoint.Failure("pg_ctl stop failed: \(stopped.combined)") }
    }

    /// Starts it again after `kill()`; crash recovery runs first (pg_ctl -w waits for it).
    public func restart() async throws {
        let started = try await Self.pgctl(bin, data, ["-l", logFile, "-w", "-t", "60", "start"])
        guard started.status == 0 else { throw HostileEndpoint.Failure("pg_ctl start failed: \(started.combined)\n\(log)") }
    }

    func stopNow(mode: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        process.arguments = ["-u", "nobody", "--", bin + "/pg_ctl", "-D", data, "-m", mode, "-w", "stop"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return }
        process.waitUntilExit()
    }

    static func pgctl(_ bin: String, _ data: String, _ arguments: [String]) async throws -> TestProcess.Output {
        try await TestProcess.run("/usr/sbin/runuser", ["-u", "nobody", "--", bin + "/pg_ctl", "-D", data] + arguments, timeout: .seconds(120))
    }

    static func openssl(_ arguments: [String]) async throws {
        try await TestProcess.check("openssl", arguments, timeout: .seconds(60))
    }
}
