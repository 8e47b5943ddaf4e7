import Foundation
import LabSupport

/// Runs a platform's shell script through a real /bin/sh with stand-in tools first on PATH, so
/// the script's own plumbing (sections, exit codes, grep/sed pipelines) is exercised for real while
/// the package manager's answers come from recorded fixtures.
enum StubShell {
    static func run(_ script: String, stubs: [String: String]) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-stubs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, body) in stubs {
            let url = directory.appendingPathComponent(name)
            try ("#!/bin/sh\n" + body + "\n").write(to: url, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.environment = ["PATH": directory.path + ":/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitForExit()
        return String(decoding: data, as: UTF8.self)
    }
}
