import Foundation
import Testing
@testable import PatchCore

/// The fuzz corpus (Fuzz/corpus) in-process: every file loads or fails with a PatchError naming
/// it, as an inventory, a policy and a compliance rule set alike (the three share one YAML reader).
@Suite("Fuzz corpus loading")
struct FuzzCorpusLoadingTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus").path

    static func files() throws -> [String] {
        try ["inventory", "policy"].flatMap { kind in
            try FileManager.default.contentsOfDirectory(atPath: corpus + "/" + kind).filter { $0.hasSuffix(".yml") }.sorted()
                .map { corpus + "/" + kind + "/" + $0 }
        }
    }

    @Test func everyFileLoadsOrFailsNamingItself() throws {
        let files = try Self.files()
        #expect(files.count >= 200)
        for file in files {
            do {
                _ = try Inventory.load(path: file, environment: ["HOME": "/home/tester"])
            } catch {
                guard case let .inventory(named, _, _, _) = error else { Issue.record("\(file): \(error)"); continue }
                #expect(named == file)
            }
            do {
                _ = try Policy.load(path: file)
            } catch {
                // Several mistakes come together, each naming the file.
                let each: [PatchError] = if case let .several(errors) = error { errors } else { [error] }
                for error in each {
                    guard case let .policy(named, _, _, _) = error else { Issue.record("\(file): \(error)"); continue }
                    #expect(named == file)
                }
            }
            do {
                _ = try ComplianceRuleSet.load(path: file)
            } catch {
                guard case let .ruleSet(named, _, _, _) = error else { Issue.record("\(file): \(error)"); continue }
                #expect(named == file)
            }
        }
    }
}
