import Foundation
import GRDB

extension HistoryStore {
    /// One CVE open on one host in its latest successful scan, through one package: fixable by a
    /// pending update (finding_cves) or unfixed (unfixed_cves).
    public struct CVEExposure: Sendable, Equatable {
        public var host: String
        /// The host's latest successful scan, and when the host's part of it finished.
        public var runId: String
        public var scannedAt: Date
        public var cve: String
        public var severity: Severity
        public var vendorSeverity: String?
        public var cvss: Double?
        public var kev: Bool
        /// The pending update that fixes it, or (unfixed) the installed binary package it is open on.
        public var package: String
        public var installedVersion: String?
        /// The candidate the host is offered (nil when unfixed).
        public var availableVersion: String?
        /// The feed's first fixing version; for an unfixed CVE, a fix the host is not offered.
        public var fixedVersion: String?
        public var fixable: Bool
        /// The first scan of this host that had this CVE (fixable or not), and when it started.
        public var firstRun: String
        public var firstSeen: Date
    }

    /// Every CVE open on each host in the host's latest successful scan (optionally only `cves`,
    /// upper-case ids); retired hosts are left out. Latest scans come from scan_hosts, the CVE rows from the intervals open in
    /// them and first sightings from those hosts' intervals, so the cost follows the fleet and what
    /// changed on it, not history's length.
    public func cveExposures(cves: [String] = []) throws -> [CVEExposure] {
        try reading { db in
            var arguments: [DatabaseValue] = [RunKind.scan.rawValue.databaseValue, HostStatus.ok.rawValue.databaseValue]
            // --cve: filtered in both branches, before first sightings are looked up.
            let list = "(" + Array(repeating: "?", count: cves.count).joined(separator: ",") + ")"
            let (fixable, unfixed) = cves.isEmpty ? ("", "") : (" AND c.cve IN \(list)", " AND u.cve IN \(list)")
            if !cves.isEmpty { arguments += (cves + cves).map(\.databaseValue) }
            let join = db.orderedJoin
            let sql = """
                WITH latest AS (
                    SELECT s.host, s.last_run AS run_id FROM scan_hosts s \(join) runs r ON r.id = s.last_run
                    \(join) run_hosts h ON h.run_id = s.last_run AND h.host = s.host
                    WHERE r.kind = ? AND h.status = ?
                        -- a retired host is out of scope (patchctl hosts retire)
                        AND NOT EXISTS (SELECT 1 FROM host_retirements x WHERE x.host = s.host AND x.ended_at IS NULL)
                ),
                -- what the latest scan saw is what is open: the intervals not closed since
                exposed AS (
                    SELECT l.host, l.run_id, c.cve, c.severity, c.vendor_severity, c.cvss, c.kev, i.package,
                           i.installed_version, i.available_version, c.fixed_version, 1 AS fixable
                    FROM latest l \(join) finding_intervals i ON i.host = l.host AND i.closed_seq IS NULL
                    \(join) cve_lists c ON c.digest = i.cves_digest\(fixable)
                    UNION ALL
                    SELECT l.host, l.run_id, u.cve, u.severity, u.vendor_severity, u.cvss, u.kev, u.package,
                           NULL, NULL, u.fixed_version, 0
                    FROM latest l \(join) unfixed_cve_intervals u ON u.host = l.host AND u.closed_seq IS NULL\(unfixed)
                ),
                -- per host and CVE, its first sighting, fixable or not: from the intervals of the hosts in the
                -- report only, so the cost follows what changed on them, not history's length
                sighting AS (
                    SELECT i.host, c.cve, i.first_run AS run_id, i.first_at AS at
                    FROM finding_intervals i JOIN cve_lists c ON c.digest = i.cves_digest
                    WHERE i.host IN (SELECT host FROM latest)
                    UNION ALL
                    SELECT u.host, u.cve, u.first_run, u.first_at FROM unfixed_cve_intervals u WHERE u.host IN (SELECT host FROM latest)
                ),
                sighted AS (
                    SELECT host, cve, MIN(run_id) AS run_id, MIN(at) AS at FROM sighting GROUP BY host, cve
                )
                SELECT x.*, h.finished_at AS scanned_at, s.run_id AS first_run, s.at AS first_seen
                FROM exposed x
                \(join) run_hosts h ON h.run_id = x.run_id AND h.host = x.host
                JOIN sighted s ON s.host = x.host AND s.cve = x.cve
                ORDER BY x.cve, x.host, x.fixable DESC, x.package
                """
            return try db.rows(sql, arguments).map { row in
                CVEExposure(host: row["host"], runId: row["run_id"], scannedAt: row["scanned_at"], cve: row["cve"],
                            severity: Severity(name: row["severity"]) ?? .unknown, vendorSeverity: row["vendor_severity"], cvss: row["cvss"],
                            kev: row["kev"], package: row["package"], installedVersion: row["installed_version"],
                            availableVersion: row["available_version"], fixedVersion: row["fixed_version"], fixable: row["fixable"],
                            firstRun: row["first_run"], firstSeen: row["first_seen"])
            }
        }
    }

    /// The OS families of each host's latest successful scan: whether Debian-family hosts (which
    /// need a feed for any advisory data) are in the fleet.
    public func latestScannedFamilies() throws -> Set<OSFamily> {
        try reading { db in
            let names = try db.rows("""
                SELECT DISTINCT h.os_family FROM scan_hosts s \(db.orderedJoin) runs r ON r.id = s.last_run
                \(db.orderedJoin) run_hosts h ON h.run_id = s.last_run AND h.host = s.host
                WHERE r.kind = ? AND h.status = ? AND h.os_family IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM host_retirements x WHERE x.host = s.host AND x.ended_at IS NULL)
                """, arguments: [RunKind.scan.rawValue, HostStatus.ok.rawValue]).map { $0["os_family"] as String }
            return Set(names.compactMap(OSFamily.init(rawValue:)))
        }
    }
}

extension HistoryStore {
    /// The CVEs open on each (scan run, host), fixable and unfixed merged per CVE id, in id order;
    /// keyed "run\nhost". Each pair is two lookups by primary-key prefix.
    public func openCVEs(_ pairs: [(runId: String, host: String)]) throws -> [String: [FindingsDiff.CVEItem]] {
        try reading { db in
            var result: [String: [FindingsDiff.CVEItem]] = [:]
            for (runId, host) in pairs {
                var byID: [String: FindingsDiff.CVEItem] = [:]
                for row in try db.rows("""
                    SELECT cve, severity, kev, package, 1 AS fixable FROM finding_cves WHERE run_id = ? AND host = ?
                    UNION ALL
                    SELECT cve, severity, kev, package, 0 FROM unfixed_cves WHERE run_id = ? AND host = ?
                    """, arguments: [runId, host, runId, host]) {
                    let id: String = row["cve"]
                    let severity = Severity(name: row["severity"]) ?? .unknown
                    var item = byID[id] ?? FindingsDiff.CVEItem(id: id, severity: severity, kev: false, packages: [], fixable: true)
                    item.severity = max(item.severity, severity)
                    item.kev = item.kev || row["kev"]
                    let package: String = row["package"]
                    if !item.packages.contains(package) { item.packages.append(package) }
                    item.fixable = item.fixable && row["fixable"]
                    byID[id] = item
                }
                result[runId + "\n" + host] = byID.values.map { item in
                    var sorted = item
                    sorted.packages.sort()
                    return sorted
                }.sorted { $0.id < $1.id }
            }
            return result
        }
    }
}
