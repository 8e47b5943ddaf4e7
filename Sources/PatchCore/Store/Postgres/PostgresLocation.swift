import Foundation

/// A PostgreSQL history named by URL: `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=…&sslrootcert=…]`
/// (`postgresql://` too), as libpq spells it. The password is never part of it: URLs end up in
/// shell history, process lists, run records and logs. It comes from `PGPASSFILE`/`~/.pgpass`, or
/// from a password command (`db_password_command`, `PATCHCTL_DB_PASSWORD_COMMAND`).
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// libpq's modes that patchctl supports. `prefer` and `allow` are left out: a history that
    /// silently goes unencrypted when TLS fails is not what anyone asking for TLS wants.
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    /// Default `verify-full`: the server's certificate must chain to `sslRootCert` (else the
    /// system's trust store) and name `host`.
    public var sslMode: SSLMode
    public var sslRootCert: String?
    /// Reported to the server (pg_stat_activity), so a DBA sees which controller holds a lock.
    public var applicationName: String

    public static let defaultPort = 5432

    /// Whether `text` is meant as a PostgreSQL URL rather than a file path.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a URL; every mistake is an error naming the part at fault.
    public init(url text: String) throws(PatchError) {
        func fail(_ message: String) -> PatchError {
            .store(path: PostgresLocation.redacted(text), message: message)
        }
        guard Self.isURL(text) else { throw fail("not a postgres:// URL") }
        guard let components = URLComponents(string: text) else { throw fail("not a valid URL") }
        if components.password != nil || components.percentEncodedUser?.contains(":") == true {
            throw fail("a password in the URL would be kept in shell history, process lists and logs: put it in ~/.pgpass "
                       + "(or PGPASSFILE), or set db_password_command in the configuration")
        }
        guard let user = components.user, !user.isEmpty else { throw fail("name the user: postgres://USER@HOST/DATABASE") }
        guard let host = components.host, !host.isEmpty else { throw fail("name the server: postgres://USER@HOST/DATABASE") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { throw fail("name the database: postgres://USER@HOST/DATABASE") }
        if let port = components.port, !(1...65535).contains(port) { throw fail("port \(port) is out of range") }
        self.user = user
        self.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        port = components.port ?? Self.defaultPort
        self.database = database
        sslMode = .verifyFull
        applicationName = "patchctl"
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw fail("sslmode '\(TerminalText.neutralised(value))' is not one of disable, require, verify-ca, verify-full "
                               + "(prefer and allow may fall back to no TLS, which patchctl does not do)")
                }
                sslMode = mode
            case "sslrootcert":
                guard !value.isEmpty else { throw fail("sslrootcert is empty") }
                sslRootCert = value
            case "application_name":
                guard !value.isEmpty, value.utf8.count <= 63 else { throw fail("application_name must be 1 to 63 bytes") }
                applicationName = value
            case "password":
                throw fail("a password in the URL would be kept in shell history, process lists and logs: put it in ~/.pgpass "
                           + "(or PGPASSFILE), or set db_password_command in the configuration")
            default:
                throw fail("unknown parameter '\(TerminalText.neutralised(item.name))' (patchctl reads sslmode, sslrootcert and application_name)")
            }
        }
        if sslRootCert != nil && sslMode == .disable { throw fail("sslrootcert with sslmode=disable: the certificate would never be checked") }
    }

    /// The URL as written without password, for messages and records.
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var text = "postgres://\(user)@\(shownHost)\(port == Self.defaultPort ? "" : ":\(port)")/\(database)"
        var query: [String] = []
        if sslMode != .verifyFull { query.append("sslmode=\(sslMode.rawValue)") }
        if let sslRootCert { query.append("sslrootcert=\(sslRootCert)") }
        if !query.isEmpty { text += "?" + query.joined(separator: "&") }
        return text
    }

    /// `text` with anything between `//` and `@` that has a colon cut down to the user: for error
    /// messages about a URL that may carry a password.
    static func redacted(_ text: String) -> String {
        // A query that names a password is shown without its values.
        if let question = text.firstIndex(of: "?"), text[question...].lowercased().contains("password") {
            return redacted(String(text[..<question])) + "?…"
        }
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@") else {
            return TerminalText.neutralised(text)
        }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return TerminalText.neutralised(text) }
        let user = credentials[..<colon]
        return TerminalText.neutralised(String(text[..<scheme.upperBound]) + user + ":…" + String(text[at...]))
    }
}
