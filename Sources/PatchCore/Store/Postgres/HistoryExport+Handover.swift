import Foundation
import GRDB

/// `history export --merge` of two histories that scanned the same host: one controller handed the
/// host over to another (a fleet split into shards, a zone's controller replaced). Each history
/// numbers a host's scans from 1 (`scan_hosts`, `run_hosts.scan_seq`, the intervals' sequences);
/// merged, they are one sequence, as if one controller had scanned the host all along:
/// - the later history's scans of the host follow the earlier's: its numbers move past the
///   earlier's last (the source's as they are copied, the target's in place);
/// - a finding open at the earlier's last scan that the later's first scan saw alike goes on as one
///   interval, from the earlier's first sighting; one it did not see closes at that scan, for the
///   reason recording gives (superseded, deployed, fixed elsewhere; an unfixed CVE: superseded, resolved);
/// - a version the earlier history saw is first seen then, in the later's intervals too;
/// - the host's latest scan (`scan_hosts`) is the later's.
/// Refused, naming the host: scans of both histories that interleave, and a host one history
/// retired that the other scanned since.
extension HistoryExport {
    /// What the merge changes in the source's rows of shared hosts as they are copied.
    struct SourceChanges: Sendable {
        /// Added to the sequence columns of a host's rows, by host: where the source is the later history.
        var sequenceOffsets: [String: Int64] = [:]
        /// Values put in place of the copied ones: by table, source id, column.
        var values: [String: [Int64: [String: DatabaseValue]]] = [:]
        /// Source rows not copied: intervals the target's go on as, by table and id; rows of hosts the
        /// target's stand for, by table.
        var skippedIDs: [String: Set<Int64>] = [:]
        var skippedHosts: [String: Set<String>] = [:]

        var isEmpty: Bool { sequenceOffsets.isEmpty && values.isEmpty && skippedIDs.isEmpty && skippedHosts.isEmpty }

        /// The tables whose rows name a shared host's scans.
        static let tables: Set<String> = ["run_hosts", "scan_hosts", "finding_intervals", "unfixed_cve_intervals"]

        /// Applies the changes to one copied row of `table` (`values` in `table.columns` order, the
        /// source's own ids); false when it is not copied.
        func apply(to values: inout [CopyValue], of table: PostgresSchema.Table, columns: [String: Int]) throws -> Bool {
            guard let hostIndex = columns["host"], case let .text(host) = values[hostIndex] else { return true }
            if skippedHosts[table.name]?.contains(host) == true { return false }
            var id: Int64?
            if let index = columns["id"], case let .integer(number) = values[index] { id = number }
            if let id, skippedIDs[table.name]?.contains(id) == true { return false }
            if let offset = sequenceOffsets[host] {
                // run_hosts' scan, scan_hosts' latest, the intervals' sequences. An open interval's end stays open.
                for name in ["scan_seq", "first_seq", "last_seq", "closed_seq"] {
                    guard let index = columns[name], case let .integer(number) = values[index], number != FindingIntervals.openEnd else { continue }
                    values[index] = .integer(number + offset)
                }
            }
            if let id, let changed = self.values[table.name]?[id] {
                for (name, value) in changed {
                    guard let index = columns[name] else { continue }
                    values[index] = try CopyValue(value, column: table.columns[index], table: table.name)
                }
            }
            return true
        }
    }

    /// What one history holds of a shared host, that its handover is worked out from: read for many
    /// hosts at once (`load`), as one query per host and table was most of a large merge's time.
    private struct HostRows {
        /// Its scans: when the first began and the last finished, and the last's number (a history that
        /// pruned them all: when the last was, from `scan_hosts`).
        var firstAt: Date?
        var lastAt: Date?
        var lastSeq: Int64 = 0
        /// When its first scan (number 1) and its last began (the first by run id, and the last).
        var firstScanStart: Date?
        var lastScanStart: (run: String, at: Date)?
        /// By interval table: the intervals its first scan opened, and those open at its last.
        var firstIntervals: [String: [Row]] = [:]
        var openIntervals: [String: [Row]] = [:]
        /// What deployments installed on it, and when.
        var installs: [(package: String, at: Date)] = []
        /// Its finding intervals: id, version and the version's first sighting.
        var versions: [Row] = []

