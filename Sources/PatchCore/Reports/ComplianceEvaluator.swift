import Foundation

/// Judges hosts against a rule set at any moment from history loaded once, so "now" and every
/// day of the trend are answered by the same function.
struct ComplianceEvaluator: Sendable {
    typealias Sighting = ReportHistory.Sighting

    static let day = 86_400.0
    /// Statuses meaning patchctl could not get in at all.
    static let connectionFailures: Set<HostStatus> = [.unreachable, .authFailed, .hostKeyMismatch, .hostKeyUnknown, .hostKeyRevoked, .timeout]

    let ruleSet: ComplianceRuleSet
    let staleDays: Int
    let history: ReportHistory
    let exceptions: [ComplianceException]
    /// Only this policy's deployments count as a host's "last deployment".
    let deployPolicy: String?
    /// host → package version → when a scan first listed it.
    let firstSeen: [String: [ReportHistory.VersionKey: Sighting]]

    /// `history`'s first sightings are taken out of it and extended here: a caller that passes its
    /// history on (`consume`) lets each host's table be extended in place rather than copied.
    init(ruleSet: ComplianceRuleSet, staleDays: Int, history: consuming ReportHistory, exceptions: [ComplianceException], deployPolicy: String?) {
        self.ruleSet = ruleSet
        self.staleDays = staleDays
        self.exceptions = exceptions
        self.deployPolicy = deployPolicy
        // Scans' first sightings come from all history; deployments' own scans can only add earlier ones.
        // In effect: every contact's updates in order, each taken where none as early is known. A host's
        // scans share one table of its intervals, so each interval is first reduced to its earliest
        // sighting (ties: the first in order), without making its key for every scan that lists it.
        var firstSeen = history.firstSeen
        history.firstSeen = [:]
        for (host, observations) in history.observations {
            // Each table's intervals by position (an array, looked up once per contact, not per update).
            var slots: [ObjectIdentifier: Int] = [:]
            var earliest: [(table: ReportHistory.Updates.Table, firsts: [(at: Date, index: Int, offset: Int)?])] = []
            // By index, fields read in place: an observation is a large value, and copying each costs.
            for index in observations.indices {
                let seen = observations[index].seen, startedAt = observations[index].startedAt
                let table = seen.table
                let slot: Int
                if let known = slots[ObjectIdentifier(table)] {
                    slot = known
                } else {
                    slot = earliest.count
                    slots[ObjectIdentifier(table)] = slot
                    earliest.append((table, Array(repeating: nil, count: table.updates.count)))
                }
                for (offset, position) in seen.positions.enumerated() {
                    if let known = earliest[slot].firsts[Int(position)], known.at <= startedAt { continue }
                    earliest[slot].firsts[Int(position)] = (startedAt, index, offset)
                }
            }
            var candidates: [(index: Int, offset: Int, update: ReportHistory.Update)] = []
            for (table, firsts) in earliest {
                for (position, first) in firsts.enumerated() {
                    if let first { candidates.append((first.index, first.offset, table.updates[position])) }
                }
            }
            candidates.sort { ($0.index, $0.offset) < ($1.index, $1.offset) }
            var seen = firstSeen.removeValue(forKey: host) ?? [:]
            for candidate in candidates {
                let startedAt = observations[candidate.index].startedAt, update = candidate.update
                let key = ReportHistory.VersionKey(update.package, update.availableVersion)
                if let earlier = seen[key], earlier.at <= startedAt { continue }
                seen[key] = Sighting(at: startedAt, runId: observations[candidate.index].runId, security: update.security)
            }
            firstSeen[host] = seen
        }
        self.firstSeen = firstSeen
        self.history = history
    }

    static func key(_ package: String, _ version: String) -> String { package + "@" + version }

