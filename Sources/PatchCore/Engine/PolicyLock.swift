import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One deployment per policy at a time (cron every 15 minutes must not overlap a long run).
/// Beside an SQLite history: an exclusive `flock` on a file next to the database, released by the
/// kernel when the process ends however it ends. On a PostgreSQL history shared by controllers:
/// an advisory lock of the store's session, so two controllers never deploy one policy at once,
/// released when the session ends however the controller ends.
public final class PolicyLock {
    private enum Held {
        case file(descriptor: Int32)
        case postgres(PostgresHistory, key: Int64)
    }

    /// The lock file, or the advisory lock's name.
    public let path: String
    private let held: Held

    /// Takes the lock or throws `PatchError.locked` naming the holder.
    public init(policy: String, databasePath: String, runDescription: String) throws {
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("locks").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = folder + "/" + policy + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw PatchError.store(path: path, message: "cannot open lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmed ?? ""
            close(descriptor)
            throw PatchError.locked(policy: policy, holder: holder.isEmpty ? "another patchctl process" : holder)
        }
        // Who holds it, for the message the next process prints.
        let text = runDescription + "\n"
        _ = ftruncate(descriptor, 0)
        _ = text.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        held = .file(descriptor: descriptor)
    }

    /// The policy's lock in `store`: its advisory lock on PostgreSQL, else the file beside it.
    public convenience init(policy: String, store: HistoryStore, runDescription: String) throws {
        switch store.backend {
        case .sqlite: try self.init(policy: policy, databasePath: store.path, runDescription: runDescription)
        case let .postgres(postgres): try self.init(policy: policy, postgres: postgres)
        }
    }

    /// Takes the advisory lock `policy:NAME` at once, or throws `PatchError.locked` naming the
    /// holder's application name, address, server pid and connection time.
    init(policy: String, postgres: PostgresHistory) throws {
        let name = "policy:" + policy
        path = name
        held = .postgres(postgres, key: try postgres.tryLock(name, policy: policy))
    }

    deinit {
        switch held {
        case let .file(descriptor):
            _ = ftruncate(descriptor, 0)
            flock(descriptor, LOCK_UN)
            close(descriptor)
        case let .postgres(postgres, key):
            // A session that is gone took the lock with it.
            postgres.unlock(key)
        }
    }
}
