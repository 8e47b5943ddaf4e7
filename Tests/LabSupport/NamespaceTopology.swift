import Foundation

/// What the namespace topologies of the tests share (`JumpTopology`, `DiscoverTopology`): a script
/// under lab/ that builds namespaces with `up DIR CHROOT` (printing READY once every daemon
/// answers) and removes everything it made with `down`, and a scratch folder for its keys and logs.
/// A topology's namespaces, veths, addresses and routes have fixed names, one set per machine: a
/// `Lock` held from `up` to `down` makes a second test run on the machine (another checkout, a CI
/// rehearsal) wait for the first instead of tearing its topology down under it.
public enum NamespaceTopology {
    /// An exclusive `flock` on /run/lock/patchctl-topology-NAME.lock, released when this is freed or
    /// the process dies (so a crashed run never leaves it held).
    final class Lock {
        private let descriptor: Int32

        init(name: String) throws {
            let path = NamespaceTopology.lockPath(name: name)
            descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw HostileEndpoint.Failure("cannot open \(path): errno \(errno)") }
            // Waits for the other run's topology to go (flock is per open file, so this holds within one process too).
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    close(descriptor)
                    throw HostileEndpoint.Failure("cannot lock \(path): errno \(errno)")
                }
            }
        }

        deinit { close(descriptor) }
    }

    /// The lock file of topology NAME (`jump`, `discover`).
    public static func lockPath(name: String) -> String {
        (FileManager.default.fileExists(atPath: "/run/lock") ? "/run/lock" : NSTemporaryDirectory()) + "/patchctl-topology-\(name).lock"
    }

    /// Runs `up DIR CHROOT` in a new scratch folder; on failure runs `down` and throws what the script said.
    /// The caller holds `Lock(name:)` for as long as the topology lives.
    static func up(script: String, name: String, chroot: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let (status, output) = run(script, ["up", directory.path, chroot])
        guard status == 0, output.contains("READY") else {
            _ = run(script, ["down"])
            throw HostileEndpoint.Failure("\(name) topology did not start (exit \(status)): \(output)")
        }
        return directory
    }

    /// `bash SCRIPT ARGUMENTS…`: its exit status and what it printed (stdout and stderr together).
    static func run(_ script: String, _ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (-1, "\(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let status = process.waitForExit()
        return (status, String(decoding: data, as: UTF8.self))
    }
}
