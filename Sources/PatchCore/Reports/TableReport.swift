import Foundation

/// Plain-text tables for a terminal: one row per host, then failures with their reasons, then a summary.
public enum TableReport {
    public static func scan(_ run: ScanRun, details: Bool) -> String {
        var out = ""
        let rows = run.hosts.map { host -> [String] in
            let platform = host.os.map { "\($0.name) \($0.version)".trimmingCharacters(in: .whitespaces) } ?? "-"
            let ok = host.status == .ok
            return [host.name, host.status.rawValue, platform,
                    ok ? String(host.updates.count) : "-", ok ? String(host.securityCount) : "-",
                    host.rebootRequired.map { $0 ? "yes" : "no" } ?? "-"]
        }
        out += render(header: ["HOST", "STATUS", "PLATFORM", "PENDING", "SECURITY", "REBOOT"], rows: rows, rightAligned: [3, 4])
        if details {
            for host in run.hosts where !host.updates.isEmpty {
                out += "\n\(host.name):\n"
                let updateRows = host.updates.map { [$0.name, $0.installedVersion, $0.availableVersion, $0.security ? "security" : "", $0.source] }
                out += render(header: ["  PACKAGE", "INSTALLED", "AVAILABLE", "", "SOURCE"], rows: updateRows.map { ["  " + $0[0]] + $0.dropFirst() }, rightAligned: [])
            }
        }
        let failures = run.hosts.filter { $0.status != .ok }
        if !failures.isEmpty {
            out += "\n"
            for host in failures { out += "\(host.name): \(host.status.rawValue): \(host.error ?? "")\n" }
        }
        out += "\n" + summaryLine(run)
        return out
    }

    public static func summaryLine(_ run: ScanRun) -> String {
        let s = run.summary
        var line = "\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.ok) ok"
        for (status, count) in s.byStatus.sorted(by: { $0.key < $1.key }) { line += ", \(count) \(status)" }
        line += "; \(s.updates) pending update\(s.updates == 1 ? "" : "s") (\(s.securityUpdates) security); \(s.rebootRequired) need reboot"
        if let finished = run.finishedAt {
            line += String(format: "; %.1fs", finished.timeIntervalSince(run.startedAt))
        }
        return line + "  [run \(run.runId)]\n"
    }

    /// Ansible ad-hoc style: a header line per host, then its output indented.
    public static func exec(_ run: ExecRun) -> String {
        var out = ""
        for host in run.hosts {
            var header = "\(host.name) | \(host.status.rawValue)"
            if let code = host.exitCode { header += " | rc=\(code)" }
            header += " | \(host.durationMs)ms"
            if let error = host.error, host.exitCode == nil { header += " | \(error)" }
            out += header + "\n"
            for stream in [host.stdout, host.stderr] where !stream.isEmpty {
                for line in stream.split(separator: "\n", omittingEmptySubsequences: false).dropLast(stream.hasSuffix("\n") ? 1 : 0) {
                    out += "    \(line)\n"
                }
            }
        }
        let s = run.summary
        var line = "\n\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.ok) ok"
        for (status, count) in s.byStatus.sorted(by: { $0.key < $1.key }) { line += ", \(count) \(status)" }
        if let finished = run.finishedAt { line += String(format: "; %.1fs", finished.timeIntervalSince(run.startedAt)) }
        return out + line + "  [run \(run.runId)]\n"
    }

    public static func history(_ runs: [RunListing]) -> String {
        let rows = runs.map { run -> [String] in
            [run.runId, run.kind, JSONOutput.timestamp(run.startedAt), run.state.rawValue, String(run.hosts), String(run.failed),
             String(run.updates), String(run.securityUpdates), run.policy.map { "policy \($0) by \(run.user ?? "?")" } ?? run.inventory ?? "-"]
        }
        return render(header: ["RUN", "KIND", "STARTED", "STATE", "HOSTS", "FAILED", "UPDATES", "SECURITY", "WHAT"],
                      rows: rows, rightAligned: [4, 5, 6, 7])
    }

    static func render(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return rightAligned.contains(index) ? pad + cell : (index == cells.count - 1 ? cell : cell + pad)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        return ([line(header)] + rows.map(line)).joined()
    }
}
