import Foundation
import GRDB

extension HistoryStore {
    /// A run's id and times.
    public struct RunTime: Sendable, Equatable {
        public var id: String
        public var startedAt: Date
        public var finishedAt: Date?
        public var state: RunState
    }

    /// Every scan run, oldest first, whatever its state.
    public func scanRuns() throws -> [RunTime] {
        try reading { db in
            try db.rows("SELECT id, started_at, finished_at, state FROM runs WHERE kind = ? ORDER BY started_at, id", arguments: [RunKind.scan]).map { row in
                RunTime(id: row["id"], startedAt: row["started_at"], finishedAt: row["finished_at"], state: try row.decode(RunState.self, forColumn: "state"))
            }
        }
    }

    /// Every scan, deployment and dry run of every host that finished by `date`, every package
    /// deployments installed by then, and when each host first had each version pending: what
    /// compliance reports, trends and diffs read. Pending updates are read only for contacts from
    /// `detailFrom` on, plus each host's last successful scan and last deployment before it (all
    /// when nil), so a year of nightly scans of a large fleet is not loaded to report on a month.
    /// With `controller`, only the runs that controller recorded (by label: its name, else its host).
    /// With `hosts`, only the hosts in that range: what the whole history holds about them.
    public func reportHistory(upTo date: Date, detailFrom: Date? = nil, controller: String? = nil, hosts range: HostRange = .all) throws -> ReportHistory {
        let only = ControllerScope(label: controller)
        return try reading { db in
            var observations: [String: [ReportHistory.Observation]] = [:]
            let contactColumns = """
                h.run_id, h.host, h.status, h.error, h.os_family, h.os_id, h.os_name, h.os_version, h.os_codename, h.kernel,
                h.architecture, h.reboot_required, h.started_at, h.finished_at, r.kind, r.policy, h.scan_seq
                """
            var contactIndex = ColumnIndex()
            // Thousands of contacts share a run id and a host's platform facts: each is kept once, not per contact.
            var runIds = StringPool()
            var platforms: [String: ReportHistory.Box<OSInfo>] = [:]
            // A third of a year-long report's reading is these rows: their columns are read by position, found once per
            // statement (by name, as a PostgreSQL row's come in any order), not looked up by name for every value.
            let contactNames = ["run_id", "host", "status", "error", "os_family", "os_id", "os_name", "os_version", "os_codename", "kernel",
                                "architecture", "reboot_required", "started_at", "finished_at", "kind", "policy", "scan_seq"]
            let observation = { (row: Row) throws -> (host: String, observation: ReportHistory.Observation) in
                _ = contactIndex(row)
                let at = contactIndex.positions(of: contactNames)
                let read: String = row[at[0]], host: String = row[at[1]]
                let runId = runIds(read)
                var os: ReportHistory.Box<OSInfo>?
                if let family: String = row[at[4]] {
                    let made = OSInfo(family: OSFamily(rawValue: family) ?? .unknown, id: row[at[5]] ?? "", name: row[at[6]] ?? "",
                                      version: row[at[7]] ?? "", codename: row[at[8]], kernel: row[at[9]], architecture: row[at[10]])
                    if platforms[host]?.value != made { platforms[host] = ReportHistory.Box(made) }
                    os = platforms[host]
                }
                return (host, ReportHistory.Observation(
                    runId: runId, kind: try row.decode(RunKind.self, atIndex: at[14]), policy: row[at[15]],
                    startedAt: (row[at[12]] as StoredDate).date, at: (row[at[13]] as StoredDate).date,
                    status: HostStatus(rawValue: row[at[2]]) ?? .error, error: row[at[3]], osBox: os, rebootRequired: row[at[11]],
                    pending: nil, seen: [], deployment: nil, scanSeq: row[at[16]]))
            }
            let kinds: [DatabaseValue] = [RunKind.scan.databaseValue, RunKind.deploy.databaseValue, RunKind.plan.databaseValue]
            if let detailFrom {
                for (host, list) in try Self.contacts(db, columns: contactColumns, from: detailFrom, upTo: date, kinds: kinds, only: only, hosts: range, observation) {
                    observations[host] = list
                }
            } else {
                try db.each("""
                    SELECT \(contactColumns) FROM run_hosts h JOIN runs r ON r.id = h.run_id
                    WHERE r.kind IN (?, ?, ?) AND h.finished_at <= ?\(only.condition("r"))\(range.condition("h.host")) ORDER BY h.host, h.finished_at, h.run_id
                    """, kinds + [date.databaseValue] + only.arguments + range.arguments) { row in
                    let (host, made) = try observation(row)
                    observations[host, default: []].append(made)
                }
            }

            // The contacts read in detail, by their place in their host's list (a flag each: a month of a fleet is
            // 300,000 contacts, too many to look up by name again and again): every one from `detailFrom` on (all
            // when nil), and before it the host's last contact that learned its packages and last deployment of
            // each policy (a report may be about one policy).
            var detailed: [String: [Bool]] = [:]
            // The detailed deployments and dry runs: their documents are read.
            var deployContacts = Set<ContactKey>()
            for (host, list) in observations {
                var flags = list.map { observation in detailFrom.map { observation.at >= $0 } ?? true }
                if let detailFrom {
                    let before = list.prefix { $0.at < detailFrom }.indices
                    if let lastScan = before.last(where: { list[$0].learnedPackages }) { flags[lastScan] = true }
                    var lastDeploys: [String: Int] = [:]
                    for index in before where list[index].kind == .deploy { lastDeploys[list[index].policy ?? ""] = index }
                    for index in lastDeploys.values { flags[index] = true }
                }
                for index in list.indices where flags[index] && list[index].kind != .scan {
                    deployContacts.insert(ContactKey(run: list[index].runId, host: host))
                }
                detailed[host] = flags
            }
            // Read by run id (the primary key's prefix), in chunks under SQLite's limit on bound values.
            let chunks = Self.chunked(Set(deployContacts.map { $0.run }).sorted())
            let placeholders = { (count: Int) in Array(repeating: "?", count: count).joined(separator: ",") }

            // The pending updates of the scans read in detail, from the intervals of each host that reach into
            // them: one range query per host (finding_intervals_by_seq) however many of its scans the period holds,
            // and each interval made into an update once. By host, then place in its list.
            var findings: [String: [Int: ReportHistory.Updates]] = [:]
            // First sightings: runs that started after `date` cannot have been seen by then.
            var firstSeen: [String: [ReportHistory.VersionKey: ReportHistory.Sighting]] = [:]
            let bound = Self.runIDBound(date)
            let intervalRows = """
                SELECT package, architecture, installed_version, available_version, source, security, severity, cves_digest, first_seq, last_seq,
                       \(Self.versionFirstColumns())
                FROM finding_intervals WHERE host = ? AND last_seq >= ? AND first_seq <= ?
                """
            // Columns by name: a PostgreSQL row's come in no particular order.
            var cveIndex = ColumnIndex(), intervalIndex = ColumnIndex()
            let intervalNames = ["package", "architecture", "installed_version", "available_version", "source", "security", "severity",
                                 "cves_digest", "first_seq", "last_seq", "version_first_run", "version_first_at", "version_first_security"]
            // A fleet's updates come from a few dozen sources, and share package names and versions: each text is kept once.
            var texts = StringPool()
            // CVE lists by digest: the batch's hosts share a few hundred, each read once (cve_lists' key).
            var lists: [String: (ids: [String], severity: Severity?, kev: Bool)] = ["": ([], nil, false)]
            // In host order: consecutive hosts share the index pages (and often table pages) they descend through,
            // which SQLite's small reader cache then still holds; in a dictionary's order each host read them again.
            for (host, flags) in detailed.sorted(by: { $0.key < $1.key }) {
                let list = observations[host] ?? []
                let scans = list.indices.compactMap { index in flags[index] ? list[index].scanSeq.map { (seq: $0, index: index) } : nil }
                guard !scans.isEmpty else { continue }
                let low = scans.map(\.seq).min()!, high = scans.map(\.seq).max()!
                var intervals: [(first: Int64, last: Int64, update: ReportHistory.Update)] = []
                var digests: [String] = []
                try db.each(intervalRows, [host.databaseValue, low.databaseValue, high.databaseValue]) { row in
                    // By position, as the contacts above.
                    _ = intervalIndex(row)
                    let at = intervalIndex.positions(of: intervalNames)
                    let package = texts(row[at[0]] as String), available = texts(row[at[3]] as String)
                    // Each version's first sighting rides on its intervals (see FindingIntervals).
                    let version = ReportHistory.VersionKey(package, available)
                    let first: String = row[at[10]]
                    if first < bound, (firstSeen[host]?[version]).map({ first < $0.runId }) ?? true {
                        firstSeen[host, default: [:]][version] = ReportHistory.Sighting(at: (row[at[11]] as StoredDate).date, runId: runIds(first),
                                                                                       security: row[at[12]])
                    }
                    let update = ReportHistory.Update(package: package, installedVersion: texts(row[at[2]]),
                                                      availableVersion: available, source: texts(row[at[4]]), security: row[at[5]],
                                                      severity: row[at[6]], architecture: Self.architecture(row[at[1]]).map { texts($0) })
                    digests.append(row[at[7]])
                    intervals.append((row[at[8]], row[at[9]], update))
                }
                let unread = Set(digests.filter { lists[$0] == nil }).sorted()
                for chunk in Self.chunked(unread) {
                    try db.each("SELECT digest, cve, severity, kev FROM cve_lists WHERE digest IN (\(placeholders(chunk.count))) ORDER BY digest, cve",
                                chunk.map(\.databaseValue)) { whole in
                        let row = cveIndex(whole)
                        let digest: String = row["digest"]
                        var entry = lists[digest] ?? ([], nil, false)
                        entry.ids.append(row["cve"])
                        if let rated = Severity(name: row["severity"]), rated != .unknown { entry.severity = max(entry.severity ?? rated, rated) }
                        entry.kev = entry.kev || row["kev"]
                        lists[digest] = entry
                    }
                }
                for (index, digest) in digests.enumerated() {
                    guard let found = lists[digest], !found.ids.isEmpty else { continue }
                    intervals[index].update.cves = found.ids
                    intervals[index].update.cveSeverity = found.severity
                    intervals[index].update.kev = found.kev
                }
                // By package, then architecture; the order is sorted, not the intervals moved about.
                let order = intervals.indices.sorted { a, b in
                    let left = intervals[a].update, right = intervals[b].update
                    return left.package != right.package ? left.package < right.package : (left.architecture ?? "") < (right.architecture ?? "")
                }
                // One table per host; each scan keeps the positions of the intervals that cover it.
                let table = ReportHistory.Updates.Table(order.map { intervals[$0].update })
                let spans = order.map { (first: intervals[$0].first, last: intervals[$0].last) }
                // Most nights a host's scan sees what its previous one saw: such scans share one list of positions.
                var previous: [UInt32] = []
                var found: [Int: ReportHistory.Updates] = [:]
                for (seq, index) in scans.sorted(by: { $0.seq < $1.seq }) {
                    var positions = spans.indices.compactMap { spans[$0].first <= seq && seq <= spans[$0].last ? UInt32($0) : nil }
                    if positions == previous { positions = previous } else { previous = positions }
                    found[index] = ReportHistory.Updates(table: table, positions: positions)
                }
                findings[host] = found
            }
            var documents: [ContactKey: DeployHostRecord] = [:]
            for chunk in chunks {
                for row in try db.rows("""
                    SELECT run_id, host, document FROM deploy_hosts WHERE run_id IN (\(placeholders(chunk.count)))\(range.condition("host"))
                    """, chunk.map(\.databaseValue) + range.arguments) {
                    let key = ContactKey(run: row["run_id"], host: row["host"])
                    guard deployContacts.contains(key) else { continue }
                    documents[key] = try? StoreCodec.decode(DeployHostRecord.self, from: row["document"] as String)
                }
            }

            // Versions a deployment in the period installed or skipped without any scan read here listing them:
            // looked up one by one through finding_intervals_by_package.
            let earliest = observations.values.compactMap { $0.first?.startedAt }.min() ?? date
            let installs = try db.rows("""
                SELECT p.run_id, p.host, p.package, p.target_version, p.at, r.policy FROM deploy_packages p JOIN runs r ON r.id = p.run_id
                WHERE p.outcome = 'installed' AND r.kind = ? AND p.at <= ? AND p.at >= ?\(only.condition("r"))\(range.condition("p.host"))
                ORDER BY p.at, p.host, p.package
                """, [RunKind.deploy.databaseValue, date.databaseValue, (detailFrom == nil ? Date.distantPast : earliest).databaseValue]
                + only.arguments + range.arguments).map { row in
                ReportHistory.Install(runId: row["run_id"], policy: row["policy"], host: row["host"], package: row["package"],
                                      version: row["target_version"], at: row["at"])
            }
            var wanted = installs.map { ($0.host, $0.package, $0.version) }
            for (key, document) in documents {
                let host = key.host
                wanted += document.planned.map { (host, $0.name, $0.toVersion) } + document.skipped.map { (host, $0.name, $0.version) }
            }
            let lookup = """
                SELECT \(Self.versionFirstColumns()) FROM finding_intervals
                WHERE host = ? AND package = ? AND available_version = ? AND COALESCE(version_first_run, first_run) < ?
                ORDER BY 1 LIMIT 1
                """
            for (host, package, version) in wanted where firstSeen[host]?[ReportHistory.VersionKey(package, version)] == nil {
                if let row = try db.rows(lookup, arguments: [host, package, version, bound]).first {
                    firstSeen[host, default: [:]][ReportHistory.VersionKey(package, version)] = ReportHistory.Sighting(
                        at: row["version_first_at"], runId: runIds(row["version_first_run"]), security: row["version_first_security"])
                }
            }

            let documentHosts = Set(documents.keys.map { $0.host })
            for host in Array(observations.keys) {
                // Taken out of the dictionary, so the list is changed in place rather than copied.
                guard var list = observations.removeValue(forKey: host) else { continue }
                // What earlier contacts saw, for a deployment's document: only hosts with one need it.
                let tracksSightings = documentHosts.contains(host)
                let flags = detailed[host] ?? [], found = findings[host] ?? [:]
                var lastSeen: [String: ReportHistory.Update] = [:]
                for index in list.indices where flags[index] {
                    if list[index].kind == .scan {
                        if list[index].status == .ok {
                            list[index].pending = found[index] ?? []
                            list[index].seen = found[index] ?? []
                        }
                    } else if let document = documents[ContactKey(run: list[index].runId, host: host)] {
                        Self.apply(document, to: &list[index], earlier: lastSeen, firstSeen: firstSeen[host] ?? [:])
                    }
                    guard tracksSightings else { continue }
                    for update in list[index].seen { lastSeen[update.package + "@" + update.availableVersion] = update }
                }
                observations[host] = list
            }

            return ReportHistory(observations: observations, installs: installs, firstSeen: firstSeen)
        }
    }

