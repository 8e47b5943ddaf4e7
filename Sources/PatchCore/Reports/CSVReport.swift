import Foundation

/// RFC 4180 CSV: CRLF line ends, a header row, fields quoted when they hold a comma, a quote or a
/// line break (quotes doubled). Columns are stable: new ones are only ever appended.
///
/// Text fields hold what endpoints and files said, so a spreadsheet must not run them: a text field
/// that starts with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (OWASP's CSV injection advice),
/// and control characters other than tab, CR and LF are shown as `\x1b`, `\u202e` (see
/// `TerminalText`). Numbers patchctl computes itself (the `…NumericColumns`) are written as they
/// are, so a negative `release_age_days` stays a number.
public enum CSVReport {
    /// One row per host × pending update; a host with none gets one row with the update columns empty.
    public static let complianceColumns = [
        "as_of", "host", "groups", "compliant", "host_reasons", "last_scan_at", "last_scan_run", "stale", "reachable", "platform",
        "reboot_required", "last_deploy_at", "last_deploy_run", "last_deploy_policy", "last_deploy_result",
        "package", "installed_version", "available_version", "security", "severity", "source", "first_seen", "first_seen_run",
        "age_days", "released_at", "release_age_days", "rule", "within_days", "due_at", "status", "days_overdue",
        "exception_id", "exception_state", "exception_until",
    ]

    public static let trendColumns = ["day", "at", "hosts", "scanned", "compliant", "percent_compliant", "overdue", "missing_security"]

    /// Columns holding numbers patchctl computed (never endpoint text): left as written.
    public static let complianceNumericColumns: Set<String> = ["age_days", "release_age_days", "within_days", "days_overdue", "exception_id"]
    public static let trendNumericColumns: Set<String> = ["hosts", "scanned", "compliant", "percent_compliant", "overdue", "missing_security"]

    public static let diffColumns = ["host", "change", "package", "from_version", "to_version", "installed_version", "security", "source",
                                     "base_run", "target_run"]

    public static func compliance(_ report: ComplianceReport) -> String {
        var rows: [[String]] = []
        let asOf = JSONOutput.timestamp(report.evidence.generatedAt)
        for host in report.hosts {
            let hostFields: [String] = [
                asOf, host.name, host.groups.joined(separator: ";"), flag(host.compliant), host.reasons.joined(separator: " | "),
                time(host.lastScan?.at), host.lastScan?.runId ?? "", flag(host.stale), host.reachable.map(flag) ?? "", host.platform ?? "",
                host.rebootRequired.map(flag) ?? "", time(host.lastDeployment?.at), host.lastDeployment?.runId ?? "",
                host.lastDeployment?.policy ?? "", host.lastDeployment?.result.rawValue ?? "",
            ]
            if host.updates.isEmpty {
                rows.append(hostFields + Array(repeating: "", count: complianceColumns.count - hostFields.count))
            }
            for finding in host.updates {
                rows.append(hostFields + [
                    finding.package, finding.installedVersion, finding.availableVersion, flag(finding.security), finding.severity ?? "",
                    finding.source, time(finding.firstSeen), finding.firstSeenRun, String(finding.ageDays), time(finding.releasedAt),
                    finding.releaseAgeDays.map(String.init) ?? "", finding.rule ?? "", finding.withinDays.map(String.init) ?? "",
                    time(finding.dueAt), finding.status.rawValue, finding.daysOverdue.map(String.init) ?? "",
                    finding.exceptionId.map { String($0) } ?? "", finding.exceptionState?.rawValue ?? "", time(finding.exceptionUntil),
                ])
            }
        }
        return document(header: complianceColumns, rows: rows, numeric: complianceNumericColumns)
    }

    public static func trend(_ points: [ComplianceReport.TrendPoint]) -> String {
        document(header: trendColumns, rows: points.map { point in
            // A day without data leaves its figures empty (a spreadsheet's blank, not a 0).
            [point.day, JSONOutput.timestamp(point.at), String(point.hosts), String(point.scanned), point.compliant.map(String.init) ?? "",
             point.percentCompliant.map { String(format: "%.1f", $0) } ?? "", point.overdue.map(String.init) ?? "",
             point.missingSecurity.map(String.init) ?? ""]
        }, numeric: trendNumericColumns)
    }

    public static func diff(_ diff: FindingsDiff) -> String {
        var rows: [[String]] = []
        for host in diff.hosts {
            let runs = [host.baseRun ?? "", host.targetRun]
            if host.added.isEmpty && host.removed.isEmpty && host.changed.isEmpty {
                rows.append([host.name, host.change.rawValue, "", "", "", "", "", ""] + runs)
            }
            for item in host.added {
                rows.append([host.name, "added", item.package, "", item.availableVersion, item.installedVersion, flag(item.security), item.source] + runs)
            }
            for item in host.changed {
                rows.append([host.name, "changed", item.package, item.fromVersion, item.toVersion, item.installedVersion, flag(item.security), item.source] + runs)
            }
            for item in host.removed {
                rows.append([host.name, "removed", item.package, item.availableVersion, "", item.installedVersion, flag(item.security), item.source] + runs)
            }
        }
        return document(header: diffColumns, rows: rows, numeric: [])
    }

    static func document(header: [String], rows: [[String]], numeric numericColumns: Set<String>) -> String {
        let numeric = header.map(numericColumns.contains)
        return ([header] + rows).map { row in
            row.enumerated().map { index, value in field(value, numeric: index < numeric.count && numeric[index]) }.joined(separator: ",") + "\r\n"
        }.joined()
    }

    static func field(_ value: String, numeric: Bool = false) -> String {
        let value = numeric ? value : text(value)
        // Scalars, not Characters: "\r\n" is one Character and would match neither.
        guard value.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A text field as a spreadsheet may safely open it: never a formula, no terminal controls.
    static func text(_ value: String) -> String {
        let value = TerminalText.neutralised(value, except: ["\t", "\r", "\n"])
        guard let first = value.unicodeScalars.first, formulaTriggers.contains(first) else { return value }
        return "'" + value
    }

    /// What makes Excel, LibreOffice and Google Sheets read a cell as a formula (OWASP).
    static let formulaTriggers: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r"]

    static func flag(_ value: Bool) -> String { value ? "true" : "false" }

    static func time(_ date: Date?) -> String { date.map(JSONOutput.timestamp) ?? "" }
}
