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

    /// One history's side of a shared host: how its rows are read (the source's SQLite snapshot, or
    /// the target in the export's transaction).
    private struct Side {
        let name: String
        let rows: (String, [DatabaseValue]) throws -> [Row]
    }

    /// Works out the handover of each host both histories scanned; the target's rows change in place
    /// (within the export's transaction), the source's as `plan.source` says while copied.
    static func handOver(_ hosts: Set<String>, from db: Database, into history: PostgresHistory, plan: inout MergePlan) throws {
        let target = history.location.description
        let source = Side(name: "this history") { sql, arguments in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
        let held = Side(name: "the target") { sql, arguments in try history.rows(sql, arguments) }
        let spanSQL = """
            SELECT MIN(h.started_at) AS first_at, MAX(h.finished_at) AS last_at, MAX(h.scan_seq) AS last_seq
            FROM run_hosts h WHERE h.host = ? AND h.scan_seq IS NOT NULL
            """
        var handed = (later: 0, earlier: 0)
        for host in hosts.sorted() {
            guard let mine = try source.rows(spanSQL, [host.databaseValue]).first, let theirs = try held.rows(spanSQL, [host.databaseValue]).first,
                  let myFirst = mine["first_at"] as Date?, let myLast = mine["last_at"] as Date?,
                  let theirFirst = theirs["first_at"] as Date?, let theirLast = theirs["last_at"] as Date?
            else { continue }
            let sourceLater: Bool
            if myFirst > theirLast {
                sourceLater = true
            } else if myLast < theirFirst {
                sourceLater = false
            } else {
                throw PatchError.store(path: target, message: "both histories scanned \(host) between \(JSONOutput.timestamp(max(myFirst, theirFirst))) and "
                                       + "\(JSONOutput.timestamp(min(myLast, theirLast))): a host's scans can be merged when one history's all come "
                                       + "before the other's (one controller handed it over), not interleaved")
            }
            let (earlier, later) = sourceLater ? (held, source) : (source, held)
            let last: Int64 = (sourceLater ? theirs : mine)["last_seq"]
            let handover = try Handover(host: host, earlier: earlier, later: later, last: last)
            if sourceLater {
                handed.later += 1
                try handover.applyWithSourceLater(to: history, plan: &plan)
            } else {
                handed.earlier += 1
                try handover.applyWithSourceEarlier(to: history, plan: &plan)
            }
        }
        if handed.later + handed.earlier > 0 {
            plan.notes.append("hosts both histories scanned: \(handed.later + handed.earlier), numbered as one sequence of scans each "
                              + "(this history's after the target's: \(handed.later); before them: \(handed.earlier))")
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

        init(host: String, earlier: Side, later: Side, last: Int64) throws {
            self.host = host
            self.last = last
            let key = host.databaseValue
            let openEnd = FindingIntervals.openEnd
            // The later's first scan of the host, and the earlier's last: what a closing is judged by.
            let laterFirst = try later.rows("SELECT started_at FROM run_hosts WHERE host = ? AND scan_seq = 1 ORDER BY run_id LIMIT 1", [key]).first?["started_at"] as DatabaseValue?
                ?? .null
            let earlierLast = try earlier.rows("SELECT started_at FROM run_hosts WHERE host = ? AND scan_seq = ? ORDER BY run_id DESC LIMIT 1",
                                               [key, last.databaseValue]).first?["started_at"] as DatabaseValue? ?? .null
            for table in [FindingIntervals.Table.findings, .unfixed] {
                let identity = table.identity.joined(separator: ", ")
                // The later's first scan saw what its intervals starting there hold.
                var first: [Int64: (id: Int64, row: Row)] = [:]
                var pendingNames = Set<String>()
                for row in try later.rows("SELECT id, identity_key, last_seq, closed_seq, closed_reason, \(identity) FROM \(table.name) WHERE host = ? AND first_seq = 1",
                                          [key]) {
                    first[Self.identityKey(row, table)] = (row["id"], row)
                    pendingNames.insert(Self.name(row, table))
                }
                var open: [(id: Int64, set: [String: DatabaseValue])] = []
                var gone: [(id: Int64, package: String, superseded: Bool)] = []
                for row in try earlier.rows("SELECT id, identity_key, \(identity) FROM \(table.name) WHERE host = ? AND closed_seq IS NULL", [key]) {
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
                // Closed by the later's first scan, for the reason recording gives (`FindingIntervals.record`).
                var installed = Set<String>()
                let packages = Set(gone.filter { !$0.superseded }.map(\.package))
                if table.name == FindingIntervals.Table.findings.name, !packages.isEmpty {
                    for side in [earlier, later] {
                        for chunk in HistoryStore.chunked(packages.sorted()) {
                            for row in try side.rows("""
                                SELECT DISTINCT package FROM deploy_packages WHERE host = ? AND package IN (\(databaseQuestionMarks(count: chunk.count)))
                                    AND outcome = 'installed' AND at <= ? AND at >= ?
                                """, [key] + chunk.map(\.databaseValue) + [laterFirst, earlierLast]) {
                                installed.insert(row["package"])
                            }
                        }
                    }
                }
                for closing in gone {
                    let reason: IntervalCloseReason = table.name == FindingIntervals.Table.findings.name
                        ? (closing.superseded ? .superseded : installed.contains(closing.package) ? .deployed : .fixedElsewhere)
                        : (closing.superseded ? .superseded : .resolved)
                    open.append((closing.id, ["last_seq": last.databaseValue, "closed_seq": (last + 1).databaseValue, "closed_reason": reason.databaseValue]))
                }
                earlierOpen[table.name] = open
            }
            // A version the earlier saw is first seen there (its earliest sighting), as recording looks it up.
            var earliest: [String: (run: String, values: [String: DatabaseValue])] = [:]
            for row in try earlier.rows("SELECT package, available_version, \(HistoryStore.versionFirstColumns()) FROM finding_intervals WHERE host = ?", [key]) {
                let version = (row["package"] as String) + "\n" + (row["available_version"] as String)
                let run: String = row["version_first_run"]
                if let known = earliest[version], known.run <= run { continue }
                earliest[version] = (run, ["version_first_run": run.databaseValue, "version_first_at": row["version_first_at"] as DatabaseValue,
                                           "version_first_security": row["version_first_security"] as DatabaseValue])
            }
            if !earliest.isEmpty {
                for row in try later.rows("SELECT id, package, available_version FROM finding_intervals WHERE host = ?", [key]) {
                    let id: Int64 = row["id"]
                    guard continued[FindingIntervals.Table.findings.name]?.contains(id) != true,
                          let seen = earliest[(row["package"] as String) + "\n" + (row["available_version"] as String)] else { continue }
                    firstSightings[id] = seen.values
                }
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
        func applyWithSourceLater(to history: PostgresHistory, plan: inout MergePlan) throws {
            for (table, changes) in earlierOpen {
                for change in changes { try Self.update(table, id: change.id, change.set, in: history) }
            }
            _ = try history.rows("DELETE FROM scan_hosts WHERE host = ?", [host.databaseValue])
            plan.source.sequenceOffsets[host] = last
            for (table, ids) in continued { plan.source.skippedIDs[table, default: []].formUnion(ids) }
            for (id, values) in firstSightings { plan.source.values[FindingIntervals.Table.findings.name, default: [:]][id] = values }
        }

        /// The source is the earlier history: the target's rows of the host move past the source's
        /// numbers, the intervals the source's go on as are removed, and the source's open intervals
        /// go on or close as they are copied; the target's latest scan stands.
        func applyWithSourceEarlier(to history: PostgresHistory, plan: inout MergePlan) throws {
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
            for (id, values) in firstSightings { try Self.update(FindingIntervals.Table.findings.name, id: id, values, in: history) }
            for (table, changes) in earlierOpen {
                for change in changes { plan.source.values[table, default: [:]][change.id] = change.set }
            }
            plan.source.skippedHosts["scan_hosts", default: []].insert(self.host)
        }

        static func update(_ table: String, id: Int64, _ values: [String: DatabaseValue], in history: PostgresHistory) throws {
            let names = values.keys.sorted()
            _ = try history.rows("UPDATE \(table) SET \(names.map { "\($0) = ?" }.joined(separator: ", ")) WHERE id = ?",
                                 names.map { values[$0]! } + [id.databaseValue])
        }
    }
}
