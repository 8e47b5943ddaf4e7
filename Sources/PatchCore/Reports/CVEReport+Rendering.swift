import Foundation

extension CVEReport {
    /// The text `patchctl report cves --format FORMAT` prints (or writes to `-o`). Warnings are in
    /// the JSON document; the table's go to stderr (the caller prints `warnings`).
    public func rendered(as format: ReportFormat) throws -> String {
        switch format {
        case .table: return TableReport.cves(self)
        case .json: return try JSONOutput.encode(self, pretty: true) + "\n"
        case .ndjson: return try cves.map { try JSONOutput.encode($0, pretty: false) + "\n" }.joined()
        case .csv: return CSVReport.cves(self)
        case .html: return HTMLReport.cves(self)
        }
    }

    /// One line for stderr after writing a file.
    public var headline: String {
        "\(summary.cves) CVE\(summary.cves == 1 ? "" : "s") on \(summary.hosts) host\(summary.hosts == 1 ? "" : "s")"
            + " (\(summary.kev) KEV, \(summary.unfixed) without a fix on some host)"
    }

    /// "high (important, medium)": the normalised severity and, where they differ, the feeds' words.
    static func severityText(_ severity: Severity, _ words: [String]) -> String {
        let others = words.filter { $0.lowercased() != severity.name }
        return others.isEmpty ? severity.name : "\(severity.name) (\(others.joined(separator: ", ")))"
    }

    /// The FIX cell: "xz-utils 5.6.1+really5.4.5-1", several joined, or "no fix".
    static func fixText(_ entry: Entry) -> String {
        var parts = entry.fixes.map { [$0.package, $0.version].compactMap { $0 }.joined(separator: " ") }
        if entry.unfixedHosts > 0 { parts.append(entry.fixes.isEmpty ? "no fix" : "no fix on \(entry.unfixedHosts)") }
        return parts.joined(separator: ", ")
    }

    static func day(_ date: Date) -> String { String(JSONOutput.timestamp(date).prefix(10)) }
}

extension TableReport {
    /// One row per CVE; with only a few CVEs (or `--cve`), each one's hosts below it.
    public static func cves(_ report: CVEReport) -> String {
        var out = line("CVEs open in each host's latest successful scan as of \(JSONOutput.timestamp(report.generatedAt))\n\n")
        let rows = report.cves.map { entry -> [String] in
            let names = entry.hosts.map(\.host)
            let hosts = names.count <= 3 ? names.joined(separator: ", ") : names.prefix(3).joined(separator: ", ") + " +\(names.count - 3)"
            return [entry.id, CVEReport.severityText(entry.severity, entry.vendorSeverities), entry.kev ? "KEV" : "-",
                    String(entry.hostCount), hosts, CVEReport.fixText(entry), CVEReport.day(entry.firstSeen)]
        }
        out += render(header: ["CVE", "SEVERITY", "KEV", "HOSTS", "AFFECTED", "FIX", "FIRST SEEN"], rows: rows, rightAligned: [3])
        if report.cves.count <= 5 {
            for entry in report.cves {
                out += line("\n\(entry.id): \(entry.hostCount) host\(entry.hostCount == 1 ? "" : "s")\n")
                let hostRows = entry.hosts.map { host -> [String] in
                    [host.host, host.packages.joined(separator: ", "), host.installedVersion ?? "-",
                     host.fixable ? (host.fixedVersion ?? "-") : "no fix" + (host.fixedVersion.map { " (fixed in \($0), not offered)" } ?? ""),
                     CVEReport.day(host.firstSeen), JSONOutput.timestamp(host.scannedAt)]
                }
                // Indented under its CVE (render trims each line, so the indent goes on afterwards).
                let table = render(header: ["HOST", "PACKAGE", "INSTALLED", "FIX", "FIRST SEEN", "SCANNED"], rows: hostRows, rightAligned: [])
                out += table.split(separator: "\n").map { "  " + $0 + "\n" }.joined()
            }
        }
        let s = report.summary
        out += "\n\(report.headline)" + (s.omitted > 0 ? "; \(s.omitted) more left out by --limit" : "") + "\n"
        return out
    }
}