    /// Each host's contacts that a report from `from` to `date` reads, oldest first: every one that
    /// finished in the period, and before it the ones that can still decide a judgement: walking
    /// back from the period, each contact up to and including the last that learned the host's
    /// packages (an ok scan, or a deployment that parsed its scan), and the last deployment of each
    /// policy. The cost follows the period and the fleet, not the length of history.
    static func contacts(_ db: any HistorySQL, columns: String, from: Date, upTo date: Date, kinds: [DatabaseValue], only: ControllerScope,
                         hosts range: HostRange, _ observation: (Row) throws -> (host: String, observation: ReportHistory.Observation)) throws -> [String: [ReportHistory.Observation]] {
        var result: [String: [ReportHistory.Observation]] = [:]
        // Contacts before the period, which two of the queries below may both find; the period's
        // own (one row per run and host, all finished in it) are none of them.
        var before = Set<ContactKey>()
        func add(_ host: String, _ made: ReportHistory.Observation) {
            if made.at >= from || before.insert(ContactKey(run: made.runId, host: host)).inserted { result[host, default: []].append(made) }
        }
        func add(_ row: Row) throws {
            let (host, made) = try observation(row)
            add(host, made)
        }
        // The period: runs that may have a host finish in it (unfinished runs included), read by run id.
        let runs = try db.rows("""
            SELECT id FROM runs r WHERE kind IN (?, ?, ?) AND started_at <= ? AND (finished_at IS NULL OR finished_at >= ?)\(only.condition("r"))
            """, kinds + [date.databaseValue, from.databaseValue] + only.arguments).map { $0["id"] as String }
        // Run by run: the rows of one query are all held at once, and a month of 10,000 hosts is 300,000 of them.
        for run in runs {
            try db.each("""
                SELECT \(columns) FROM run_hosts h JOIN runs r ON r.id = h.run_id
                WHERE h.run_id = ? AND h.finished_at >= ? AND h.finished_at <= ?\(range.condition("h.host"))
                """, [run.databaseValue, from.databaseValue, date.databaseValue] + range.arguments, add)
        }
        // The last deployment of each policy before the period (a report may be about one policy).
        try db.each("""
            SELECT * FROM (
                SELECT \(columns), ROW_NUMBER() OVER (PARTITION BY h.host, r.policy ORDER BY h.finished_at DESC) AS latest
                FROM runs r \(db.orderedJoin) run_hosts h ON h.run_id = r.id
                WHERE r.kind = ? AND h.finished_at < ?\(only.condition("r"))\(range.condition("h.host"))
            ) AS deployments WHERE latest = 1
            """, [RunKind.deploy.databaseValue, from.databaseValue] + only.arguments + range.arguments, add)
        // Walking back from the period through the host's contacts (run_hosts_by_host), up to its last
        // scan before it; the hosts are every host ever scanned, plus those contacted in the period.
        let hosts = Set(try db.rows("SELECT host FROM scan_hosts WHERE TRUE\(range.condition("host"))", range.arguments).map { $0["host"] as String })
            .union(result.keys)
        let back = """
            SELECT \(columns) FROM run_hosts h JOIN runs r ON r.id = h.run_id
            WHERE h.host = ? AND h.run_id < ? AND r.kind IN (?, ?, ?)\(only.condition("r")) ORDER BY h.run_id DESC LIMIT ?
            """
        let bound = runIDBound(from)
        // In host order, as the hosts' contacts are laid out (see the intervals' read in reportHistory).
        for host in hosts.sorted() {
            // In pages: the walk usually stops at the first contact, so the first page is small (each row
            // read is a lookup in run_hosts and runs), and later ones larger.
            var offsetBound = bound
            var pageSize = 2
            walk: while true {
                let page = try db.rows(back, [host.databaseValue, offsetBound.databaseValue] + kinds + only.arguments + [pageSize.databaseValue])
                for row in page {
                    let (host, made) = try observation(row)
                    offsetBound = made.runId
                    guard made.at < from else { continue }
                    add(host, made)
                    if made.learnedPackages { break walk }
                }
                if page.count < pageSize { break }
                pageSize = 16
            }
        }
        for host in result.keys {
            result[host]?.sort { ($0.at, $0.runId) < ($1.at, $1.runId) }
        }
        return result
    }

