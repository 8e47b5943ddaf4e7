@testable import PatchCore

/// Inventory files: any bytes end in an Inventory or a PatchError, within the YAML reader's limits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInventory(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    if let inventory = try? Inventory.parse(yaml: text, file: "fuzz.yml", baseDirectory: "/fuzz", environment: ["HOME": "/home/fuzz"]) {
        _ = try? inventory.select("all:!ungrouped")
    }
    return 0
}
