import Foundation

extension ComplianceEvaluator {
    /// What a trend day counts of one host: `evaluate`'s verdict and totals without its findings' details.
    struct Standing: Equatable {
        /// Some contact with the host had finished by then.
        var contacted = false
        var scanned = false
        var compliant = false
        /// Updates past their deadline without an active exception (`Missing.overdue`).
        var overdue = 0
        /// Pending security updates (`Missing.security`).
        var security = 0
    }

    /// The host's standing at each of `moments` (ascending), as `evaluate` judges it at each. A
    /// trend judges every host on every day: each scan's deadlines are worked out once, when it
    /// becomes the host's last, and each day only compares them with the moment.
    func standings(of host: String, at moments: [Date]) -> [Standing] {
        let all = history.observations[host] ?? []
        var result: [Standing] = []
        result.reserveCapacity(moments.count)
        var finished = 0
        // By index: an observation is a large value, and a host's moments would copy its last scan again and again.
        var lastScan: Int?
        // The last scan's in-scope updates: when each is due, and the exceptions that may cover it.
        typealias Deadline = (due: Date, covering: [ComplianceException])
        var deadlines: [Deadline] = []
        var security = 0
        // The host's scans share one table of its intervals: each interval's deadline is worked out once
        // (nil inside: out of every rule).
        var known: (table: ReportHistory.Updates.Table, deadlines: [Deadline??])?
        for moment in moments {
            var newScan = false
            while finished < all.count, all[finished].at <= moment {
                if all[finished].isScan {
                    lastScan = finished
                    newScan = true
                }
                finished += 1
            }
            if newScan, let lastScan {
                let scan = all[lastScan]
                deadlines = []
                security = 0
                let pending = scan.pending ?? []
                if known?.table !== pending.table { known = (pending.table, Array(repeating: nil, count: pending.table.updates.count)) }
                for (offset, update) in pending.enumerated() {
                    if update.security { security += 1 }
                    let position = Int(pending.positions[offset])
                    if let deadline = known!.deadlines[position] {
                        if let deadline { deadlines.append(deadline) }
                        continue
                    }
                    guard let index = ruleSet.ruleIndex(security: update.security, severity: update.normalizedSeverity, kev: update.kev) else {
                        known?.deadlines[position] = .some(nil)
                        continue
                    }
                    let sighting = sighting(of: update, host: host, in: scan)
                    let deadline = (Self.due(update, sighting: sighting, rule: ruleSet.rules[index]), exceptions(covering: update, host: host))
                    deadlines.append(deadline)
                    // Counted from this scan when nothing else dates it: then not the same for the next scan.
                    if update.releasedAt != nil || sighting.runId != scan.runId { known?.deadlines[position] = deadline }
                }
            }
            var standing = Standing(contacted: finished > 0)
            if let lastScan {
                standing.scanned = true
                standing.security = security
                standing.overdue = deadlines.reduce(0) { count, deadline in
                    moment > deadline.due && !deadline.covering.contains { $0.state(at: moment) == .active } ? count + 1 : count
                }
                let stale = moment.timeIntervalSince(all[lastScan].at) > Double(staleDays) * Self.day
                standing.compliant = !stale && standing.overdue == 0
            }
            result.append(standing)
        }
        return result
    }
}
