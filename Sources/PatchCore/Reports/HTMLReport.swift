import Foundation

/// One self-contained HTML file: inline CSS, inline SVG charts, no scripts and no external
/// assets, readable on screen and printed. The charts sit at fixed positions below a header of
/// fixed height (`Layout`), so a screenshot can be checked where they are.
public enum HTMLReport {
    /// Screen geometry in CSS pixels (the print stylesheet lets everything flow instead).
    public enum Layout {
        public static let padding = 20
        public static let headerHeight = 200
        public static let chartWidth = 540
        public static let chartHeight = 300
        public static let gap = 20
        public static var pageWidth: Int { 2 * chartWidth + gap + 2 * padding }

        /// Where chart `index` is drawn: 0 compliance by group, 1 severity, 2 age, 3 trend
        /// (the trend page has one chart, `index` 0, twice as wide).
        public static func chartFrame(_ index: Int, wide: Bool = false) -> (x: Int, y: Int, width: Int, height: Int) {
            (padding + (index % 2) * (chartWidth + gap), headerHeight + (index / 2) * (chartHeight + gap),
             wide ? 2 * chartWidth + gap : chartWidth, chartHeight)
        }
    }

    public static func compliance(_ report: ComplianceReport) -> String {
        collected { try compliance(report, to: $0) }
    }

    /// What a streamed writer hands out, as one string (its output never fails).
    static func collected(_ write: ((String) throws -> Void) throws -> Void) -> String {
        var html = ""
        // Appending to a string cannot fail, and the writers throw only what their output throws.
        try! write { html += $0 }
        return html
    }

    /// The page handed to `output` section by section: a fleet's page is never held whole.
    public static func compliance(_ report: ComplianceReport, to output: (String) throws -> Void) throws {
        let charts = [groupChart, severityChart, ageChart, trendChart].map { draw in
            "<figure class=\"chart\">" + draw(report, Layout.chartWidth, Layout.chartHeight) + "</figure>"
        }.joined()
        // The sections of a fleet's size (hosts, their details, the patches) go out host by host, row by row.
        let sections: [Section] = [
            .whole(summarySection), .whole(rulesSection), .whole(groupsSection), .streamed(hostsSection), .whole(unmanagedSection),
            .whole(exposedSection), .streamed(detailsSection), .whole(exceptionsSection), .streamed(patchesSection), .whole(trendSection),
            .whole(evidenceSection),
        ]
        try page(report, title: "\(report.standard.name) compliance report", charts: charts, sections: sections,
                 navigation: [("summary", "Summary"), ("rules", "Rules"), ("groups", "Groups"), ("hosts", "Hosts"), ("exposed", "Most exposed"),
                              ("exceptions", "Exceptions"), ("patches", "Time to patch"), ("trend", "Trend"), ("evidence", "Evidence")], to: output)
    }

    public static func trend(_ report: ComplianceReport) -> String {
        let wide = Layout.chartFrame(0, wide: true)
        let chart = "<figure class=\"chart wide\">" + trendChart(report, width: wide.width, height: wide.height) + "</figure>"
        return collected { output in
            try page(report, title: "\(report.standard.name) compliance trend", charts: chart, sections: [.whole(trendSection), .whole(evidenceSection)],
                     navigation: [("trend", "Trend"), ("evidence", "Evidence")], to: output)
        }
    }

    // MARK: Page

    /// A section of the page: made whole, or handed out in pieces as it is made.
    enum Section {
        case whole((ComplianceReport) -> String)
        case streamed((ComplianceReport, (String) throws -> Void) throws -> Void)
    }