        /// The rows of `hosts` (a few hundred: one query each under the limit on bound values).
        static func load(_ hosts: [String], _ rows: (String, [DatabaseValue]) throws -> [Row]) throws -> [String: HostRows] {
            var result: [String: HostRows] = [:]
            let list = databaseQuestionMarks(count: hosts.count), arguments = hosts.map(\.databaseValue)
            // The host's last number and time are its scan_hosts row's: a prune removes runs, not the count, and a
            // history that pruned every scan of the host still knows when the last one was (its first and last).
            for row in try rows("SELECT host, last_seq, last_at FROM scan_hosts WHERE host IN (\(list))", arguments) {
                let host: String = row["host"]
                result[host, default: HostRows()].lastSeq = row["last_seq"]
                result[host]?.firstAt = row["last_at"]
                result[host]?.lastAt = row["last_at"]
            }
            for row in try rows("""
                SELECT host, MIN(started_at) AS first_at, MAX(finished_at) AS last_at FROM run_hosts
                WHERE scan_seq IS NOT NULL AND host IN (\(list)) GROUP BY host
                """, arguments) {
                let host: String = row["host"]
                result[host]?.firstAt = row["first_at"]
                result[host]?.lastAt = row["last_at"]
            }
            for row in try rows("SELECT host, run_id, started_at FROM run_hosts WHERE scan_seq = 1 AND host IN (\(list)) ORDER BY host, run_id", arguments) {
                let host: String = row["host"]
                if result[host]?.firstScanStart == nil { result[host]?.firstScanStart = row["started_at"] }
            }
            for row in try rows("""
                SELECT h.host, h.run_id, h.started_at FROM run_hosts h JOIN scan_hosts s ON s.host = h.host AND h.scan_seq = s.last_seq
                WHERE h.host IN (\(list))
                """, arguments) {
                let host: String = row["host"], run: String = row["run_id"]
                if (result[host]?.lastScanStart?.run).map({ $0 < run }) ?? true { result[host]?.lastScanStart = (run, row["started_at"]) }
            }
            for table in [FindingIntervals.Table.findings, .unfixed] {
                let identity = table.identity.joined(separator: ", ")
                for row in try rows("""
                    SELECT host, id, identity_key, last_seq, closed_seq, closed_reason, \(identity) FROM \(table.name) WHERE first_seq = 1 AND host IN (\(list))
                    """, arguments) {
                    result[row["host"]]?.firstIntervals[table.name, default: []].append(row)
                }
                for row in try rows("SELECT host, id, identity_key, \(identity) FROM \(table.name) WHERE closed_seq IS NULL AND host IN (\(list))", arguments) {
                    result[row["host"]]?.openIntervals[table.name, default: []].append(row)
                }
            }
            for row in try rows("SELECT host, package, at FROM deploy_packages WHERE outcome = 'installed' AND host IN (\(list))", arguments) {
                result[row["host"]]?.installs.append((row["package"], row["at"]))
            }
            for row in try rows("""
                SELECT id, host, package, available_version, \(HistoryStore.versionFirstColumns()) FROM finding_intervals WHERE host IN (\(list))
                """, arguments) {
                result[row["host"]]?.versions.append(row)
            }
            return result
        }
    }

