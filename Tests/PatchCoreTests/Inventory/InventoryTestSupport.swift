import Foundation
import Testing
@testable import PatchCore

/// Shared helpers for the inventory tests.
enum InventoryFixtures {
    /// Tests/PatchCoreTests/Fixtures/inventory, found from this source file so the tests do not
    /// depend on how resources are bundled.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/inventory").path

    static func path(_ name: String) -> String { folder + "/" + name }

    static func load(_ name: String, environment: [String: String] = ["HOME": "/home/tester"]) throws -> Inventory {
        try Inventory.load(path: path(name), environment: environment)
    }
}

/// Parses inline YAML as if it were the file `inventory.yml` in /inv.
func parseInventory(_ yaml: String, environment: [String: String] = ["HOME": "/home/tester"]) throws(PatchError) -> Inventory {
    try Inventory.parse(yaml: yaml, file: "inventory.yml", baseDirectory: "/inv", environment: environment)
}

/// The inventory error `yaml` produces, or nil (and a recorded failure) when it loads.
func inventoryError(
    _ yaml: String, sourceLocation: SourceLocation = #_sourceLocation
) -> (file: String, line: Int?, column: Int?, message: String)? {
    do {
        _ = try parseInventory(yaml)
        Issue.record("expected an inventory error", sourceLocation: sourceLocation)
    } catch let PatchError.inventory(file, line, column, message) {
        return (file, line, column, message)
    } catch {
        Issue.record("expected PatchError.inventory, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Asserts that `yaml` fails at `line`:`column` with a message containing every fragment.
func expectInventoryError(
    _ yaml: String, line: Int, column: Int, _ fragments: String...,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error = inventoryError(yaml, sourceLocation: sourceLocation) else { return }
    #expect(error.file == "inventory.yml", sourceLocation: sourceLocation)
    #expect(error.line == line, "message: \(error.message)", sourceLocation: sourceLocation)
    #expect(error.column == column, "message: \(error.message)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
    }
}
