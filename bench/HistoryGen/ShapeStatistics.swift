import PatchCore

/// What was written, and whether its shape is the issue's: findings per host and night, the
/// security and CVE shares, failed nights.
struct ShapeStatistics {
    var hostScans = 0
    var failedScans = 0
    var findings = 0
    var securityFindings = 0
    var findingsWithCVEs = 0
    var findingCVEs = 0
    var unfixedCVEs = 0
    var hostsWithUnfixed = 0
    /// Successful scans by their number of findings (the last bucket collects the rest).
    var histogram = [Int](repeating: 0, count: 1001)

    mutating func add(_ scan: HostScan) {
        hostScans += 1
        guard scan.status == .ok else { failedScans += 1; return }
        findings += scan.updates.count
        histogram[min(scan.updates.count, histogram.count - 1)] += 1
        for update in scan.updates {
            if update.security { securityFindings += 1 }
            if !update.cves.isEmpty { findingsWithCVEs += 1 }
            findingCVEs += update.cves.count
        }
        unfixedCVEs += scan.unfixedCVEs.count
        if !scan.unfixedCVEs.isEmpty { hostsWithUnfixed += 1 }
    }

    var okScans: Int { hostScans - failedScans }

    func percentile(_ p: Double) -> Int {
        let target = Int((Double(okScans) * p).rounded(.up))
        var seen = 0
        for (count, scans) in histogram.enumerated() {
            seen += scans
            if seen >= max(target, 1) { return count }
        }
        return histogram.count - 1
    }

    var maximum: Int { histogram.lastIndex { $0 > 0 } ?? 0 }
    var minimum: Int { histogram.firstIndex { $0 > 0 } ?? 0 }
}
