import Foundation
import Testing
@testable import PatchCore

@Suite("Credentials: password commands")
struct CredentialsTests {
    static func options() -> ConnectionOptions {
        ConnectionOptions(knownHostsPath: "/dev/null", environment: ["HOME": "/nonexistent", "USER": "me"])
    }

    @Test func theFirstLineIsTheSecretAndACommandRunsOnce() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let command = "echo run >> '\(folder.path)/runs'; printf 'hunter2\\nsecond line\\n'"
        let credentials = Credentials(options: Self.options())
        for name in ["a", "b"] {
            let resolved = try await credentials.resolve(Host(name: name, passwordCommand: command))
            #expect(resolved.password == "hunter2")
            #expect(resolved.becomePassword == "hunter2")
        }
        #expect(try String(contentsOfFile: folder.path + "/runs", encoding: .utf8) == "run\n")
    }

    @Test func aFailingOrEndlessCommandIsACredentialError() async throws {
        let credentials = Credentials(options: Self.options())
        await #expect {
            _ = try await credentials.resolve(Host(name: "h", passwordCommand: "exit 3"))
        } throws: { error in
            "\(error)".contains("password command exited 3")
        }
        await #expect {
            _ = try await credentials.resolve(Host(name: "h", passwordCommand: "yes secret"))
        } throws: { error in
            "\(error)".contains("printed more than")
        }
    }

    /// Regression: a password command's run blocked a thread of the shared pool until it exited.
    /// More commands than the pool has threads each wait for a flag that another task sets only
    /// once all of them have started: blocked threads would leave no thread for that task (the
    /// run never finishes); awaited children leave the pool free.
    @Test(.timeLimit(.minutes(2))) func waitingCommandsDoNotHoldThePoolsThreads() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let flag = folder.appendingPathComponent("go").path
        let secrets = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<count {
                let command = "touch '\(folder.path)/started-\(index)'; while [ ! -e '\(flag)' ]; do sleep 0.05; done; echo secret-\(index)"
                group.addTask { try await Credentials(options: Self.options()).resolve(Host(name: "h\(index)", passwordCommand: command)).password }
            }
            group.addTask {
                // The event: every command has started (and is waiting for the flag).
                while try FileManager.default.contentsOfDirectory(atPath: folder.path).filter({ $0.hasPrefix("started-") }).count < count {
                    try await Task.sleep(for: .milliseconds(20))
                }
                _ = FileManager.default.createFile(atPath: flag, contents: Data())
                return nil
            }
            var secrets: [String] = []
            for try await secret in group { if let secret { secrets.append(secret) } }
            return secrets
        }
        #expect(Set(secrets) == Set((0..<count).map { "secret-\($0)" }))
    }
}
