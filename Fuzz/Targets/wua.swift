@testable import PatchCore

/// Windows scans: the Windows Update Agent sections (and Chocolatey/winget ones) of a scan output.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWua(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    let platform = WindowsPlatform(os: OSInfo(family: .windows, id: "windows", name: "Windows", version: "10.0.26200"))
    _ = WindowsPlatform.detect(scanOutput: text)
    _ = try? platform.parseScan(text)
    _ = platform.parseLoggedInUsers(text)
    _ = WindowsPlatform.parseInstallResult(text)
    return 0
}
