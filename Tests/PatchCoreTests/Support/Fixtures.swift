import Foundation
import Testing

/// Real recorded outputs under Fixtures/ (each folder's SOURCE.md says where they came from).
enum Fixture {
    static func text(_ path: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil), "missing fixture \(path)")
        return try String(contentsOf: url, encoding: .utf8)
    }
}
