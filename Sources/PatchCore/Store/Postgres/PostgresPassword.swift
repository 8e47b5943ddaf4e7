import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a PostgreSQL history's password comes from, in libpq's order of the ones patchctl
/// allows: a password command (the configuration's `db_password_command`, for a vault or a
/// secrets manager), else the password file (`PGPASSFILE`, else `~/.pgpass`). None at all is
/// fine: the server may trust the connection or use certificates.
public enum PostgresPassword {
    /// The password for `location`, or nil when neither source has one.
    public static func lookup(for location: PostgresLocation, environment: [String: String]) throws(PatchError) -> String? {
        if let command = environment["PATCHCTL_DB_PASSWORD_COMMAND"], !command.isEmpty {
            return try run(command, location: location)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        let path = environment["PGPASSFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.pgpass"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw PatchError.store(path: path, message: "cannot read the password file: \(String(cString: strerror(errno)))")
        }
        // As libpq: a password file others can read is not used (libpq only warns; patchctl stops,
        // so the operator does not wonder why the server refused the login).
        guard status.st_mode & 0o077 == 0 else {
            throw PatchError.store(path: path, message: String(format: "the password file has permissions %o: others can read it (chmod 0600)", status.st_mode & 0o777))
        }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw PatchError.store(path: path, message: "cannot read the password file (or it is over 1 MiB)")
        }
        return find(in: String(decoding: data, as: UTF8.self), host: location.host, port: location.port, database: location.database, user: location.user)
    }

    /// libpq's password file: `hostname:port:database:username:password`, one per line, the first
    /// matching line wins; `*` matches anything in the first four fields; `\:` and `\\` escape;
    /// lines starting with `#` are comments.
    public static func find(in text: String, host: String, port: Int, database: String, user: String) -> String? {
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine[...]
            if line.hasPrefix("#") { continue }
            var fields: [String] = []
            var current = ""
            var escaped = false
            for character in line {
                if escaped {
                    current.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == ":" && fields.count < 4 {
                    fields.append(current)
                    current = ""
                } else {
                    current.append(character)
                }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// Runs the password command through /bin/sh (BoundedProcess: its own process group, killed
    /// at the deadline) with the connection's parts in `PGHOST`, `PGPORT`, `PGDATABASE` and
    /// `PGUSER`; its first line of output is the password. 30 seconds, 64 KiB at most.
    static func run(_ command: String, location: PostgresLocation) throws(PatchError) -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["PGHOST"] = location.host
        environment["PGPORT"] = String(location.port)
        environment["PGDATABASE"] = location.database
        environment["PGUSER"] = location.user
        let output: BoundedProcess.Output
        switch BoundedProcess.run("/bin/sh", ["-c", command], timeout: 30, maxOutput: 65_536, environment: environment) {
        case let .success(finished): output = finished
        case let .failure(message): throw PatchError.store(path: location.description, message: "db_password_command: \(message)")
        }
        guard output.status == 0 else {
            let said = String(decoding: output.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw PatchError.store(path: location.description, message: "db_password_command exited \(output.status)"
                                   + (said.isEmpty ? "" : ": " + TerminalText.neutralised(said)))
        }
        let text = String(decoding: output.stdout, as: UTF8.self)
        let password = String(text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        guard !password.isEmpty else { throw PatchError.store(path: location.description, message: "db_password_command printed no password") }
        return password
    }
}
