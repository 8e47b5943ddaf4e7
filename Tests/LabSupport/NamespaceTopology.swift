import Foundation

/// What the namespace topologies of the tests share (`JumpTopology`, `DiscoverTopology`): a script
/// under lab/ that builds namespaces with `up DIR CHROOT` (printing READY once every daemon
/// answers) and removes everything it made with `down`, and a scratch folder for its keys and logs.
public enum NamespaceTopology {
    /// Runs `up DIR CHROOT` in a new scratch folder; on failure runs `down` and throws what the script said.
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