    /// The host's contacts that had finished by `date`, oldest first.
    func observations(of host: String, at date: Date) -> ArraySlice<ReportHistory.Observation> {
        guard let all = history.observations[host] else { return [] }
        // Sorted by time: binary search for the first one after `date`.
        var low = 0, high = all.count
        while low < high {
            let middle = (low + high) / 2
            if all[middle].at <= date { low = middle + 1 } else { high = middle }
        }
        return all[..<low]
    }

    func evaluate(host name: String, groups: [String], at date: Date) -> ComplianceReport.HostEntry {
        let seen = observations(of: name, at: date)
        let lastScan = seen.last(where: \.isScan)
        let lastContact = seen.last { $0.isScan || ($0.status != .skipped && !$0.status.isLeftForResume) }
        let lastDeploy = seen.last { $0.kind == .deploy && $0.deployment != nil && (deployPolicy == nil || $0.policy == deployPolicy) }
        let os = lastScan?.os ?? seen.last(where: { $0.os != nil })?.os

        var entry = ComplianceReport.HostEntry(
            name: name, groups: groups, compliant: false, reasons: [], warnings: [],
            lastScan: lastScan.map(Self.contact), lastContact: lastContact.map(Self.contact), stale: false,
            reachable: lastContact.map { !Self.connectionFailures.contains($0.status) },
            platform: os.map { "\($0.name) \($0.version)".trimmingCharacters(in: .whitespaces) }, osFamily: os?.family.rawValue,
            rebootRequired: lastScan?.rebootRequired, lastDeployment: nil, missing: ComplianceReport.Missing(), updates: [])
        if let lastDeploy, let deployment = lastDeploy.deployment {
            entry.lastDeployment = ComplianceReport.DeploymentEntry(
                runId: lastDeploy.runId, policy: lastDeploy.policy, at: lastDeploy.at, result: lastDeploy.status,
                installed: deployment.installed, failed: deployment.failed, error: lastDeploy.error)
        }
        if let lastContact, Self.connectionFailures.contains(lastContact.status) {
            entry.warnings.append("last contact failed on \(ReportDate.day(lastContact.at)) (\(lastContact.status.rawValue)\(lastContact.error.map { ": \($0)" } ?? ""))")
        }

        guard let lastScan else {
            var reason = "never scanned successfully: no evidence of its patch state"
            if let lastContact { reason += " (last attempt \(ReportDate.day(lastContact.at)): \(lastContact.status.rawValue))" }
            entry.reasons = [reason]
            return entry
        }
        entry.updates = (lastScan.pending ?? []).map { finding($0, host: name, observation: lastScan, at: date) }
        for finding in entry.updates { entry.missing.add(finding) }

        var reasons: [String] = []
        if date.timeIntervalSince(lastScan.at) > Double(staleDays) * Self.day {
            entry.stale = true
            reasons.append("stale: no successful scan within \(staleDays) days (last \(ReportDate.day(lastScan.at)))")
        }
        let overdue = entry.updates.filter { $0.status == .overdue }
        if !overdue.isEmpty {
            let listed = overdue.prefix(3).map { finding -> String in
                var text = "\(finding.package) \(finding.availableVersion) (\(finding.rule ?? "?"), due \(finding.dueAt.map(ReportDate.day) ?? "?"), "
                text += "\(finding.daysOverdue ?? 0) day\(finding.daysOverdue == 1 ? "" : "s") overdue"
                if finding.exceptionState == .expired, let id = finding.exceptionId, let until = finding.exceptionUntil {
                    text += "; exception #\(id) expired \(ReportDate.expiryText(until))"
                }
                return text + ")"
            }
            let more = overdue.count > 3 ? " and \(overdue.count - 3) more" : ""
            reasons.append("\(overdue.count) update\(overdue.count == 1 ? "" : "s") past the deadline: " + listed.joined(separator: ", ") + more)
        }
        entry.compliant = reasons.isEmpty
        if entry.compliant {
            let within = entry.updates.filter { $0.status == .withinDeadline }.count
            let excepted = entry.missing.excepted
            var reason = "no pending update in scope of \(ruleSet.name)"
            if within + excepted > 0 {
                reason = "no update past the deadline (\(within) in scope and within it"
                reason += excepted > 0 ? ", \(excepted) past it under an active exception)" : ")"
            }
            reasons.append(reason + "; last scan \(ReportDate.day(lastScan.at))")
        }
        entry.reasons = reasons
        return entry
    }