    /// The page around `sections`, each made and handed to `output` in turn.
    static func page(_ report: ComplianceReport, title: String, charts: String, sections: [Section], navigation: [(String, String)],
                     to output: (String) throws -> Void) throws {
        let s = report.summary
        let asOf = JSONOutput.timestamp(report.evidence.generatedAt)
        var html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        html += "<meta name=\"generator\" content=\"patchctl\">\n<title>\(escape(title)) as of \(asOf)</title>\n<style>\n\(css)</style>\n</head>\n<body>\n<div class=\"page\">\n"
        html += "<header class=\"top\">\n<h1>\(escape(title))</h1>\n"
        html += "<p class=\"sub\">As of <time data-metric=\"generated_at\">\(asOf)</time> · \(escape(report.standard.name)) (\(escape(report.standard.source))) · "
        html += "\(report.evidence.runs.count) runs · database \(escape(report.evidence.database))</p>\n"
        html += "<nav>" + navigation.map { "<a href=\"#\($0.0)\">\(escape($0.1))</a>" }.joined(separator: " ") + "</nav>\n"
        html += "<div class=\"tiles\">"
        html += tile(percentText(s.percentCompliant), "hosts compliant", metric: "percent_compliant", value: number(s.percentCompliant),
                     tone: s.nonCompliant == 0 ? "good" : "bad")
        html += tile("\(s.compliant) / \(s.hosts)", "compliant / hosts", metric: "compliant", value: String(s.compliant), tone: nil)
        html += tile(String(s.missing.overdue), "updates past deadline", metric: "overdue", value: String(s.missing.overdue),
                     tone: s.missing.overdue == 0 ? "good" : "bad")
        html += tile(String(s.missing.security), "security updates pending", metric: "missing_security", value: String(s.missing.security), tone: nil)
        html += tile(String(s.missing.kev), "pending fixes of known exploited CVEs (KEV)", metric: "kev", value: String(s.missing.kev),
                     tone: s.missing.kev == 0 ? "good" : "bad")
        html += tile(s.timeToPatch.meanDays.map { String(format: "%.1f d", $0) } ?? "–", "mean time to patch",
                     metric: "mean_days", value: number(s.timeToPatch.meanDays), tone: nil)
        html += tile(String(s.stale + s.neverScanned), "stale or never scanned", metric: "stale_or_never", value: String(s.stale + s.neverScanned),
                     tone: s.stale + s.neverScanned == 0 ? "good" : "bad")
        html += "</div>\n</header>\n<section class=\"charts\">" + charts + "</section>\n"
        try output(html)
        for (index, section) in sections.enumerated() {
            if index > 0 { try output("\n") }
            switch section {
            case let .whole(make): try output(make(report))
            case let .streamed(write): try write(report, output)
            }
        }
        try output("\n</div>\n</body>\n</html>\n")
    }

    static func tile(_ text: String, _ label: String, metric: String, value: String, tone: String?) -> String {
        "<div class=\"tile\(tone.map { " t-" + $0 } ?? "")\"><div class=\"v\" data-metric=\"\(metric)\" data-value=\"\(value)\">\(escape(text))</div>"
            + "<div class=\"l\">\(escape(label))</div></div>"
    }

    // MARK: Sections

