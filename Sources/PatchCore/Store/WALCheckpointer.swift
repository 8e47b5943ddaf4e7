import Foundation
import GRDB

/// Copies a writable history's write-ahead log back into the database file on a connection and a
/// thread of its own, while the writer goes on. SQLite's automatic checkpoint runs inside the
/// commit that crosses its threshold: a night of 10,000 hosts commits in batches, and every few
/// batches one of them waited for thousands of pages to be written into the multi-GB file and synced.
///
/// A passive checkpoint is asked for after every write of the store (`HistoryStore.write`: recording,
/// advisory syncs, prunes) once the log file has reached SQLite's own threshold (`thresholdPages`);
/// a small history's log grows and is checkpointed as before. Passive checkpoints never wait for,
/// or block, the writer or a reader. The writer keeps an automatic threshold as the backstop
/// (`backstopPages`): should this connection fall behind (a reader holding an old snapshot), the log
/// still cannot grow without bound. Closing the store still checkpoints what is left, as SQLite does
/// for its last connection.
final class WALCheckpointer: @unchecked Sendable {
    /// SQLite's default `wal_autocheckpoint` (pages).
    static let thresholdPages = 1000
    /// The writer's `wal_autocheckpoint`: a checkpoint in the commit only when the log holds this
    /// many pages no checkpoint took.
    static let backstopPages = 16 * thresholdPages

    private let connection: DatabaseQueue
    private let log: String
    /// The log file's size from which a commit asks for a checkpoint (after a checkpoint the file
    /// keeps its size, and the writer starts over at its beginning).
    private let thresholdBytes: Int
    private let queue = DispatchQueue(label: "patchctl.history.checkpoint", qos: .utility)
    private let lock = NSLock()
    private var scheduled = false

    /// Nil when the second connection cannot be opened: the writer then checkpoints in its commits, as SQLite does by default.
    init?(for pool: DatabasePool, path: String) {
        var configuration = Configuration()
        configuration.label = "patchctl.history.checkpoint"
        configuration.busyMode = .timeout(10)
        guard let connection = try? DatabaseQueue(path: path, configuration: configuration),
              let pageSize = try? pool.writeWithoutTransaction({ db -> Int in
                  try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopPages)")
                  return try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
              })
        else { return nil }
        self.connection = connection
        log = path + "-wal"
        thresholdBytes = Self.thresholdPages * (pageSize + 24)
    }

    /// After a commit: a passive checkpoint is queued, unless one is already waiting to run or the log is still small.
    func committed() {
        var status = stat()
        guard stat(log, &status) == 0, Int(status.st_size) >= thresholdBytes else { return }
        let schedule = lock.withLock { () -> Bool in
            defer { scheduled = true }
            return !scheduled
        }
        guard schedule else { return }
        queue.async { [self] in
            lock.withLock { scheduled = false }
            // One that fails (I/O) leaves the pages in the log, which stays valid: the next commit asks again.
            _ = try? connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
        }
    }

    /// Waits until a queued checkpoint has run.
    func drain() {
        queue.sync {}
    }
}
