import Foundation

extension TableReport {
    /// One row per host (status, login user, jump chain), then each failure with its reason.
    public static func ping(_ run: PingRun) -> String {
        let rows = run.hosts.map { host -> [String] in
            [host.name, host.status.rawValue, host.user + (host.become ? " (become)" : ""), "\(host.address):\(host.port)",
             host.via.isEmpty ? "-" : host.via.joined(separator: ","), "\(host.durationMs)ms"]
        }
        var out = render(header: ["HOST", "STATUS", "USER", "ADDRESS", "VIA", "TIME"], rows: rows, rightAligned: [5])
        let failures = run.hosts.filter { $0.status != .ok }
        if !failures.isEmpty {
            out += "\n"
            for host in failures { out += line("\(host.name): \(host.status.rawValue): \(host.error ?? "")\n") }
        }
        let s = run.summary
        var summary = "\n\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.ok) ok"
        for (status, count) in s.byStatus.sorted(by: { $0.key < $1.key }) { summary += ", \(count) \(status)" }
        if let finished = run.finishedAt { summary += String(format: "; %.1fs", finished.timeIntervalSince(run.startedAt)) }
        return out + summary + "\n"
    }
}