    static func summarySection(_ report: ComplianceReport) -> String {
        let s = report.summary
        let m = s.missing
        let ttp = s.timeToPatch
        let rows: [(String, String, String)] = [
            ("hosts", "Hosts", String(s.hosts)), ("compliant", "Compliant", String(s.compliant)),
            ("non_compliant", "Non-compliant", String(s.nonCompliant)), ("percent_compliant", "Percent compliant", percentText(s.percentCompliant)),
            ("scanned", "Scanned successfully at least once", String(s.scanned)), ("stale", "Stale (no scan within \(report.standard.staleDays) days)", String(s.stale)),
            ("never_scanned", "Never scanned", String(s.neverScanned)), ("unreachable", "Last contact failed", String(s.unreachable)),
            ("reboot_required", "Reboot pending", String(s.rebootRequired)), ("missing_total", "Pending updates", String(m.total)),
            ("missing_security", "Pending security updates", String(m.security)), ("in_scope", "In scope of a rule", String(m.inScope)),
            ("overdue_updates", "Past the deadline", String(m.overdue)), ("excepted", "Past it under an active exception", String(m.excepted)),
            ("patched", "Patched since \(ReportDate.day(report.evidence.periodFrom))", String(ttp.patched)),
            ("mean_time_to_patch", "Mean time to patch (first seen → installed)", ttp.meanDays.map { String(format: "%.1f days", $0) } ?? "–"),
            ("security_mean_time_to_patch", "Mean time to patch, security updates", ttp.securityMeanDays.map { String(format: "%.1f days", $0) } ?? "–"),
        ]
        var html = "<section id=\"summary\"><h2>Summary</h2><table class=\"kv\"><tbody>"
        for (key, label, value) in rows { html += "<tr><th>\(escape(label))</th><td data-summary=\"\(key)\">\(escape(value))</td></tr>" }
        html += "</tbody></table>"
        html += "<h3>Pending updates by severity</h3><table><thead><tr>"
        html += ComplianceReport.Missing.severityBuckets.map { "<th>\($0)</th>" }.joined() + "</tr></thead><tbody><tr>"
        html += ComplianceReport.Missing.severityBuckets.map { "<td class=\"n\">\(m.bySeverity[$0] ?? 0)</td>" }.joined()
        return html + "</tr></tbody></table></section>"
    }

    static func rulesSection(_ report: ComplianceReport) -> String {
        let standard = report.standard
        var html = "<section id=\"rules\"><h2>Rules: \(escape(standard.name))</h2><p>\(escape(standard.description))</p>"
        html += "<table><thead><tr><th>Rule</th><th>Updates</th><th>Minimum severity</th><th>Within</th><th>Deadline set by</th><th>Reference</th><th>Note</th></tr></thead><tbody>"
        for rule in standard.rules {
            let origin = rule.definedBy == .standard ? "the standard"
                : "<span class=\"org\">organisation-defined</span> (\(escape(standard.name)) sets no number)"
            html += "<tr><td>\(escape(rule.name))</td><td>\(rule.updates == .security ? "security" : "all")</td>"
            html += "<td>\(rule.minSeverity.map { escape($0.name) + " (unrated security updates included)" } ?? "any")</td>"
            html += "<td class=\"n\">\(rule.withinDays) days</td><td>\(origin)</td><td>\(escape(rule.reference ?? ""))</td><td>\(escape(rule.note ?? ""))</td></tr>"
        }
        html += "</tbody></table><p>Hosts without a successful scan within \(standard.staleDays) days are non-compliant. Rule set: \(escape(standard.source)).</p>"
        return html + "</section>"
    }

    static func groupsSection(_ report: ComplianceReport) -> String {
        var html = "<section id=\"groups\"><h2>Groups and policies</h2>"
        if report.groups.isEmpty {
            html += "<p>No inventory groups (no inventory given, or hosts only in <code>all</code>).</p>"
        } else {
            html += "<table><thead><tr><th>Group</th><th>Hosts</th><th>Compliant</th><th>Percent</th><th>Stale</th><th>Never scanned</th>"
            html += "<th>Pending</th><th>Security</th><th>Overdue</th><th>Mean time to patch</th></tr></thead><tbody>"
            for group in report.groups {
                html += "<tr data-group=\"\(escape(group.name))\"><td>\(escape(group.name))</td><td class=\"n\">\(group.hosts)</td><td class=\"n\">\(group.compliant)</td>"
                html += "<td class=\"n\">\(percentText(group.percentCompliant))</td><td class=\"n\">\(group.stale)</td><td class=\"n\">\(group.neverScanned)</td>"
                html += "<td class=\"n\">\(group.missing.total)</td><td class=\"n\">\(group.missing.security)</td><td class=\"n\">\(group.missing.overdue)</td>"
                html += "<td class=\"n\">\(group.timeToPatch.meanDays.map { String(format: "%.1f days", $0) } ?? "–")</td></tr>"
            }
            html += "</tbody></table>"
        }
        if !report.policies.isEmpty {
            html += "<table><thead><tr><th>Policy</th><th>Hosts deployed to</th><th>Compliant</th><th>Percent</th><th>Installed</th><th>Mean time to patch</th></tr></thead><tbody>"
            for policy in report.policies {
                html += "<tr data-policy=\"\(escape(policy.name))\"><td>\(escape(policy.name))</td><td class=\"n\">\(policy.hosts)</td>"
                html += "<td class=\"n\">\(policy.compliant)</td><td class=\"n\">\(percentText(policy.percentCompliant))</td>"
                html += "<td class=\"n\">\(policy.timeToPatch.patched)</td><td class=\"n\">\(policy.timeToPatch.meanDays.map { String(format: "%.1f days", $0) } ?? "–")</td></tr>"
            }
            html += "</tbody></table>"
        }
        return html + "</section>"
    }

