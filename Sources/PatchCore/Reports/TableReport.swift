import Foundation

/// Plain-text tables for a terminal: one row per host, then failures with their reasons, then a summary.
/// Values come from endpoints and files: every cell goes through `render` and every other line is a
/// `TerminalLine`, so their control characters are shown (`\x1b`), never sent to the terminal.
public enum TableReport {
    public static func scan(_ run: ScanRun, details: Bool) -> String {
        var table = ScanTable(details: details)
        table.add(run.hosts)
        return table.text(summaryLine: summaryLine(run))
    }

    /// `scan`'s text made a batch of hosts at a time: the hosts' table is laid out over all of them,
    /// so what is kept until the end is its cells and the text after it, not the hosts.
    struct ScanTable {
        let details: Bool
        private var rows: [[String]] = []
        private var detailText = "", failures = "", rejecting = ""

        init(details: Bool) { self.details = details }

        mutating func add(_ hosts: [HostScan]) {
            for host in hosts {
                let platform = host.os.map { "\($0.name) \($0.version)".trimmingCharacters(in: .whitespaces) } ?? "-"
                let ok = host.status == .ok
                rows.append([host.name, host.status.rawValue, platform,
                             ok ? String(host.updates.count) : "-", ok ? String(host.securityCount) : "-",
                             host.rebootRequired.map { $0 ? "yes" : "no" } ?? "-"])
                if details && !host.updates.isEmpty {
                    detailText += line("\n\(host.name):\n")
                    // CVES: how many the update fixes (advisories matched); SEVERITY: the highest of them and the vendor's word.
                    let updateRows = host.updates.map { update in
                        [update.name, update.installedVersion, update.availableVersion, update.security ? "security" : "",
                         update.cves.isEmpty ? "" : String(update.cves.count),
                         update.normalizedSeverity == .unknown ? "" : update.normalizedSeverity.name, update.source]
                    }
                    detailText += render(header: ["  PACKAGE", "INSTALLED", "AVAILABLE", "", "CVES", "SEVERITY", "SOURCE"],
                                         rows: updateRows.map { ["  " + $0[0]] + $0.dropFirst() }, rightAligned: [4])
                }
                if host.status != .ok { failures += line("\(host.name): \(host.status.rawValue): \(host.error ?? "")\n") }
                for rejected in host.rejectedUpdates { rejecting += line("\(host.name): update ignored, never planned: \(rejected.reason)\n") }
            }
        }

        func text(summaryLine: String) -> String {
            var out = render(header: ["HOST", "STATUS", "PLATFORM", "PENDING", "SECURITY", "REBOOT"], rows: rows, rightAligned: [3, 4]) + detailText
            if !failures.isEmpty { out += "\n" + failures }
            if !rejecting.isEmpty { out += "\n" + rejecting }
            return out + "\n" + summaryLine
        }
    }

    public static func summaryLine(_ run: ScanRun) -> String {
        summaryLine(run.summary, runId: run.runId, startedAt: run.startedAt, finishedAt: run.finishedAt)
    }

    static func summaryLine(_ s: RunSummary, runId: String, startedAt: Date, finishedAt: Date?) -> String {
        var line = "\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.ok) ok"
        for (status, count) in s.byStatus.sorted(by: { $0.key < $1.key }) { line += ", \(count) \(status)" }
        line += "; \(s.updates) pending update\(s.updates == 1 ? "" : "s") (\(s.securityUpdates) security); \(s.rebootRequired) need reboot"
        if let finished = finishedAt {
            line += String(format: "; %.1fs", finished.timeIntervalSince(startedAt))
        }
        return line + "  [run \(runId)]\n"
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
        // A history shared by several controllers says which recorded each run; one controller's does not repeat it.
        let shared = Set(runs.map { $0.controller ?? "" }).count > 1
        let rows = runs.map { run -> [String] in
            [run.runId, run.kind.rawValue, JSONOutput.timestamp(run.startedAt), run.state.rawValue, String(run.hosts), String(run.failed),
             String(run.updates), String(run.securityUpdates), run.installed.map(String.init) ?? "-"]
                + (shared ? [run.controller ?? "-"] : [])
                + [run.policy.map { "policy \($0) by \(run.user ?? "?")" } ?? run.inventory ?? "-"]
        }
        // UPDATES are pending (for a deployment, what its fresh scans found); INSTALLED what a deployment or install did.
        return render(header: ["RUN", "KIND", "STARTED", "STATE", "HOSTS", "FAILED", "UPDATES", "SECURITY", "INSTALLED"]
                          + (shared ? ["CONTROLLER"] : []) + ["WHAT"],
                      rows: rows, rightAligned: [4, 5, 6, 7, 8])
    }