    /// Works out the handover of each host both histories scanned; the target's rows change in place
    /// (within the export's transaction), the source's as `plan.source` says while copied.
    static func handOver(_ hosts: Set<String>, from db: Database, into history: PostgresHistory, plan: inout MergePlan) throws {
        let target = history.location.description
        var handed = (later: 0, earlier: 0)
        var updates = TargetUpdates()
        // A few hundred hosts at a time: what is read of them is held until they are worked out.
        for chunk in HistoryStore.chunked(hosts.sorted(), size: 200) {
            let sources = try HostRows.load(chunk) { sql, arguments in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
            let targets = try HostRows.load(chunk) { sql, arguments in try history.rows(sql, arguments) }
            for host in chunk {
                guard let mine = sources[host], let theirs = targets[host], let myFirst = mine.firstAt, let myLast = mine.lastAt,
                      let theirFirst = theirs.firstAt, let theirLast = theirs.lastAt
                else { continue }
                let sourceLater: Bool
                if myFirst > theirLast {
                    sourceLater = true
                } else if myLast < theirFirst {
                    sourceLater = false
                } else {
                    throw PatchError.store(path: target, message: "both histories scanned \(host) between \(JSONOutput.timestamp(max(myFirst, theirFirst))) "
                                           + "and \(JSONOutput.timestamp(min(myLast, theirLast))): a host's scans can be merged when one history's all "
                                           + "come before the other's (one controller handed it over), not interleaved")
                }
                let handover = Handover(host: host, earlier: sourceLater ? theirs : mine, later: sourceLater ? mine : theirs)
                if sourceLater {
                    handed.later += 1
                    try handover.applyWithSourceLater(to: history, plan: &plan, updates: &updates)
                } else {
                    handed.earlier += 1
                    try handover.applyWithSourceEarlier(to: history, plan: &plan, updates: &updates)
                }
            }
        }
        try updates.flush(into: history)
        if handed.later + handed.earlier > 0 {
            plan.notes.append("hosts both histories scanned: \(handed.later + handed.earlier), numbered as one sequence of scans each "
                              + "(this history's after the target's: \(handed.later); before them: \(handed.earlier))")
        }
    }

    /// Rows of the target's intervals that change, sent many to a statement: a handover of 1,000
    /// hosts changes some 20,000, and one statement each was most of the merge's time.
    private struct TargetUpdates {
        /// By table and the columns set (their names, sorted): each row's id and values.
        var rows: [String: [[String]: [(id: Int64, values: [DatabaseValue])]]] = [:]

        /// The server's type of each column set (a VALUES list's parameters have none of their own).
        static let types = ["last_seq": "BIGINT", "closed_seq": "BIGINT", "closed_reason": "BIGINT", "version_first_run": "TEXT",
                            "version_first_at": "TEXT", "version_first_security": "BOOLEAN"]

        mutating func add(_ table: String, id: Int64, _ values: [String: DatabaseValue]) {
            let names = values.keys.sorted()
            rows[table, default: [:]][names, default: []].append((id, names.map { values[$0]! }))
        }

        func flush(into history: PostgresHistory) throws {
            for (table, sets) in rows.sorted(by: { $0.key < $1.key }) {
                for (names, changes) in sets.sorted(by: { $0.key.joined() < $1.key.joined() }) {
                    let row = "(CAST(? AS BIGINT), " + names.map { "CAST(? AS \(Self.types[$0]!))" }.joined(separator: ", ") + ")"
                    for chunk in HistoryStore.chunked(changes, size: 1000) {
                        _ = try history.rows("""
                            UPDATE \(table) AS t SET \(names.map { "\($0) = v.\($0)" }.joined(separator: ", "))
                            FROM (VALUES \(Array(repeating: row, count: chunk.count).joined(separator: ", "))) AS v(id, \(names.joined(separator: ", ")))
                            WHERE t.id = v.id
                            """, chunk.flatMap { [$0.id.databaseValue] + $0.values })
                    }
                }
            }
        }
    }

    /// A host's handover, worked out in the earlier history's numbers (the later's are moved by `last`).
    private struct Handover {
        let host: String
        /// The earlier history's last scan of the host: the later's numbers are moved by it.
        let last: Int64
        /// By interval table: the earlier's open intervals (id) and what becomes of them (columns to set).
        var earlierOpen: [String: [(id: Int64, set: [String: DatabaseValue])]] = [:]
        /// By interval table: the later's intervals the earlier's go on as (removed).
        var continued: [String: Set<Int64>] = [:]
        /// The later's finding intervals whose version the earlier saw first: id → its first sighting.
        var firstSightings: [Int64: [String: DatabaseValue]] = [:]

        init(host: String, earlier: HostRows, later: HostRows) {
            self.host = host
            let last = earlier.lastSeq
            self.last = last
            let openEnd = FindingIntervals.openEnd
            for table in [FindingIntervals.Table.findings, .unfixed] {
                // The later's first scan saw what its intervals starting there hold.
                var first: [Int64: (id: Int64, row: Row)] = [:]
                var pendingNames = Set<String>()
                for row in later.firstIntervals[table.name] ?? [] {
                    first[Self.identityKey(row, table)] = (row["id"], row)
                    pendingNames.insert(Self.name(row, table))
                }
                var open: [(id: Int64, set: [String: DatabaseValue])] = []
                var gone: [(id: Int64, package: String, superseded: Bool)] = []
                for row in earlier.openIntervals[table.name] ?? [] {
                    let id: Int64 = row["id"]
                    if let match = first.removeValue(forKey: Self.identityKey(row, table)) {
                        // Seen alike on both sides of the handover: one interval, ending where the later's ends.
                        let end: Int64 = match.row["last_seq"], closed: Int64? = match.row["closed_seq"]
                        open.append((id, ["last_seq": (end == openEnd ? end : end + last).databaseValue, "closed_seq": closed.map { $0 + last }.databaseValue,
                                          "closed_reason": match.row["closed_reason"] as DatabaseValue]))
                        continued[table.name, default: []].insert(match.id)
                    } else {
                        gone.append((id, row[table.identity[0]], pendingNames.contains(Self.name(row, table))))
                    }
                }
                // Closed by the later's first scan, for the reason recording gives (`FindingIntervals.record`): a
                // deployment (recorded in either history) installed it between the earlier's last scan and that one.
                var installed = Set<String>()
                if table.name == FindingIntervals.Table.findings.name, let from = earlier.lastScanStart?.at, let to = later.firstScanStart {
                    for install in earlier.installs + later.installs where from <= install.at && install.at <= to { installed.insert(install.package) }
                }
                for closing in gone {
                    let reason = IntervalCloseReason.closing(table, superseded: closing.superseded, deployed: installed.contains(closing.package))
                    open.append((closing.id, ["last_seq": last.databaseValue, "closed_seq": (last + 1).databaseValue, "closed_reason": reason.databaseValue]))
                }
                earlierOpen[table.name] = open
            }
            // A version the earlier saw is first seen there (its earliest sighting), as recording looks it up.
            var earliest = FindingIntervals.EarliestSightings()
            for row in earlier.versions {
                earliest.add(package: row["package"], version: row["available_version"], run: row["version_first_run"],
                             at: row["version_first_at"], security: row["version_first_security"])
            }
            guard !earliest.byVersion.isEmpty else { return }
            for row in later.versions {
                let id: Int64 = row["id"]
                guard continued[FindingIntervals.Table.findings.name]?.contains(id) != true,
                      let seen = earliest.byVersion[(row["package"] as String) + "\n" + (row["available_version"] as String)] else { continue }
                firstSightings[id] = Dictionary(uniqueKeysWithValues: zip(["version_first_run", "version_first_at", "version_first_security"], seen))
            }
        }

        /// The stored key of an interval's identity, or the one recording would store (an interval opened before v22 has none).
        static func identityKey(_ row: Row, _ table: FindingIntervals.Table) -> Int64 {
            if let key = row["identity_key"] as Int64? { return key }
            return FindingIntervals.identityKey(table.identity.map { row[$0] as DatabaseValue })
        }

        /// What a closing is judged by: (package, architecture), or (cve, source package).
        static func name(_ row: Row, _ table: FindingIntervals.Table) -> String {
            table.named.map { String.fromDatabaseValue(row[$0] as DatabaseValue) ?? "" }.joined(separator: "\n")
        }

        /// The source is the later history: the target's open intervals of the host go on or close in
        /// place, its latest scan gives way to the source's, and the source's rows move past its numbers.
        func applyWithSourceLater(to history: PostgresHistory, plan: inout MergePlan, updates: inout TargetUpdates) throws {
            for (table, changes) in earlierOpen {
                for change in changes { updates.add(table, id: change.id, change.set) }
            }
            _ = try history.rows("DELETE FROM scan_hosts WHERE host = ?", [host.databaseValue])
            plan.source.sequenceOffsets[host] = last
            for (table, ids) in continued { plan.source.skippedIDs[table, default: []].formUnion(ids) }
            for (id, values) in firstSightings { plan.source.values[FindingIntervals.Table.findings.name, default: [:]][id] = values }
        }

        /// The source is the earlier history: the target's rows of the host move past the source's
        /// numbers, the intervals the source's go on as are removed, and the source's open intervals
        /// go on or close as they are copied; the target's latest scan stands.
        func applyWithSourceEarlier(to history: PostgresHistory, plan: inout MergePlan, updates: inout TargetUpdates) throws {
            let host = host.databaseValue, offset = last.databaseValue, openEnd = FindingIntervals.openEnd.databaseValue
            _ = try history.rows("UPDATE run_hosts SET scan_seq = scan_seq + ? WHERE host = ? AND scan_seq IS NOT NULL", [offset, host])
            _ = try history.rows("UPDATE scan_hosts SET last_seq = last_seq + ? WHERE host = ?", [offset, host])
            for table in [FindingIntervals.Table.findings.name, FindingIntervals.Table.unfixed.name] {
                _ = try history.rows("""
                    UPDATE \(table) SET first_seq = first_seq + ?, last_seq = CASE WHEN last_seq = ? THEN last_seq ELSE last_seq + ? END,
                        closed_seq = closed_seq + ? WHERE host = ?
                    """, [offset, openEnd, offset, offset, host])
                for chunk in HistoryStore.chunked((continued[table] ?? []).sorted()) {
                    _ = try history.rows("DELETE FROM \(table) WHERE id IN (\(databaseQuestionMarks(count: chunk.count)))", chunk.map(\.databaseValue))
                }
            }
            for (id, values) in firstSightings { updates.add(FindingIntervals.Table.findings.name, id: id, values) }
            for (table, changes) in earlierOpen {
                for change in changes { plan.source.values[table, default: [:]][change.id] = change.set }
            }
            plan.source.skippedHosts["scan_hosts", default: []].insert(self.host)
        }
    }
}