    /// When the host first had `update` pending: from history, else the contact that lists it.
    func sighting(of update: ReportHistory.Update, host: String, in observation: ReportHistory.Observation) -> Sighting {
        firstSeen[host]?[ReportHistory.VersionKey(update.package, update.availableVersion)]
            ?? Sighting(at: observation.startedAt, runId: observation.runId, security: update.security)
    }

    /// The exceptions that name `update` on `host`, whatever their state.
    func exceptions(covering update: ReportHistory.Update, host: String) -> [ComplianceException] {
        exceptions.filter { $0.covers(host: host, package: update.package, version: update.availableVersion, cves: update.cves) }
    }

    /// PCI DSS counts from release; where the platform gives no release date, from first sight (later, so kinder: said in the report).
    static func due(_ update: ReportHistory.Update, sighting: Sighting, rule: ComplianceRuleSet.Rule) -> Date {
        (update.releasedAt ?? sighting.at).addingTimeInterval(Double(rule.withinDays) * day)
    }

    func finding(_ update: ReportHistory.Update, host: String, observation: ReportHistory.Observation, at date: Date) -> ComplianceReport.Finding {
        let sighting = sighting(of: update, host: host, in: observation)
        var finding = ComplianceReport.Finding(
            package: update.package, installedVersion: update.installedVersion, availableVersion: update.availableVersion,
            source: update.source, security: update.security, severity: update.severity, firstSeen: sighting.at, firstSeenRun: sighting.runId,
            ageDays: Self.wholeDays(date.timeIntervalSince(sighting.at)), releasedAt: update.releasedAt,
            releaseAgeDays: update.releasedAt.map { Self.wholeDays(date.timeIntervalSince($0)) },
            rule: nil, withinDays: nil, dueAt: nil, status: .outOfScope, daysOverdue: nil,
            exceptionId: nil, exceptionState: nil, exceptionUntil: nil, normalizedSeverity: update.normalizedSeverity, kev: update.kev, cves: update.cves)
        let covering = exceptions(covering: update, host: host).filter { exception in
            let state = exception.state(at: date)
            return state == .active || state == .expired
        }
        // The active one with the latest end, else the latest expired one (named in the reason).
        if let exception = covering.filter({ $0.state(at: date) == .active }).max(by: { $0.until < $1.until }) ?? covering.max(by: { $0.until < $1.until }) {
            finding.exceptionId = exception.id
            finding.exceptionState = exception.state(at: date)
            finding.exceptionUntil = exception.until
        }
        guard let index = ruleSet.ruleIndex(security: update.security, severity: update.normalizedSeverity, kev: update.kev) else { return finding }
        let rule = ruleSet.rules[index]
        finding.rule = rule.name
        finding.withinDays = rule.withinDays
        let due = Self.due(update, sighting: sighting, rule: rule)
        finding.dueAt = due
        if date > due {
            finding.daysOverdue = Int((date.timeIntervalSince(due) / Self.day).rounded(.up))
            finding.status = finding.exceptionState == .active ? .excepted : .overdue
        } else {
            finding.status = .withinDeadline
        }
        return finding
    }

    static func contact(_ observation: ReportHistory.Observation) -> ComplianceReport.Contact {
        ComplianceReport.Contact(runId: observation.runId, kind: observation.kind, at: observation.at, status: observation.status,
                                 error: observation.error)
    }

    static func wholeDays(_ seconds: TimeInterval) -> Int {
        max(0, Int((seconds / day).rounded(.down)))
    }
}
