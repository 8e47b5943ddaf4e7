import Foundation

extension TableReport {
    /// A deployment (or its plan): one row per host, then per-host detail, rings and notes.
    public static func deploy(_ run: DeployRunRecord, details: Bool) -> String {
        var out = run.dryRun ? line("PLAN for policy \(run.policy) (dry run: nothing is changed)\n\n") : ""
        let rows = run.hosts.map { host -> [String] in
            [host.name, host.ring, host.status.rawValue, String(host.planned.count), String(host.installed.count),
             String(host.failed.count), String(host.skipped.filter(\.awaitingApproval).count),
             host.rebooted ? "rebooted" : host.rebootRequired == true ? "required" : "-"]
        }
        out += render(header: ["HOST", "RING", "STATUS", "PLANNED", "INSTALLED", "FAILED", "AWAITING", "REBOOT"], rows: rows, rightAligned: [3, 4, 5, 6])
        for host in run.hosts {
            var lines: [String] = []
            func add(_ text: TerminalLine) { lines.append(text.text) }
            if let error = host.error { add("  \(host.status.rawValue): \(error)") }
            if let deferral = host.deferral { add("  \(host.forced ? "forced" : "deferred"): \(deferral)") }
            if let repair = host.repair { add("  repair with: \(repair)") }
            for item in host.failed { add("  failed  \(item.name) \(item.fromVersion) -> \(item.targetVersion) (now \(item.actualVersion ?? "not installed")): \(item.reason)") }
            if run.dryRun || details {
                for item in host.planned {
                    add("  plan    \(item.name) \(item.fromVersion) -> \(item.toVersion)\(item.security ? " [security]" : "")\(closes(item))")
                }
                for command in host.commands { add("  command \(command)") }
            }
            if details {
                for item in host.installed { add("  ok      \(item.name) \(item.fromVersion) -> \(item.toVersion)") }
                for item in host.skipped { add("  skip    \(item.name) \(item.version): \(item.reason)") }
            } else {
                for item in host.skipped where item.awaitingApproval { add("  waits   \(item.name) \(item.version): \(item.reason)") }
            }
            if !lines.isEmpty { out += line("\n\(host.name):\n") + lines.joined(separator: "\n") + "\n" }
        }
        if run.rings.count > 1 || run.rings.contains(where: { $0.note != nil }) {
            out += "\nrings: " + run.rings.map { ring in
                line("\(ring.name) \(ring.state) (\(ring.hosts) host\(ring.hosts == 1 ? "" : "s")\(ring.failed > 0 ? ", \(ring.failed) failed" : ""))")
            }.joined(separator: "; ") + "\n"
        }
        for note in run.notes { out += line("note: \(note)\n") }
        let s = run.summary
        var summary = "\n\(run.outcome.rawValue): \(s.hosts) host\(s.hosts == 1 ? "" : "s"): \(s.ok) ok"
        for (status, count) in s.byStatus.sorted(by: { $0.key < $1.key }) { summary += ", \(count) \(status)" }
        summary += "; \(s.installed) package\(s.installed == 1 ? "" : "s") installed, \(s.failedPackages) failed; \(s.rebooted) rebooted"
        if let finished = run.finishedAt { summary += String(format: "; %.1fs", finished.timeIntervalSince(run.startedAt)) }
        return out + summary + "  [run \(run.runId)]\n"
    }

    /// The CVEs a planned package closes, the first few by id: " closes CVE-2025-1, CVE-2025-2 (+3 more) [KEV]".
    static func closes(_ item: PlannedUpdate) -> String {
        guard !item.cves.isEmpty else { return "" }
        let shown = 4
        let more = item.cves.count > shown ? " (+\(item.cves.count - shown) more)" : ""
        return " closes " + item.cves.prefix(shown).joined(separator: ", ") + more + (item.kev ? " [KEV]" : "")
    }

    public static func deferrals(_ records: [DeferralRecord]) -> String {
        guard !records.isEmpty else { return "no active deferral\n" }
        let rows = records.map { record -> [String] in
            [String(record.id), record.host, record.policy ?? "(every policy)", DateArgument.endText(record.until, zone: .current), record.createdBy, record.reason]
        }
        return render(header: ["ID", "HOST", "POLICY", "UNTIL", "BY", "REASON"], rows: rows, rightAligned: [0])
    }

    public static func approvals(_ records: [ApprovalRecord]) -> String {
        let rows = records.map { record -> [String] in
            [record.policy, "\(record.package)@\(record.version)", record.state.rawValue, record.ring ?? "-",
             (record.requestedAt ?? record.decidedAt).map(JSONOutput.timestamp) ?? "-",
             record.decidedBy.map { "\($0)" + (record.note.map { ": \($0)" } ?? "") } ?? "-"]
        }
        return render(header: ["POLICY", "PACKAGE", "STATE", "RING", "SINCE", "DECISION"], rows: rows, rightAligned: [])
    }

    public static func events(_ events: [EventRecord]) -> String {
        let rows = events.map { event -> [String] in
            var what = [event.package.map { "\($0)@\(event.version ?? "")" }, event.detail].compactMap { $0 }.joined(separator: " ")
            if what.isEmpty { what = "-" }
            return [JSONOutput.timestamp(event.at), event.user, event.action.rawValue, event.policy ?? "-", event.host ?? "-", what]
        }
        return render(header: ["AT", "USER", "ACTION", "POLICY", "HOST", "DETAIL"], rows: rows, rightAligned: [])
    }
}

extension TableReport {
    public static func packages(_ records: [PackageRecord]) -> String {
        let rows = records.map { record -> [String] in
            [record.name, record.version, record.platform.rawValue, record.architecture, record.format.rawValue, record.state.rawValue,
             record.size.map { ByteCountText.format($0) } ?? "-", record.sha256.map { String($0.prefix(12)) } ?? "-",
             "\(record.addedBy) \(JSONOutput.timestamp(record.addedAt).prefix(10))"]
        }
        return render(header: ["NAME", "VERSION", "PLATFORM", "ARCH", "FORMAT", "STATE", "SIZE", "SHA256", "ADDED"], rows: rows, rightAligned: [6])
    }
}

/// Sizes for people: 1.5 MiB.
enum ByteCountText {
    static func format(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }
}