    static func hostsSection(_ report: ComplianceReport, to output: (String) throws -> Void) throws {
        var html = "<section id=\"hosts\"><h2>Hosts</h2><table><thead><tr><th>Host</th><th>Compliant</th><th>Last scan</th><th>Platform</th>"
        html += "<th>Pending</th><th>Security</th><th>Overdue</th><th>Oldest</th><th>Reboot</th><th>Last deployment</th><th>Why</th></tr></thead><tbody>"
        try output(html)
        // Row by row, on every core.
        try ParallelText.render(count: report.hosts.count, piece: { index in
            let host = report.hosts[index]
            var html = ""
            let oldest = host.updates.filter { $0.rule != nil }.map(\.ageDays).max()
            html += "<tr data-host=\"\(escape(host.name))\" data-compliant=\"\(host.compliant)\" data-pending=\"\(host.missing.total)\" "
            html += "data-security=\"\(host.missing.security)\" data-overdue=\"\(host.missing.overdue)\">"
            html += "<td><a href=\"#host-\(index + 1)\">\(escape(host.name))</a></td>"
            html += host.compliant ? "<td class=\"good\">yes</td>" : "<td class=\"bad\">no</td>"
            html += "<td>\(host.lastScan.map { ReportDate.day($0.at) } ?? "never")</td><td>\(escape(host.platform ?? "–"))</td>"
            html += "<td class=\"n\">\(host.missing.total)</td><td class=\"n\">\(host.missing.security)</td><td class=\"n\">\(host.missing.overdue)</td>"
            html += "<td class=\"n\">\(oldest.map { "\($0) d" } ?? "–")</td><td>\(host.rebootRequired.map { $0 ? "pending" : "no" } ?? "–")</td>"
            html += "<td>\(host.lastDeployment.map { "\(ReportDate.day($0.at)) \(escape($0.result.rawValue))" } ?? "–")</td>"
            html += "<td>\(escape(host.reasons.joined(separator: "; ")))</td></tr>"
            return html
        }, output: output)
        try output("</tbody></table></section>")
    }

