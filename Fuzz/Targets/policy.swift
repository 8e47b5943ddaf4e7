@testable import PatchCore

/// Policy and compliance rule set files (the same YAML reader, two validators).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    _ = try? Policy.parse(text, file: "fuzz.yml")
    _ = try? ComplianceRuleSet.parse(text, file: "fuzz.yml", source: "fuzz.yml")
    return 0
}
