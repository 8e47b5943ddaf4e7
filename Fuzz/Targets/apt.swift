@testable import PatchCore

/// Debian scans: a whole scan output, and apt-get's simulation alone.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzApt(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    let platform = DebianPlatform(os: OSInfo(family: .debian, id: "debian", name: "Debian", version: "12"))
    _ = try? platform.parseScan(text)
    _ = try? DebianPlatform.parseSimulation(text)
    _ = platform.parseInstalledVersions(text)
    return 0
}