    /// Every cell is neutralised before it is measured: a tab or newline in a value cannot make a
    /// column or a row of its own. On a terminal (`TextLayout.current`) the table fits its width:
    /// the widest text columns give way first, never the numbers, and a cut cell ends in `…`; and
    /// status, security, severity and overdue cells are coloured.
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int>) -> String {
        let layout = TextLayout.current
        var header = header.map { TerminalText.neutralised($0) }
        var rows = rows.map { $0.map { TerminalText.neutralised($0) } }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        var rightAligned = rightAligned
        if let limit = layout.width, widths.reduce(0, +) + 2 * max(0, widths.count - 1) > limit {
            // Too wide: columns empty in every row go first (their header alone says nothing).
            let kept = widths.indices.filter { index in rows.contains { index < $0.count && !$0[index].trimmingCharacters(in: .whitespaces).isEmpty } }
            if kept.count < widths.count, !kept.isEmpty {
                header = kept.map { header[$0] }
                widths = kept.map { widths[$0] }
                rows = rows.map { row in kept.map { $0 < row.count ? row[$0] : "" } }
                rightAligned = Set(kept.enumerated().filter { rightAligned.contains($0.element) }.map(\.offset))
            }
            widths = fitted(widths, header: header, rightAligned: rightAligned, into: limit)
            header = header.enumerated().map { index, cell in cut(cell, to: widths[index]) }
            rows = rows.map { row in row.enumerated().map { index, cell in index < widths.count ? cut(cell, to: widths[index]) : cell } }
        }
        func line(_ cells: [String], styles: (Int, String) -> TextStyle?) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
                let shown = layout.colour ? styles(index, cell).map { styled(cell, $0) } ?? cell : cell
                return rightAligned.contains(index) ? pad + shown : (index == cells.count - 1 ? shown : shown + pad)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        let headerLine = line(header) { _, _ in .bold }
        return ([headerLine] + rows.map { line($0) { index, cell in index < header.count ? cellStyle(column: header[index], value: cell) : nil } }).joined()
    }

    /// Column widths that fit `limit` with two spaces between columns. The last column (free text:
    /// a source, a reason, a detail) gives way first; then the widest shrinkable column loses a
    /// character at a time. Numbers (right-aligned) keep their width; a text column keeps at least
    /// 5 characters, or its header's up to 8, so every column stays recognisable.
    static func fitted(_ natural: [Int], header: [String], rightAligned: Set<Int>, into limit: Int) -> [Int] {
        var widths = natural
        let floors = natural.indices.map { min(natural[$0], max(5, min(header[$0].count, 8))) }
        var overflow = widths.reduce(0, +) + 2 * max(0, widths.count - 1) - limit
        if overflow > 0, let last = widths.indices.last, !rightAligned.contains(last) {
            let given = min(overflow, widths[last] - floors[last])
            widths[last] -= given
            overflow -= given
        }
        while overflow > 0 {
            // The widest column that can still give way; among equals the later (free text sits last).
            guard let index = widths.indices.filter({ !rightAligned.contains($0) && widths[$0] > floors[$0] })
                .max(by: { (widths[$0], $0) < (widths[$1], $1) }) else { break }
            widths[index] -= 1
            overflow -= 1
        }
        return widths
    }

    /// `cell` cut to `width` characters, its end shown as `…`.
    static func cut(_ cell: String, to width: Int) -> String {
        cell.count <= width ? cell : String(cell.prefix(max(0, width - 1))) + "…"
    }

    /// `cell` in `style`, the style around its text only (its indent stays plain, as the line trims it).
    private static func styled(_ cell: String, _ style: TextStyle) -> String {
        let core = cell.trimmingCharacters(in: .whitespaces)
        guard !core.isEmpty, let range = cell.range(of: core) else { return cell }
        return cell.replacingCharacters(in: range, with: style.apply(core))
    }

    /// What a cell's colour says, by its column: a host's or run's state, security and overdue
    /// counts, severities, compliance and reboots.
    static func cellStyle(column: String, value: String) -> TextStyle? {
        let value = value.trimmingCharacters(in: .whitespaces)
        switch column.trimmingCharacters(in: .whitespaces) {
        case "STATUS", "STATE", "CHANGE":
            return statusStyle(value)
        case "COMPLIANT" where ["yes", "no", "NO"].contains(value):
            return value == "yes" ? .green : .red
        case "SECURITY", "NEW SECURITY", "":
            return value == "security" || (Int(value) ?? 0) > 0 ? .yellow : nil
        case "OVERDUE", "FAILED", "KEV", "CRITICAL", "NEW CVES":
            return (Int(value) ?? 0) > 0 ? .red : nil
        case "SEVERITY":
            switch value.lowercased() {
            case "critical": return .boldRed
            case "high", "important": return .red
            case "medium", "moderate": return .yellow
            default: return nil
            }
        case "REBOOT":
            return value == "yes" ? .yellow : nil
        default:
            return nil
        }
    }

    /// Green for done, red for failed, yellow for waiting or held back: a host's status by its own
    /// classification, other states (runs, approvals, exceptions, diffs) by name.
    static func statusStyle(_ value: String) -> TextStyle? {
        if let status = HostStatus(rawValue: value) {
            return status == .ok ? .green : status.isFailure ? .red : .yellow
        }
        switch value {
        case "finished", "compliant", "active", "approved", "installed", "fixed":
            return .green
        case "error", "rejected", "expired", "broken", "non_compliant", "gone":
            return .red
        case "awaiting", "awaiting_approval", "pending", "partial", "running", "dry_run", "new", "changed", "stale", "revoked":
            return .yellow
        default:
            return nil
        }
    }

    /// A line whose interpolated values are neutralised (its literal text is the layout).
    static func line(_ text: TerminalLine) -> String { text.text }
}

extension TableReport {
    /// `history export`: each table's rows, then where they went.
    public static func export(_ summary: HistoryExport.Summary) -> String {
        let rows = summary.tables.map { [$0.table, String($0.rows), String($0.digest.prefix(16))] }
        return render(header: ["TABLE", "ROWS", "DIGEST"], rows: rows, rightAligned: [1])
            + "\n\(summary.runs) run\(summary.runs == 1 ? "" : "s") \(summary.merged ? "merged" : "exported") from \(summary.source) to \(summary.target), "
            + "every table read back and matched before commit (\(String(format: "%.1f", summary.seconds)) s)\n"
            + summary.notes.map { TerminalText.neutralised($0) + "\n" }.joined()
    }

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
