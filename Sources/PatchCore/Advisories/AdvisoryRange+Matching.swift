/// Range semantics, shared by every feed: affected when `introduced` ≤ version < `fixed`, compared
/// in the ecosystem's own order (dpkg or rpmvercmp).
extension AdvisoryRange {
    /// `version` lies in this range: at or after `introduced` ("0": from the start) and before
    /// `fixed` (nil: no fix yet, every later version is affected).
    public func affects(_ version: String, scheme: VersionComparison.Scheme) -> Bool {
        if introduced != "0", VersionComparison.compare(version, introduced, scheme: scheme) < 0 { return false }
        guard let fixed else { return true }
        return VersionComparison.compare(version, fixed, scheme: scheme) < 0
    }

    /// `version` carries this range's fix: the range has one and `version` is at or above it.
    public func isFixed(by version: String, scheme: VersionComparison.Scheme) -> Bool {
        guard let fixed else { return false }
        return VersionComparison.compare(version, fixed, scheme: scheme) >= 0
    }
}
