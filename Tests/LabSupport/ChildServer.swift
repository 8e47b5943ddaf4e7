import Foundation

/// Test servers that are child processes (python's http.server and the recorders built on it)
/// announce where they listen on their first line of stdout: tests wait for that line, never for
/// a time.
public enum ChildServer {
    /// Starts `process` with its stdout piped and returns its first line (without the newline);
    /// the process exiting first is an error.
    public static func start(_ process: SpawnedProcess, what: String) throws -> String {
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw HostileEndpoint.Failure("\(what) exited before listening") }
            line.append(chunk)
        }
        return String(decoding: line.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    /// For servers that print only their port.
    public static func port(_ process: SpawnedProcess, what: String) throws -> Int {
        let line = try start(process, what: what)
        guard let port = Int(line.trimmingCharacters(in: .whitespaces)) else { throw HostileEndpoint.Failure("\(what) printed no port: \(line)") }
        return port
    }
}
