import Foundation

/// Plain-text tables for a terminal: one row per host, then failures with their reasons, then a summary.
/// Values come from endpoints and files: every cell goes through `render` and every other line is a
/// `TerminalLine`, so their control characters are shown (`\x1b`), never sent to the terminal.
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
                out += line("\n\(host.name):\n")
                // CVES: how many the update fixes (advisories matched); SEVERITY: the highest of them and the vendor's word.
                let updateRows = host.updates.map { update in
                    [update.name, update.installedVersion, update.availableVersion, update.security ? "security" : "",
                     update.cves.isEmpty ? "" : String(update.cves.count),
                     update.normalizedSeverity == .unknown ? "" : update.normalizedSeverity.name, update.source]
                }
                out += render(header: ["  PACKAGE", "INSTALLED", "AVAILABLE", "", "CVES", "SEVERITY", "SOURCE"],
                              rows: updateRows.map { ["  " + $0[0]] + $0.dropFirst() }, rightAligned: [4])
            }
        }
        let failures = run.hosts.filter { $0.status != .ok }
        if !failures.isEmpty {
            out += "\n"
            for host in failures { out += line("\(host.name): \(host.status.rawValue): \(host.error ?? "")\n") }
        }
        let rejecting = run.hosts.filter { !$0.rejectedUpdates.isEmpty }
        if !rejecting.isEmpty {
            out += "\n"
            for host in rejecting {
                for rejected in host.rejectedUpdates { out += line("\(host.name): update ignored, never planned: \(rejected.reason)\n") }
            }
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
            var header = line("\(host.name) | \(host.status.rawValue)")
            if let code = host.exitCode { header += " | rc=\(code)" }
            header += " | \(host.durationMs)ms"
            if let error = host.error, host.exitCode == nil { header += line(" | \(error)") }
            out += header + "\n"
            for stream in [host.stdout, host.stderr] where !stream.isEmpty {
                // The output's own line breaks (LF, or Windows' CRLF) are the layout; anything else is shown.
                let text = stream.replacingOccurrences(of: "\r\n", with: "\n")
                for output in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
                    out += line("    \(output)\n")
                }
            }
        }
        let s = run.summary
        var summary = "\n\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.ok) ok"
        for (status, count) in s.byStatus.sorted(by: { $0.key < $1.key }) { summary += ", \(count) \(status)" }
        if let finished = run.finishedAt { summary += String(format: "; %.1fs", finished.timeIntervalSince(run.startedAt)) }
        return out + summary + "  [run \(run.runId)]\n"
    }

    public static func history(_ runs: [RunListing]) -> String {
        let rows = runs.map { run -> [String] in
            [run.runId, run.kind.rawValue, JSONOutput.timestamp(run.startedAt), run.state.rawValue, String(run.hosts), String(run.failed),
             String(run.updates), String(run.securityUpdates), run.installed.map(String.init) ?? "-",
             run.policy.map { "policy \($0) by \(run.user ?? "?")" } ?? run.inventory ?? "-"]
        }
        // UPDATES are pending (for a deployment, what its fresh scans found); INSTALLED what a deployment or install did.
        return render(header: ["RUN", "KIND", "STARTED", "STATE", "HOSTS", "FAILED", "UPDATES", "SECURITY", "INSTALLED", "WHAT"],
                      rows: rows, rightAligned: [4, 5, 6, 7, 8])
    }

    /// Every cell is neutralised before it is measured: a tab or newline in a value cannot make a
    /// column or a row of its own.
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        let header = header.map { TerminalText.neutralised($0) }
        let rows = rows.map { $0.map { TerminalText.neutralised($0) } }
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

    /// A line whose interpolated values are neutralised (its literal text is the layout).
    static func line(_ text: TerminalLine) -> String { text.text }
}

extension TableReport {
    /// `history prune`: what went (or would go), in one paragraph.
    public static func prune(_ result: PruneResult) -> String {
        let verb = result.dryRun ? "would delete" : "deleted"
        var text = "\(verb) \(result.runs) run(s) that started before \(JSONOutput.timestamp(result.before)) "
            + "(\(result.hostRecords) host records), \(result.findingIntervals) finding interval(s) and "
            + "\(result.unfixedCVEIntervals) unfixed-CVE interval(s) last seen before it, and \(result.events) event(s)\n"
        if !result.dryRun { text += "freed \(result.bytesFreed) bytes; reports reaching before the cut say so\n" }
        return text
    }
}
