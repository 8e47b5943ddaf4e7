import Foundation
import GRDB

extension HistoryStore {
    /// A run's id and times.
    public struct RunTime: Sendable, Equatable {
        public var id: String
        public var startedAt: Date
        public var finishedAt: Date?
    }

    /// Every scan run, oldest first.
    public func scanRuns() throws -> [RunTime] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, started_at, finished_at FROM runs WHERE kind = 'scan' ORDER BY started_at, id").map { row in
                RunTime(id: row["id"], startedAt: row["started_at"], finishedAt: row["finished_at"])
            }
        }
    }

    /// Every scan, deployment and dry run of every host that finished by `date`, and every
    /// package deployments installed by then: what compliance reports, trends and diffs read.
    public func reportHistory(upTo date: Date) throws -> ReportHistory {
        try read { db in
            // Severity, release date and CVE ids are read where a platform's migration added them; apt records none.
            let columns = Set(try db.columns(in: "findings").map(\.name))
            let optional = ["severity", "released_at", "cves"].map { columns.contains($0) ? "f.\($0)" : "NULL AS \($0)" }
            var findings: [String: [ReportHistory.Update]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT f.run_id, f.host, f.package, f.installed_version, f.available_version, f.source, f.security, \(optional.joined(separator: ", "))
                FROM findings f JOIN run_hosts h ON h.run_id = f.run_id AND h.host = f.host
                WHERE h.finished_at <= ? ORDER BY f.package
                """, arguments: [date]) {
                let cves: String? = row["cves"]
                let key = (row["run_id"] as String) + "\n" + (row["host"] as String)
                findings[key, default: []].append(ReportHistory.Update(
                    package: row["package"], installedVersion: row["installed_version"], availableVersion: row["available_version"],
                    source: row["source"], security: row["security"], severity: row["severity"], releasedAt: row["released_at"],
                    cves: cves.map { $0.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map(String.init) } ?? []))
            }
            var documents: [String: DeployHost] = [:]
            let decoder = JSONOutput.decoder
            for row in try Row.fetchAll(db, sql: """
                SELECT d.run_id, d.host, d.document FROM deploy_hosts d JOIN run_hosts h ON h.run_id = d.run_id AND h.host = d.host
                WHERE h.finished_at <= ?
                """, arguments: [date]) {
                let key = (row["run_id"] as String) + "\n" + (row["host"] as String)
                documents[key] = try? decoder.decode(DeployHost.self, from: Data((row["document"] as String).utf8))
            }

            var observations: [String: [ReportHistory.Observation]] = [:]
            var lastSeen: [String: [String: ReportHistory.Update]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT h.*, r.kind, r.policy FROM run_hosts h JOIN runs r ON r.id = h.run_id
                WHERE r.kind IN ('scan', 'deploy', 'plan') AND h.finished_at <= ?
                ORDER BY h.host, h.finished_at, h.run_id
                """, arguments: [date]) {
                let host: String = row["host"]
                let runId: String = row["run_id"]
                let kind: String = row["kind"]
                var os: OSInfo?
                if let family: String = row["os_family"] {
                    os = OSInfo(family: OSFamily(rawValue: family) ?? .unknown, id: row["os_id"] ?? "", name: row["os_name"] ?? "",
                                version: row["os_version"] ?? "", codename: row["os_codename"], kernel: row["kernel"], architecture: row["architecture"])
                }
                var observation = ReportHistory.Observation(
                    runId: runId, kind: kind, policy: row["policy"], startedAt: row["started_at"], at: row["finished_at"],
                    status: HostStatus(rawValue: row["status"]) ?? .error, error: row["error"], os: os, rebootRequired: row["reboot_required"],
                    pending: nil, seen: [], deployment: nil)
                let key = runId + "\n" + host
                if kind == "scan" {
                    if observation.status == .ok {
                        observation.pending = findings[key] ?? []
                        observation.seen = observation.pending ?? []
                    }
                } else if let document = documents[key] {
                    Self.apply(document, to: &observation, earlier: lastSeen[host] ?? [:])
                }
                for update in observation.seen { lastSeen[host, default: [:]][update.package + "@" + update.availableVersion] = update }
                observations[host, default: []].append(observation)
            }

            let installs = try Row.fetchAll(db, sql: """
                SELECT p.run_id, p.host, p.package, p.target_version, p.at, r.policy FROM deploy_packages p JOIN runs r ON r.id = p.run_id
                WHERE p.outcome = 'installed' AND r.kind = 'deploy' AND p.at <= ? ORDER BY p.at, p.host, p.package
                """, arguments: [date]).map { row in
                ReportHistory.Install(runId: row["run_id"], policy: row["policy"], host: row["host"], package: row["package"],
                                      version: row["target_version"], at: row["at"])
            }
            return ReportHistory(observations: observations, installs: installs)
        }
    }

    /// A deployment's document as an observation: its scan listed planned + skipped updates;
    /// what it did not install is still pending. Skipped updates carry no installed version or
    /// security flag, so those come from the latest earlier sighting of the same version; one
    /// never seen before counts as a security update unless the deployment said it is not one.
    static func apply(_ document: DeployHost, to observation: inout ReportHistory.Observation, earlier: [String: ReportHistory.Update]) {
        observation.deployment = ReportHistory.Deployment(ring: document.ring, planned: document.planned.count,
                                                          installed: document.installed.count, failed: document.failed.count)
        // A deployment that never parsed its scan learned nothing about packages.
        guard document.os != nil, document.rebootRequired != nil else { return }
        var seen: [ReportHistory.Update] = []
        var pending: [ReportHistory.Update] = []
        for item in document.planned {
            let update = ReportHistory.Update(package: item.name, installedVersion: item.fromVersion, availableVersion: item.toVersion,
                                              source: item.source, security: item.security, severity: item.severity,
                                              releasedAt: earlier[item.name + "@" + item.toVersion]?.releasedAt,
                                              cves: earlier[item.name + "@" + item.toVersion]?.cves ?? [])
            seen.append(update)
            if document.installed.contains(where: { $0.name == item.name && $0.toVersion == item.toVersion }) { continue }
            var left = update
            if let failure = document.failed.first(where: { $0.name == item.name }), let actual = failure.actualVersion {
                left.installedVersion = actual
            }
            pending.append(left)
        }
        for item in document.skipped {
            let update = earlier[item.name + "@" + item.version] ?? ReportHistory.Update(
                package: item.name, installedVersion: "", availableVersion: item.version, source: "",
                security: item.reason != "not a security update")
            seen.append(update)
            pending.append(update)
        }
        observation.seen = seen.sorted { $0.package < $1.package }
        observation.pending = pending.sorted { $0.package < $1.package }
    }
}