    /// One contact: a run and a host.
    struct ContactKey: Hashable {
        var run: String
        var host: String
    }

    /// A slice of the host names in the database's own order (PostgreSQL's collation, SQLite's
    /// bytes): from `lower` (included) to `upper` (excluded), open where nil. A report read in
    /// batches reads such slices, compared only by the database, so each host is in exactly one.
    public struct HostRange: Sendable, Equatable {
        public var lower: String?
        public var upper: String?

        public static let all = HostRange()

        /// " AND column >= ? AND column < ?", or as much of it as the range bounds.
        func condition(_ column: String) -> String {
            (lower == nil ? "" : " AND \(column) >= ?") + (upper == nil ? "" : " AND \(column) < ?")
        }

        var arguments: [DatabaseValue] { [lower, upper].compactMap { $0?.databaseValue } }
    }

    /// Ranges that split the hosts ever scanned into batches of about `size`, in order; together
    /// they cover every name, scanned or not.
    public func hostRanges(batch size: Int) throws -> [HostRange] {
        precondition(size > 0)
        let names = try rows("SELECT host FROM scan_hosts ORDER BY host").map { $0["host"] as String }
        let bounds = stride(from: size, to: names.count, by: size).map { names[$0] }
        guard !bounds.isEmpty else { return [.all] }
        return zip([nil] + bounds, bounds.map(Optional.some) + [nil]).map { HostRange(lower: $0, upper: $1) }
    }

