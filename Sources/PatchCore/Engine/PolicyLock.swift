import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One deployment per policy at a time (cron every 15 minutes must not overlap a long run):
/// an exclusive `flock` on a file beside the history database, released by the kernel when
/// the process ends however it ends.
public final class PolicyLock {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock or throws `PatchError.locked` naming the holder.
    public init(policy: String, databasePath: String, runDescription: String) throws {
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("locks").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        path = folder + "/" + policy + ".lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
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
    }

    deinit {
        _ = ftruncate(descriptor, 0)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
