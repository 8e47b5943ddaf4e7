@testable import PatchCore

/// RHEL-family scans: a whole scan output, and dnf's check-update and updateinfo alone.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDnf(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    let platform = RhelPlatform(os: OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.4"))
    _ = try? platform.parseScan(text)
    _ = RhelPlatform.parseCheckUpdate(text)
    _ = RhelPlatform.parseUpdateInfo(text)
    _ = RhelPlatform.parseRPMList(text)
    return 0
}
