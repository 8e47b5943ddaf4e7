import Foundation

extension ComplianceEvaluator {
    /// Every pending update that got installed between `from` and `to`: by a deployment
    /// (`deploy_packages`, outcome installed), or otherwise seen gone by the next successful scan
    /// (absent, or its installed version changed). First seen → installed, once per host and version.
    func patches(hosts: Set<String>, from: Date, to: Date) -> [ComplianceReport.Patch] {
        let inPeriod = { (date: Date) in date >= from && date <= to }
        let installsByHost = Dictionary(grouping: history.installs, by: \.host)
        // Host by host, each with a table of its own: a year of 10,000 hosts patches hundreds of
        // thousands of updates, and one table keyed by host and update held them all twice.
        // `key`: the update within its host (a deployment's package@version, a scan's with its architecture).
        var all: [ComplianceReport.Patch] = [], keys: [String] = []
        for host in hosts.sorted() {
            var patches: [String: ComplianceReport.Patch] = [:]
            for install in installsByHost[host] ?? [] where inPeriod(install.at) {
                let key = Self.key(install.package, install.version)
                let sighting = firstSeen[host]?[ReportHistory.VersionKey(install.package, install.version)]
                let first = min(sighting?.at ?? install.at, install.at)
                let patch = ComplianceReport.Patch(
                    host: host, package: install.package, version: install.version, security: sighting?.security ?? false,
                    firstSeen: first, patchedAt: install.at, days: Self.days(install.at.timeIntervalSince(first)), via: "deploy",
                    runId: install.runId, policy: install.policy)
                if let earlier = patches[key], earlier.patchedAt <= patch.patchedAt { continue }
                patches[key] = patch
            }
            let observations = history.observations[host] ?? []
            // By index: the contacts are not copied.
            let scans = observations.indices.filter { observations[$0].isScan && observations[$0].at <= to }
            for (beforeIndex, afterIndex) in zip(scans, scans.dropFirst()) where inPeriod(observations[afterIndex].at) {
                let before = observations[beforeIndex], after = observations[afterIndex]
                let earlier = before.pending ?? [], later = after.pending ?? []
                // Findings both scans share whole (the same interval of the host's history) were not patched:
                // only the others are looked at, and most nights there are none.
                let changed = earlier.notShared(with: later)
                if changed.isEmpty { continue }
                for update in changed {
                    // A finding is its package and architecture: on a multi-arch host glibc.x86_64 may be
                    // patched while glibc.i686 is still pending. The later scan's first such finding.
                    if let still = later.first(where: { $0.package == update.package && ($0.architecture ?? "") == (update.architecture ?? "") }) {
                        // Same installed version (or unknown): not installed, at most superseded by a newer version.
                        if still.installedVersion == update.installedVersion || still.installedVersion.isEmpty || update.installedVersion.isEmpty { continue }
                    }
                    let key = Self.key(update.package, update.availableVersion) + "\n" + (update.architecture ?? "")
                    guard patches[key] == nil else { continue }
                    // A deployment installed it in between: counted from deploy_packages above.
                    if installsByHost[host]?.contains(where: { $0.package == update.package && $0.at > before.at && $0.at <= after.at }) ?? false {
                        continue
                    }
                    let first = firstSeen[host]?[ReportHistory.VersionKey(update.package, update.availableVersion)]?.at ?? before.startedAt
                    patches[key] = ComplianceReport.Patch(
                        host: host, package: update.package, version: update.availableVersion, security: update.security,
                        firstSeen: first, patchedAt: after.at, days: Self.days(after.at.timeIntervalSince(first)), via: "scan",
                        runId: after.runId, policy: nil)
                }
            }
            for (key, patch) in patches {
                all.append(patch)
                keys.append(key)
            }
        }
        // Versions, then the key (its architecture), break ties: two versions or architectures of one package
        // can be patched by the same run, and the report must not depend on the dictionary's order.
        // The order is worked out on indices and applied in place: no second list of every patch.
        let order = all.indices.sorted { left, right in Self.precedes(all[left], all[right]) ?? (keys[left] < keys[right]) }
        keys = []
        Self.permute(&all, by: order)
        return all
    }

    /// Time to patch's order: by when, then host, package and version; nil when all four tie (the
    /// caller breaks the tie).
    static func precedes(_ a: ComplianceReport.Patch, _ b: ComplianceReport.Patch) -> Bool? {
        if a.patchedAt != b.patchedAt { return a.patchedAt < b.patchedAt }
        if a.host != b.host { return a.host < b.host }
        if a.package != b.package { return a.package < b.package }
        if a.version != b.version { return a.version < b.version }
        return nil
    }

    /// Puts `items[order[i]]` at `i` for every `i`, in place: each cycle of the permutation is
    /// followed once, with one element held aside.
    static func permute<Item>(_ items: inout [Item], by order: [Int]) {
        var placed = [Bool](repeating: false, count: items.count)
        for start in items.indices where !placed[start] {
            let held = items[start]
            var current = start
            while true {
                placed[current] = true
                let next = order[current]
                if next == start {
                    items[current] = held
                    break
                }
                items[current] = items[next]
                current = next
            }
        }
    }

    /// Days with one decimal.
    static func days(_ seconds: TimeInterval) -> Double {
        (max(0, seconds) / day * 10).rounded() / 10
    }
}
