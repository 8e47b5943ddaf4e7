import Foundation
import Testing
import LabSupport
@testable import PatchCore

/// Binary fixtures (archives) under Fixtures/advisories, and scratch directories for archives the
/// tests make with the system's own tools.
enum AdvisoryFixture {
    static func path(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/advisories/" + name, withExtension: nil), "missing fixture \(name)")
        return url.path
    }
}

/// A directory removed when the test is done with it.
final class ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-advisories-" + UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func data(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: file(name))) }

    func write(_ name: String, _ data: Data) throws {
        let url = URL(fileURLWithPath: file(name))
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
    }

    /// Runs a shell script in this directory (the system's gzip, xz, tar, python3 make the archives).
    @discardableResult
    func run(_ script: String) async throws -> String {
        let output = try await TestProcess.run("/bin/sh", ["-ec", script], workingDirectory: path, timeout: .seconds(300))
        try #require(output.status == 0, "script failed (\(output.status)): \(script)\n\(output.combined)")
        return output.stdout
    }
}

/// The reason of the `FeedReadError` that `work` throws (nil: it did not throw one).
func feedFailure(_ work: () throws -> Void) -> FeedReadError.Reason? {
    do { try work() } catch let error as FeedReadError { return error.reason } catch { return nil }
    return nil
}

func feedFailure(_ work: () async throws -> Void) async -> FeedReadError.Reason? {
    do { try await work() } catch let error as FeedReadError { return error.reason } catch { return nil }
    return nil
}
