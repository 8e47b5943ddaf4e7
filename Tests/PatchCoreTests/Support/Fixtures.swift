import Foundation
import Testing
import PatchCore

/// Real recorded outputs under Fixtures/ (each folder's SOURCE.md says where they came from).
enum Fixture {
    static func text(_ path: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/" + path, withExtension: nil), "missing fixture \(path)")
        return try String(contentsOf: url, encoding: .utf8)
    }
}

/// Foundation also exports a `Host` (a network-host lookup class); in this module ours wins.
typealias Host = PatchCore.Host