    /// Hosts ranked by pending updates that fix KEV entries, then critical, then high ones (normalised
    /// severity): where an attacker is most likely to get in. Hosts with none of these are left out.
    static func exposedSection(_ report: ComplianceReport) -> String {
        struct Exposed {
            var index: Int, name: String, kev: Int, critical: Int, high: Int, cves: Int
        }
        var ranked: [Exposed] = []
        for (index, host) in report.hosts.enumerated() {
            let exposed = Exposed(index: index, name: host.name, kev: host.updates.filter(\.kev).count,
                                  critical: host.updates.filter { $0.normalizedSeverity == .critical }.count,
                                  high: host.updates.filter { $0.normalizedSeverity == .high }.count,
                                  cves: Set(host.updates.flatMap(\.cves)).count)
            if exposed.kev + exposed.critical + exposed.high > 0 { ranked.append(exposed) }
        }
        ranked.sort { a, b in
            if a.kev != b.kev { return a.kev > b.kev }
            if a.critical != b.critical { return a.critical > b.critical }
            if a.high != b.high { return a.high > b.high }
            return a.name < b.name
        }
        var html = "<section id=\"exposed\"><h2>Most exposed hosts</h2>"
        guard !ranked.isEmpty else { return html + "<p>No host has a pending update that fixes a KEV entry or is rated critical or high.</p></section>" }
        html += "<table><thead><tr><th>Host</th><th>KEV fixes</th><th>Critical</th><th>High</th><th>CVEs fixed by pending updates</th></tr></thead><tbody>"
        for host in ranked.prefix(20) {
            html += "<tr data-exposed=\"\(escape(host.name))\" data-kev=\"\(host.kev)\" data-critical=\"\(host.critical)\" data-high=\"\(host.high)\">"
            html += "<td><a href=\"#host-\(host.index + 1)\">\(escape(host.name))</a></td><td class=\"n\">\(host.kev)</td>"
            html += "<td class=\"n\">\(host.critical)</td><td class=\"n\">\(host.high)</td><td class=\"n\">\(host.cves)</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    /// The normalised severity with the vendor's word where it differs, and KEV: "high (Important) KEV".
    static func severityText(_ finding: ComplianceReport.Finding) -> String {
        var text = finding.normalizedSeverity == .unknown ? (finding.security ? "unrated" : "–") : finding.normalizedSeverity.name
        if let word = finding.severity, word.lowercased() != text { text += " (\(word))" }
        return text + (finding.kev ? " KEV" : "")
    }

    static func detailsSection(_ report: ComplianceReport, to output: (String) throws -> Void) throws {
        try output("<section id=\"details\"><h2>Host details</h2>")
        try ParallelText.render(count: report.hosts.count, piece: { index in
            let host = report.hosts[index]
            var html = ""
            html += "<article id=\"host-\(index + 1)\" class=\"host\"><h3>\(escape(host.name)) — \(host.compliant ? "<span class=\"good\">compliant</span>" : "<span class=\"bad\">non-compliant</span>")</h3><ul>"
            for reason in host.reasons { html += "<li>\(escape(reason))</li>" }
            for warning in host.warnings { html += "<li class=\"bad\">warning: \(escape(warning))</li>" }
            html += "</ul><p class=\"facts\">"
            var facts: [String] = []
            if !host.groups.isEmpty { facts.append("groups: \(host.groups.joined(separator: ", "))") }
            facts.append("platform: \(host.platform ?? "unknown")")
            facts.append("last successful scan: " + (host.lastScan.map { "\(JSONOutput.timestamp($0.at)) (run \($0.runId), \($0.kind))" } ?? "never"))
            if let contact = host.lastContact, contact.runId != host.lastScan?.runId {
                facts.append("last contact: \(JSONOutput.timestamp(contact.at)) \(contact.status.rawValue) (run \(contact.runId))")
            }
            facts.append("reboot pending: " + (host.rebootRequired.map { $0 ? "yes" : "no" } ?? "unknown"))
            facts.append("last deployment: " + (host.lastDeployment.map { d in
                "\(JSONOutput.timestamp(d.at)) \(d.result.rawValue) by policy \(d.policy ?? "?"), \(d.installed) installed, \(d.failed) failed (run \(d.runId))"
            } ?? "none"))
            html += facts.map(escape).joined(separator: "<br>") + "</p>"
            if !host.updates.isEmpty {
                html += "<table class=\"findings\"><thead><tr><th>Package</th><th>Installed</th><th>Available</th><th>Security</th><th>Severity</th>"
                html += "<th>First seen</th><th>Age</th><th>Released</th><th>Rule</th><th>Due</th><th>Status</th><th>Exception</th></tr></thead><tbody>"
                for finding in host.updates {
                    let statusClass = finding.status == .overdue ? " class=\"bad\"" : ""
                    html += "<tr data-package=\"\(escape(finding.package))\" data-status=\"\(finding.status.rawValue)\" data-age=\"\(finding.ageDays)\">"
                    html += "<td>\(escape(finding.package))</td><td>\(escape(finding.installedVersion))</td><td>\(escape(finding.availableVersion))</td>"
                    html += "<td>\(finding.security ? "yes" : "no")</td><td>\(escape(severityText(finding)))</td>"
                    html += "<td>\(ReportDate.day(finding.firstSeen))</td><td class=\"n\">\(finding.ageDays) d</td>"
                    html += "<td>\(finding.releasedAt.map(ReportDate.day) ?? "not reported")</td><td>\(escape(finding.rule ?? "out of scope"))</td>"
                    html += "<td>\(finding.dueAt.map(ReportDate.day) ?? "–")</td>"
                    html += "<td\(statusClass)>\(statusWords(finding.status))\(finding.daysOverdue.map { " (\($0) d)" } ?? "")</td>"
                    html += "<td>\(finding.exceptionId.map { id in "<a href=\"#exception-\(id)\">#\(id)</a> \(finding.exceptionState?.rawValue ?? "")" } ?? "")</td></tr>"
                }
                html += "</tbody></table>"
            }
            html += "</article>"
            return html
        }, output: output)
        try output("</section>")
    }

    static func exceptionsSection(_ report: ComplianceReport) -> String {
        var html = "<section id=\"exceptions\"><h2>Exceptions</h2>"
        guard !report.exceptions.isEmpty else { return html + "<p>None recorded for these hosts.</p></section>" }
        html += "<p>An expired exception no longer excuses anything: what it covered counts as non-compliant again.</p>"
        html += "<table><thead><tr><th>ID</th><th>Host</th><th>Covers</th><th>Owner</th><th>Until</th><th>State</th><th>Findings</th><th>Reason</th><th>Recorded</th></tr></thead><tbody>"
        for entry in report.exceptions {
            let e = entry.exception
            html += "<tr id=\"exception-\(e.id)\" data-state=\"\(entry.state.rawValue)\"><td>#\(e.id)</td><td>\(escape(e.host))</td><td>\(escape(e.target))</td>"
            html += "<td>\(escape(e.owner))</td><td>\(ReportDate.endText(e.until))</td><td\(entry.state == .expired ? " class=\"bad\"" : "")>\(entry.state.rawValue)</td>"
            html += "<td class=\"n\">\(entry.matches)</td><td>\(escape(e.reason))\(entry.note.map { "<br><small>\(escape($0))</small>" } ?? "")</td>"
            html += "<td>\(JSONOutput.timestamp(e.createdAt)) by \(escape(e.createdBy))\(e.removedAt.map { ", removed \(JSONOutput.timestamp($0))" } ?? "")</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    static func patchesSection(_ report: ComplianceReport, to output: (String) throws -> Void) throws {
        let ttp = report.summary.timeToPatch
        var html = "<section id=\"patches\"><h2>Time to patch</h2><p>Updates installed between \(JSONOutput.timestamp(report.evidence.periodFrom)) and "
        html += "\(JSONOutput.timestamp(report.evidence.periodTo)): by a patchctl deployment, or gone from the host's next successful scan. "
        html += "Counted from when patchctl first saw the version pending.</p>"
        guard !ttp.patches.isEmpty else { return try output(html + "<p>Nothing was patched in this period.</p></section>") }
        html += "<table><thead><tr><th>Host</th><th>Package</th><th>Version</th><th>Security</th><th>First seen</th><th>Installed</th><th>Days</th><th>How</th><th>Run</th></tr></thead><tbody>"
        try output(html)
        try ParallelText.render(count: ttp.patches.count, piece: { index in
            let patch = ttp.patches[index]
            var html = "<tr><td>\(escape(patch.host))</td><td>\(escape(patch.package))</td><td>\(escape(patch.version))</td><td>\(patch.security ? "yes" : "no")</td>"
            html += "<td>\(JSONOutput.timestamp(patch.firstSeen))</td><td>\(JSONOutput.timestamp(patch.patchedAt))</td><td class=\"n\">\(oneDecimal(patch.days))</td>"
            html += "<td>\(patch.via)\(patch.policy.map { " (\(escape($0)))" } ?? "")</td><td><code>\(escape(patch.runId))</code></td></tr>"
            return html
        }, output: output)
        try output("</tbody></table></section>")
    }

    static func trendSection(_ report: ComplianceReport) -> String {
        var html = "<section id=\"trend\"><h2>Trend</h2><p>Each day judged at its last second (UTC) with the same rules, from the scans recorded by then.</p>"
        html += "<table><thead><tr><th>Day</th><th>Hosts</th><th>Scanned</th><th>Compliant</th><th>Percent</th><th>Overdue</th><th>Security pending</th></tr></thead><tbody>"
        for point in report.trend {
            let figure = { (value: Int?) in value.map(String.init) ?? "–" }
            html += "<tr data-day=\"\(point.day)\"\(point.noData ? " data-no-data=\"true\"" : "")><td>\(point.day)</td>"
            html += "<td class=\"n\">\(point.hosts)</td><td class=\"n\">\(point.scanned)</td><td class=\"n\">\(figure(point.compliant))</td>"
            html += "<td class=\"n\">\(point.noData ? "no data" : percentText(point.percentCompliant))</td>"
            html += "<td class=\"n\">\(figure(point.overdue))</td><td class=\"n\">\(figure(point.missingSecurity))</td></tr>"
        }
        return html + "</tbody></table></section>"
    }

    static func evidenceSection(_ report: ComplianceReport) -> String {
        let e = report.evidence
        var rows: [(String, String)] = [
            ("Generated as of", JSONOutput.timestamp(e.generatedAt)), ("Database", e.database), ("Inventory", e.inventory ?? "none (hosts from history)"),
            ("Host pattern", e.limit ?? "all"), ("Policy", e.policy ?? "any"),
            ("Period (trend, time to patch)", "\(JSONOutput.timestamp(e.periodFrom)) to \(JSONOutput.timestamp(e.periodTo))"),
            ("Data read", e.dataFrom.map { "\(JSONOutput.timestamp($0)) to \(JSONOutput.timestamp(e.dataTo ?? $0))" } ?? "none"),
            ("Rule set", report.standard.source),
        ]
        rows.append(("Runs holding each host's state", e.stateRuns.joined(separator: " ")))
        var html = "<section id=\"evidence\"><h2>Evidence</h2><table class=\"kv\"><tbody>"
        for (label, value) in rows { html += "<tr><th>\(escape(label))</th><td>\(escape(value))</td></tr>" }
        html += "<tr><th>Reproduce</th><td><code>\(escape(e.command))</code></td></tr>"
        html += "<tr><th>All runs read (\(e.runs.count))</th><td class=\"runs\"><code>\(escape(e.runs.joined(separator: " ")))</code></td></tr>"
        html += "</tbody></table><ul>"
        for note in e.notes { html += "<li>\(escape(note))</li>" }
        return html + "</ul></section>"
    }

    // MARK: Text

    /// Markup characters as entities; control characters (escapes, bidi overrides that would
    /// reorder what the reader sees) shown as `\x1b`, `\u202e`, as in the terminal. Tab and
    /// newline are only whitespace in HTML (and a rule set's description may span lines).
    static func escape(_ text: String) -> String {
        // Most values (names, versions, dates) are plain printable ASCII: returned as they are.
        if text.utf8.allSatisfy({ byte in
            byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "&") && byte != UInt8(ascii: "<") && byte != UInt8(ascii: ">")
                && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "'")
        }) {
            return text
        }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n": out.unicodeScalars.append(character)
            case _ where TerminalText.isControl(character): out += TerminalText.visible(character)
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A finding's status in words (`within deadline`): once per status, not a Foundation search and
    /// replace for each of a fleet's findings.
    static func statusWords(_ status: ComplianceReport.Finding.Status) -> String {
        switch status {
        case .withinDeadline: return "within deadline"
        case .overdue: return "overdue"
        case .excepted: return "excepted"
        case .outOfScope: return "out of scope"
        }
    }

    /// `String(format: "%.1f", value)`, through the C library's formatter that Foundation's calls in
    /// the end, without building an NSString for each of a period's patches.
    static func oneDecimal(_ value: Double) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            let written = withVaList([value]) { vsnprintf(buffer.baseAddress!, buffer.count, "%.1f", $0) }
            guard written >= 0, Int(written) < buffer.count else { return String(format: "%.1f", value) }
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: Int(written)).bindMemory(to: UInt8.self),
                          as: UTF8.self)
        }
    }

    static func percentText(_ value: Double?) -> String {
        value.map { String(format: "%.1f %%", $0) } ?? "–"
    }

    /// Numbers in `data-*` attributes: what the JSON says, or empty for null.
    static func number(_ value: Double?) -> String {
        value.map { String(format: "%.1f", $0) } ?? ""
    }

    static var css: String {
        let l = Layout.self
        return """
            *{box-sizing:border-box}
            html,body{margin:0;padding:0;background:#fff;color:#1b1b1b;font:13px/1.45 "DejaVu Sans",Arial,Helvetica,sans-serif}
            .page{width:\(l.pageWidth)px;padding:0 \(l.padding)px 40px}
            header.top{height:\(l.headerHeight)px;overflow:hidden;padding-top:12px}
            h1{font-size:22px;line-height:30px;height:30px;margin:0;white-space:nowrap;overflow:hidden}
            .sub{color:#555;margin:2px 0 4px;height:20px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
            nav{height:22px;overflow:hidden}nav a{margin-right:14px;color:#1565c0}
            .tiles{display:flex;gap:12px;margin-top:10px}
            .tile{width:170px;height:86px;border:1px solid #ccc;border-radius:6px;padding:8px 10px;overflow:hidden}
            .tile .v{font-size:24px;font-weight:bold;line-height:34px}.tile .l{color:#555;font-size:12px}
            .tile.t-good .v{color:\(compliantColor)}.tile.t-bad .v{color:\(nonCompliantColor)}
            .charts{display:grid;grid-template-columns:\(l.chartWidth)px \(l.chartWidth)px;grid-auto-rows:\(l.chartHeight)px;gap:\(l.gap)px;margin:0 0 24px}
            figure.chart{margin:0;width:\(l.chartWidth)px;height:\(l.chartHeight)px;overflow:hidden;background:#fff}
            figure.chart.wide{grid-column:1 / span 2;width:\(2 * l.chartWidth + l.gap)px}
            figure.chart svg{display:block}
            svg .ct{font-size:15px;font-weight:bold;fill:#1b1b1b}svg .cl{font-size:12px;fill:#1b1b1b}svg .cn{font-size:11px;fill:#555}
            h2{font-size:18px;margin:26px 0 8px;border-bottom:2px solid #1565c0}h3{font-size:15px;margin:16px 0 6px}
            table{border-collapse:collapse;margin:6px 0 12px;width:100%}
            th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
            th{background:#f1f4f8}td.n{text-align:right;white-space:nowrap}
            table.kv{width:auto}table.kv th{width:320px}
            .good{color:\(compliantColor);font-weight:bold}.bad{color:\(nonCompliantColor);font-weight:bold}
            .org{background:#fff3cd;padding:0 3px}
            .runs code{word-break:break-all}code{font-size:12px}
            article.host{margin-bottom:14px}.facts{color:#333}
            @media print{
            .page{width:auto;padding:0}header.top{height:auto}nav{display:none}
            .charts{grid-template-columns:1fr 1fr;grid-auto-rows:auto}
            figure.chart,figure.chart.wide{width:auto;height:auto;break-inside:avoid}figure.chart svg{width:100%;height:auto}
            tr,article.host{break-inside:avoid}thead{display:table-header-group}
            a{color:inherit;text-decoration:none}body{font-size:10pt}
            @page{margin:12mm}
            }

            """
    }
}
