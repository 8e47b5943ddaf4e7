import Foundation

extension TableReport {
    /// The whole compliance report for a terminal: hosts, why the others fail, groups, policies,
    /// rules, exceptions, the summary and the evidence.
    public static func compliance(_ report: ComplianceReport) -> String {
        var out = line("\(report.standard.name) compliance as of \(JSONOutput.timestamp(report.evidence.generatedAt))\n\n")
        out += hosts(report.hosts)
        out += unmanaged(report.unmanaged)
        if !report.groups.isEmpty {
            out += "\n" + render(header: ["GROUP", "HOSTS", "COMPLIANT", "PERCENT", "STALE", "NEVER", "MISSING", "SECURITY", "OVERDUE", "MEAN DAYS"],
                                  rows: report.groups.map { group in
                [group.name, String(group.hosts), String(group.compliant), percent(group.percentCompliant), String(group.stale),
                 String(group.neverScanned), String(group.missing.total), String(group.missing.security), String(group.missing.overdue),
                 group.timeToPatch.meanDays.map { String(format: "%.1f", $0) } ?? "-"]
            }, rightAligned: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        }
        if !report.policies.isEmpty {
            out += "\n" + render(header: ["POLICY", "HOSTS", "COMPLIANT", "PERCENT", "PATCHED", "MEAN DAYS"], rows: report.policies.map { policy in
                [policy.name, String(policy.hosts), String(policy.compliant), percent(policy.percentCompliant),
                 String(policy.timeToPatch.patched), policy.timeToPatch.meanDays.map { String(format: "%.1f", $0) } ?? "-"]
            }, rightAligned: [1, 2, 3, 4, 5])
        }
        out += line("\nrules (\(report.standard.source)):\n")
        for rule in report.standard.rules { out += "  " + ruleLine(rule) + "\n" }
        if !report.exceptions.isEmpty {
            out += "\n" + exceptions(report.exceptions)
        }
        let s = report.summary
        let ttp = s.timeToPatch
        out += "\nmean time to patch since \(ReportDate.day(report.evidence.periodFrom)): "
        out += ttp.meanDays.map { String(format: "%.1f days over %d patches", $0, ttp.patched) } ?? "nothing patched"
        if let security = ttp.securityMeanDays { out += String(format: " (security: %.1f days over %d)", security, ttp.securityPatched) }
        out += "\n" + summaryLine(report) + "\n"
        out += evidence(report.evidence)
        return out
    }

    /// One row per host, then each non-compliant host's reasons and every warning.
    public static func hosts(_ hosts: [ComplianceReport.HostEntry]) -> String {
        let rows = hosts.map { host -> [String] in
            let oldest = host.updates.filter { $0.rule != nil }.map(\.ageDays).max()
            return [host.name, host.compliant ? "yes" : "NO", host.lastScan.map { ReportDate.day($0.at) } ?? "never", host.platform ?? "-",
                    host.lastScan == nil ? "-" : String(host.missing.total), host.lastScan == nil ? "-" : String(host.missing.security),
                    String(host.missing.overdue), oldest.map { "\($0)d" } ?? "-",
                    host.rebootRequired.map { $0 ? "yes" : "no" } ?? "-",
                    host.lastDeployment.map { "\(ReportDate.day($0.at)) \($0.result.rawValue)" } ?? "-",
                    // Normalised severity: KEV fixes and critical updates pending (vendor word or the feed's CVEs).
                    host.lastScan == nil ? "-" : String(host.updates.filter(\.kev).count),
                    host.lastScan == nil ? "-" : String(host.updates.filter { $0.normalizedSeverity == .critical }.count)]
        }
        var out = render(header: ["HOST", "COMPLIANT", "LAST SCAN", "PLATFORM", "PENDING", "SECURITY", "OVERDUE", "OLDEST", "REBOOT", "LAST DEPLOY",
                                  "KEV", "CRITICAL"],
                         rows: rows, rightAligned: [4, 5, 6, 7, 10, 11])
        let notes = hosts.filter { !$0.compliant || !$0.warnings.isEmpty }
        if !notes.isEmpty { out += "\n" }
        for host in notes {
            for reason in host.reasons where !host.compliant { out += line("\(host.name): \(reason)\n") }
            for warning in host.warnings { out += line("\(host.name): warning: \(warning)\n") }
        }
        return out
    }

    public static func trend(_ report: ComplianceReport) -> String {
        var out = line("\(report.standard.name) compliance per day, \(ReportDate.day(report.evidence.periodFrom)) to \(JSONOutput.timestamp(report.evidence.generatedAt))\n\n")
        out += render(header: ["DAY", "HOSTS", "SCANNED", "COMPLIANT", "PERCENT", "OVERDUE", "SECURITY"], rows: report.trend.map { point in
            point.noData ? [point.day, String(point.hosts), String(point.scanned), "-", "no data", "-", "-"]
                : [point.day, String(point.hosts), String(point.scanned), point.compliant.map(String.init) ?? "-", percent(point.percentCompliant),
                   point.overdue.map(String.init) ?? "-", point.missingSecurity.map(String.init) ?? "-"]
        }, rightAligned: [1, 2, 3, 4, 5, 6])
        return out + "\n" + evidence(report.evidence)
    }

    public static func exceptions(_ entries: [ComplianceReport.ExceptionEntry]) -> String {
        let rows = entries.map { entry -> [String] in
            let e = entry.exception
            return ["#\(e.id)", e.host, e.target, e.owner, ReportDate.endText(e.until), entry.state.rawValue, String(entry.matches),
                    e.reason + (entry.note.map { " (\($0))" } ?? "")]
        }
        return render(header: ["ID", "HOST", "TARGET", "OWNER", "UNTIL", "STATE", "FINDINGS", "REASON"], rows: rows, rightAligned: [6])
    }

    /// `exception list`: no findings column (nothing is evaluated); ends in the operator's `zone`,
    /// where `--until` read them.
    public static func exceptionList(_ exceptions: [ComplianceException], at date: Date, zone: TimeZone = .current) -> String {
        let rows = exceptions.map { e -> [String] in
            ["#\(e.id)", e.host, e.target, e.owner, DateArgument.endText(e.until, zone: zone), e.state(at: date).rawValue, e.createdBy, e.reason]
        }
        return render(header: ["ID", "HOST", "TARGET", "OWNER", "UNTIL", "STATE", "BY", "REASON"], rows: rows, rightAligned: [])
    }

    public static func diff(_ diff: FindingsDiff) -> String {
        let span = { (start: Date, end: Date?) in JSONOutput.timestamp(start) + (end.map { " to " + JSONOutput.timestamp($0) } ?? "") }
        var out = line("changes from scan \(diff.baseRun) (\(span(diff.baseAt, diff.baseFinishedAt))) to scan \(diff.targetRun) (\(span(diff.targetAt, diff.targetFinishedAt))); both finished\n\n")
        out += render(header: ["HOST", "CHANGE", "NEW", "NEW SECURITY", "GONE", "NEW VERSION", "CVES CLOSED", "NEW CVES"], rows: diff.hosts.map { host in
            [host.name, host.change == .failed ? host.status.rawValue : host.change.rawValue, String(host.added.count),
             String(host.added.filter(\.security).count), String(host.removed.count), String(host.changed.count),
             String(host.cvesClosed.count), String(host.cvesNew.count)]
        }, rightAligned: [2, 3, 4, 5, 6, 7])
        for host in diff.hosts where !(host.added.isEmpty && host.removed.isEmpty && host.changed.isEmpty && host.cvesNew.isEmpty && host.cvesClosed.isEmpty)
            || host.change == .failed {
            out += line("\n\(host.name):\n")
            if host.change == .failed { out += line("  \(host.status.rawValue): \(host.error ?? "")\n") }
            for item in host.added { out += line("  + \(item.package) \(item.availableVersion)\(item.security ? " [security]" : "")\n") }
            for item in host.changed { out += line("  ~ \(item.package) \(item.fromVersion) -> \(item.toVersion)\(item.security ? " [security]" : "")\n") }
            for item in host.removed { out += line("  - \(item.package) \(item.availableVersion)\n") }
            for cve in host.cvesNew { out += line("  + \(cve.id) \(cve.severity.name)\(cve.kev ? " [KEV]" : "") \(cve.fixable ? "fixed by" : "no fix for") \(cve.packages.joined(separator: ", "))\n") }
            for cve in host.cvesClosed { out += line("  - \(cve.id) \(cve.severity.name)\(cve.kev ? " [KEV]" : "") closed (\(cve.packages.joined(separator: ", ")))\n") }
        }
        let s = diff.summary
        var footer = ""
        if s.cvesClosed + s.cvesNew > 0 {
            footer = "CVEs: \(s.cvesClosed) closed, \(s.cvesNew) newly open (\(s.cvesNewKEV) KEV), counted per host\n"
        }
        return out + "\n\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.added) new finding\(s.added == 1 ? "" : "s") (\(s.addedSecurity) security), "
            + "\(s.removed) gone, \(s.changed) new version\(s.changed == 1 ? "" : "s"); \(s.newHosts) first scanned, \(s.failed) not scanned\n"
            + footer
    }

    static func summaryLine(_ report: ComplianceReport) -> String {
        let s = report.summary
        var line = "\(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.compliant) compliant (\(percent(s.percentCompliant))), \(s.nonCompliant) non-compliant"
        line += "; \(s.stale) stale, \(s.neverScanned) never scanned, \(s.unreachable) unreachable"
        line += "; \(s.missing.total) missing (\(s.missing.security) security, \(s.missing.overdue) overdue, \(s.missing.excepted) excepted)"
        if !report.retired.isEmpty { line += "; \(report.retired.count) retired, not in scope" }
        if !report.unmanaged.isEmpty { line += "; \(report.unmanaged.count) unmanaged (discovered, in no inventory)" }
        return line
    }

    static func ruleLine(_ rule: ComplianceRuleSet.Rule) -> String {
        var text = line("\(rule.name): \(rule.updates == .security ? "security updates" : "all updates")")
        if let minimum = rule.minSeverity { text += line(" rated \(minimum.name) or above (unrated security updates included)") }
        if rule.kev { text += " or fixing a known exploited CVE (KEV)" }
        text += " within \(rule.withinDays) days"
        text += rule.definedBy == .standard ? " [set by the standard" : " [organisation-defined"
        return text + (rule.reference.map { line(", \($0)]") } ?? "]")
    }

    static func evidence(_ evidence: ComplianceReport.Evidence) -> String {
        var out = line("\nevidence: database \(evidence.database)")
        if let inventory = evidence.inventory { out += line(", inventory \(inventory)") }
        out += "; \(evidence.runs.count) run\(evidence.runs.count == 1 ? "" : "s")"
        if let from = evidence.dataFrom, let to = evidence.dataTo { out += " from \(JSONOutput.timestamp(from)) to \(JSONOutput.timestamp(to))" }
        out += "; generated as of \(JSONOutput.timestamp(evidence.generatedAt))\n"
        out += line("reproduce: \(evidence.command)\n")
        for note in evidence.notes { out += line("note: \(note)\n") }
        return out
    }

    static func percent(_ value: Double?) -> String {
        value.map { String(format: "%.1f%%", $0) } ?? "-"
    }
}
