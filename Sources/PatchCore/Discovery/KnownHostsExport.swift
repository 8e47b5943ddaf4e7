import Crypto
import Foundation

/// The keys a sweep collected as known_hosts lines, for a file of their own (`--known-hosts-out`):
/// never the user's known_hosts, which only a person who compared fingerprints should extend.
public enum KnownHostsExport {
    /// One line per key: `ADDRESS TYPE KEY`, `[ADDRESS]:PORT` off port 22 (OpenSSH's form), or with
    /// `hashed` the name as `|1|salt|HMAC-SHA1(salt, name)` (`HashKnownHosts yes`, `ssh-keygen -H`).
    public static func lines(for hosts: [DiscoveredHost], hashed: Bool) -> [String] {
        hosts.flatMap { host in
            host.allKeys.map { port, key in
                let name = port == 22 ? host.address : "[\(host.address)]:\(port)"
                return "\(hashed ? hash(name) : name) \(key.type) \(key.key)\n"
            }
        }
    }

    static func hash(_ name: String, salt: [UInt8]? = nil) -> String {
        let salt = salt ?? (0..<20).map { _ in UInt8.random(in: 0...255) }
        let code = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
        return "|1|" + Data(salt).base64EncodedString() + "|" + Data(code).base64EncodedString()
    }

    /// Writes the lines to `path` (0644, replaced whole), with a header saying where they came from.
    public static func write(_ hosts: [DiscoveredHost], to path: String, hashed: Bool, runId: String?, date: Date) throws {
        let header = "# host keys collected by patchctl discover\(runId.map { " (run \($0))" } ?? "") on \(Timestamp.format(date))\n"
            + "# trust on first use: compare each fingerprint with the host's own (ssh-keygen -lf on its console) before using these\n"
        try (header + lines(for: hosts, hashed: hashed).joined()).write(toFile: path, atomically: true, encoding: .utf8)
        _ = chmod(path, 0o644)
    }
}