    /// The stores the threads reading a report's batches use (`ReadAhead`), one per thread: a
    /// read-only SQLite file for two threads, opened once more for the second (a connection serves
    /// one thread at a time); a writable one for two, itself twice (it reads through a pool of
    /// connections); a PostgreSQL history for one thread (its one connection takes its queries in
    /// turn, so a second thread would only wait).
    public func batchReaders() throws -> [HistoryStore] {
        switch backend {
        case .postgres: return [self]
        case .sqlite: return [self, isReadOnly ? try HistoryStore(readOnly: path) : self]
        }
    }

    /// A report's runs: every controller's, or one's (by label).
    struct ControllerScope {
        var label: String?

        /// " AND …" for a runs table aliased `alias`, or nothing.
        func condition(_ alias: String) -> String {
            label == nil ? "" : " AND " + HistoryStore.controllerCondition(alias)
        }

        var arguments: [DatabaseValue] { label.map { [$0.databaseValue] } ?? [] }
    }

    /// `values` in chunks under SQLite's limit on bound parameters.
    static func chunked<T>(_ values: [T], size: Int = 500) -> [[T]] {
        stride(from: 0, to: values.count, by: size).map { Array(values[$0..<min($0 + size, values.count)]) }
    }

    /// Every run id of a run started by `date` sorts below this.
    static func runIDBound(_ date: Date) -> String {
        String(makeRunID(date).prefix(16)) + "~"
    }

