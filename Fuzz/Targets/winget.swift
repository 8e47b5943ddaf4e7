@testable import PatchCore

/// winget's `upgrade` table (column widths guessed from the header) and its export JSON.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWinget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = fuzzText(data, size)
    _ = try? ThirdPartyManager.parseWingetUpgrade(text)
    _ = ThirdPartyManager.parseWingetExport(text)
    _ = ThirdPartyManager.parseWingetExportVersions(text)
    _ = ThirdPartyManager.parseChocoOutdated(text)
    return 0
}
