@testable import PatchCore

/// SUSE scans: zypper's XML (patches and updates) alone and in a whole scan output.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZypper(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    let platform = SusePlatform(os: OSInfo(family: .suse, id: "opensuse-leap", name: "openSUSE Leap", version: "16.0"))
    _ = try? SusePlatform.parsePatches(text)
    _ = try? SusePlatform.parseUpdates(text)
    _ = SusePlatform.parsePatchInfo(text)
    _ = try? platform.parseScan(text)
    return 0
}
