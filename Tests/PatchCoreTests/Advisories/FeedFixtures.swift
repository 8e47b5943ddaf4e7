import Foundation
import Testing

/// The advisory fixtures (Fixtures/advisories/<kind>/, SOURCE.md beside each) as paths and bytes.
enum FeedFixture {
    static func path(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: "Fixtures/advisories/" + name, withExtension: nil), "missing fixture \(name)").path
    }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(name)))
    }

    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-feeds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
