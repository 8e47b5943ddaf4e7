import Foundation

extension DeployRunRecord {
    /// For `--notify-on changes`: packages were installed or hosts rebooted (a plan changes nothing).
    public var changedHosts: Bool {
        !dryRun && (summary.installed > 0 || summary.rebooted > 0)
    }

    /// The headline's second half: `39 packages installed, 2 rebooted`, and how the run ended
    /// when it did not simply finish.
    public var noticeDetail: String {
        var parts = dryRun ? ["dry run"] : ["\(summary.installed) package\(summary.installed == 1 ? "" : "s") installed", "\(summary.rebooted) rebooted"]
        if summary.failedPackages > 0 { parts.append("\(summary.failedPackages) package\(summary.failedPackages == 1 ? "" : "s") failed") }
        switch outcome {
        case .halted: parts.append("halted by max_fail_percent")
        case .interrupted: parts.append("interrupted")
        default: break
        }
        return parts.joined(separator: ", ")
    }
}