    /// A deployment's document as an observation: its scan listed planned + skipped updates;
    /// what it did not install is still pending. Skipped updates carry the scan's installed
    /// version, source and security flag; ones recorded before they did take them from the latest
    /// earlier sighting of the same version (or the first one's security flag), and one never seen
    /// before counts as a security update unless the deployment said it is not one.
    static func apply(_ document: DeployHostRecord, to observation: inout ReportHistory.Observation, earlier: [String: ReportHistory.Update],
                      firstSeen: [ReportHistory.VersionKey: ReportHistory.Sighting]) {
        observation.deployment = ReportHistory.DeployJob(ring: document.ring, planned: document.planned.count,
                                                          installed: document.installed.count, failed: document.failed.count)
        // A deployment that never parsed its scan learned nothing about packages.
        guard document.os != nil, document.rebootRequired != nil else { return }
        var seen: [ReportHistory.Update] = []
        var pending: [ReportHistory.Update] = []
        for item in document.planned {
            var update = ReportHistory.Update(package: item.name, installedVersion: item.fromVersion, availableVersion: item.toVersion,
                                              source: item.source, security: item.security, severity: item.severity,
                                              releasedAt: earlier[item.name + "@" + item.toVersion]?.releasedAt,
                                              cves: earlier[item.name + "@" + item.toVersion]?.cves ?? item.cves)
            // What the scan before said about its CVEs, else what the deployment's own plan recorded.
            update.cveSeverity = earlier[item.name + "@" + item.toVersion]?.cveSeverity
            update.kev = earlier[item.name + "@" + item.toVersion]?.kev ?? item.kev
            seen.append(update)
            if document.installed.contains(where: { $0.name == item.name && $0.toVersion == item.toVersion }) { continue }
            var left = update
            if let failure = document.failed.first(where: { $0.name == item.name }), let actual = failure.actualVersion {
                left.installedVersion = actual
            }
            pending.append(left)
        }
        for item in document.skipped {
            let key = item.name + "@" + item.version
            let update: ReportHistory.Update
            if let installed = item.installedVersion {
                // What the deployment's own scan said; the release date as the scan before knew it, and
                // CVEs as it knew them, else as the deployment's own scan matched them (as for planned ones).
                var own = ReportHistory.Update(package: item.name, installedVersion: installed, availableVersion: item.version,
                                               source: item.source ?? "", security: item.security ?? true, severity: item.severity,
                                               releasedAt: earlier[key]?.releasedAt, cves: earlier[key]?.cves ?? item.cves ?? [])
                own.cveSeverity = earlier[key]?.cveSeverity
                own.kev = earlier[key]?.kev ?? item.kev ?? false
                update = own
            } else if item.recordedWithoutFinding {
                update = earlier[key] ?? ReportHistory.Update(
                    package: item.name, installedVersion: "", availableVersion: item.version, source: "",
                    security: firstSeen[ReportHistory.VersionKey(item.name, item.version)]?.security ?? (item.reason != "not a security update"))
            } else {
                continue  // a bundle item or a refused line: not a pending update
            }
            seen.append(update)
            pending.append(update)
        }
        observation.seen = ReportHistory.Updates(seen.sorted { $0.package < $1.package })
        observation.pending = ReportHistory.Updates(pending.sorted { $0.package < $1.package })
    }
}

/// Equal strings read from many rows, kept as one: a report's contacts and findings repeat a few
/// thousand run ids, package names, versions and sources hundreds of thousands of times.
struct StringPool {
    private var kept: Set<String> = []

    mutating func callAsFunction(_ text: String) -> String {
        if let found = kept.firstIndex(of: text) { return kept[found] }
        kept.insert(text)
        return text
    }
}