extension CSVReport {
    public static let cveColumns = ["cve", "severity", "vendor_severity", "cvss", "kev", "host", "packages", "installed_version",
                                    "fixed_version", "fixable", "first_seen", "scan_run"]

    /// One row per CVE and host.
    public static func cves(_ report: CVEReport) -> String {
        var rows: [[String]] = []
        for entry in report.cves {
            for host in entry.hosts {
                rows.append([entry.id, entry.severity.name, host.vendorSeverity ?? "", entry.cvss.map { String($0) } ?? "", flag(entry.kev), host.host,
                             host.packages.joined(separator: " "), host.installedVersion ?? "", host.fixedVersion ?? "", flag(host.fixable),
                             time(host.firstSeen), host.scanRun])
            }
        }
        return document(header: cveColumns, rows: rows, numeric: ["cvss"])
    }
}

extension HTMLReport {
    /// A self-contained page: summary tiles, then one table row per CVE and host.
    public static func cves(_ report: CVEReport) -> String {
        let s = report.summary
        let asOf = JSONOutput.timestamp(report.generatedAt)
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"generator\" content=\"patchctl\">\n<title>Open CVEs as of \(asOf)</title>\n<style>\n\(css)</style>\n</head>\n<body>\n<div class=\"page\">\n"
        html += "<header class=\"top\">\n<h1>Open CVEs</h1>\n<p class=\"sub\">As of <time data-metric=\"generated_at\">\(asOf)</time> · database \(escape(report.database))</p>\n"
        html += "<div class=\"tiles\">"
        html += tile(String(s.cves), "CVEs open", metric: "cves", value: String(s.cves), tone: s.cves == 0 ? "good" : nil)
        html += tile(String(s.kev), "known exploited (KEV)", metric: "kev", value: String(s.kev), tone: s.kev == 0 ? "good" : "bad")
        html += tile(String(s.bySeverity["critical"] ?? 0), "critical", metric: "critical", value: String(s.bySeverity["critical"] ?? 0), tone: nil)
        html += tile(String(s.hosts), "hosts affected", metric: "hosts", value: String(s.hosts), tone: nil)
        html += tile(String(s.unfixed), "without a fix somewhere", metric: "unfixed", value: String(s.unfixed), tone: nil)
        html += "</div>\n</header>\n"
        if !report.warnings.isEmpty {
            html += "<section id=\"warnings\"><h2>Warnings</h2><ul>" + report.warnings.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>\n"
        }
        html += "<section id=\"cves\"><h2>CVEs</h2><table><thead><tr><th>CVE</th><th>Severity</th><th>CVSS</th><th>KEV</th><th>Host</th>"
        html += "<th>Packages</th><th>Installed</th><th>Fix</th><th>First seen</th></tr></thead><tbody>"
        for entry in report.cves {
            for host in entry.hosts {
                html += "<tr><td>\(escape(entry.id))</td><td>\(escape(CVEReport.severityText(host.severity, host.vendorSeverity.map { [$0] } ?? [])))</td>"
                html += "<td>\(entry.cvss.map { String($0) } ?? "")</td><td>\(entry.kev ? "KEV" : "")</td><td>\(escape(host.host))</td>"
                html += "<td>\(escape(host.packages.joined(separator: ", ")))</td><td>\(escape(host.installedVersion ?? ""))</td>"
                html += "<td>\(escape(host.fixable ? host.fixedVersion ?? "" : "no fix"))</td><td>\(CVEReport.day(host.firstSeen))</td></tr>"
            }
        }
        html += "</tbody></table></section>\n"
        return html + "</div>\n</body>\n</html>\n"
    }
}
