/// Whether an installed version falls in a range, in the platform's own version order (dpkg's
/// for Debian and Ubuntu, rpm's for the Red Hat and SUSE families): pure functions the scan
/// matcher calls for each installed package.
extension AdvisoryRange {
    /// `introduced` ≤ `version` < `fixed` (`introduced` "0" is from the start; no `fixed`: still
    /// affected at any later version).
    public func affects(_ version: String, scheme: VersionComparison.Scheme) -> Bool {
        if introduced != "0", !introduced.isEmpty, VersionComparison.compare(version, introduced, scheme: scheme) < 0 { return false }
        guard let fixed else { return true }
        return VersionComparison.compare(version, fixed, scheme: scheme) < 0
    }

    /// The range has a fix and `version` is at least that fix (so an update to `version` closes it).
    public func isFixed(by version: String, scheme: VersionComparison.Scheme) -> Bool {
        guard let fixed else { return false }
        return VersionComparison.compare(version, fixed, scheme: scheme) >= 0
    }
}
