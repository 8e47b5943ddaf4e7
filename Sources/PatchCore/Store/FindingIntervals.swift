import Crypto
import Foundation
import GRDB

/// Why an interval stopped: what the scan that no longer saw the finding knows about it. Stored
/// as `code` (migration v20); its name is what people and JSON read.
public enum IntervalCloseReason: String, Codable, Sendable, CaseIterable, DatabaseValueConvertible {
    /// The same package (and architecture) is still pending, with another version or other attributes.
    case superseded
    /// A deployment installed it on this host since the finding was last seen.
    case deployed
    /// Gone without a recorded deployment: fixed by hand, by another tool, or the package was removed.
    case fixedElsewhere = "fixed_elsewhere"
    /// An unfixed CVE no longer open on the host (fixed, or the feed no longer lists it).
    case resolved

    /// The stored value: never reuse or renumber one (stored histories hold them). Small, so that
    /// a closing shrinks its row (`closingCodesMigration`).
    public var code: Int64 {
        switch self {
        case .superseded: 0
        case .deployed: 1
        case .fixedElsewhere: 2
        case .resolved: 3
        }
    }

    public var databaseValue: DatabaseValue { code.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> IntervalCloseReason? {
        guard let code = Int64.fromDatabaseValue(dbValue) else { return nil }
        return allCases.first { $0.code == code }
    }

    /// Why an interval of `table` closes at a scan: the scan still lists its name (`Table.named`) with
    /// other attributes, or else, for a finding, a deployment installed it since the host's previous scan.
    /// Recording and a merge's handover (`HistoryExport`) judge by this one rule.
    static func closing(_ table: FindingIntervals.Table, superseded: Bool, deployed: Bool) -> IntervalCloseReason {
        superseded ? .superseded : table.name != FindingIntervals.Table.findings.name ? .resolved : deployed ? .deployed : .fixedElsewhere
    }
}

/// Findings and unfixed CVEs are stored as intervals of a host's successful scans, not as rows
/// per run: a finding seen unchanged for a year is one row. Each recorded scan of a host gets the
/// host's next sequence number (`run_hosts.scan_seq`); an interval holds the first and last
/// sequence numbers that saw it, so "what did run R see on host H" is the intervals whose
/// [first_seq, last_seq] holds H's number in R. The views `findings`, `finding_cves` and
/// `unfixed_cves` expand them back to the per-run rows older code and readers know.
///
/// An open interval's `last_seq` is `openEnd` (migration v15): it reaches every later scan of its
/// host, so a scan that sees a finding unchanged writes nothing for it, and a night's write costs
/// what changed, not every open finding of the fleet (whose rows lie scattered over the file).
/// Its true last sighting is the host's latest scan (`scan_hosts`); `last_seq` is set when it closes.
/// From v19 an interval names its last sighting and its closing by sequence number only: the run
/// and time of each are the host's `run_hosts` row with that `scan_seq`.
enum FindingIntervals {
    /// `last_seq` of an interval still open.
    static let openEnd = Int64.max

    /// A table of intervals: its name and the columns that make two sightings "the same".
    struct Table {
        let name: String
        let identity: [String]

        /// The identity's first two columns, what a closing's reason is judged by: (package,
        /// architecture) of a finding, (cve, source_package) of an unfixed CVE.
        var named: [String] { Array(identity.prefix(2)) }

        static let findings = Table(name: "finding_intervals", identity: [
            "package", "architecture", "installed_version", "available_version", "source", "security", "severity", "cves_digest",
        ])
        static let unfixed = Table(name: "unfixed_cve_intervals", identity: [
            "cve", "source_package", "package", "packages", "severity", "vendor_severity", "cvss", "kev", "fixed_version", "feed",
        ])
    }

    /// One host's place in the timeline of its scans.
    struct Sighting {
        var host: String
        var seq: Int64
        var runId: String
        var at: Date
        /// `at` as stored, made once: GRDB formats a date through a DateFormatter on every bind.
        let stored: DatabaseValue
        /// The host's open intervals are what this scan saw: its previous sighting saw the same.
        var unchanged = false

        init(host: String, seq: Int64, runId: String, at: Date, stored: DatabaseValue? = nil) {
            self.host = host
            self.seq = seq
            self.runId = runId
            self.at = at
            self.stored = stored ?? at.databaseValue
        }
    }

    /// The next sequence number of `host`, recorded as its latest scan with the digest of what it
    /// saw (`Prepared.digest`): `nextSequences` for one host.
    static func nextSequence(_ db: any HistoryWriter, host: String, runId: String, at: Date, digest: String) throws -> Sighting {
        guard let sighting = try nextSequences(db, runId: runId, hosts: [(host, at, digest)])[host] else {
            throw PatchError.store(path: db.source, message: "no sequence number for \(host)")
        }
        return sighting
    }

    /// What recording a batch of distinct hosts reads for all of them at once, before any host's
    /// intervals move (each host's rows are its own). Only hosts whose sighting changed are read.
    struct BatchReads {
        /// What one changed host's scan does to its intervals of a table.
        struct Moves {
            /// Indexes of the scan's rows (`Prepared.keys(of:)` order) no open interval holds: they open one.
            var opened: [Int]
            /// Open intervals the scan no longer saw, by id in ascending order: they close.
            var closing: [Int64]
        }

        /// Table name → host → its moves: worked out here once, and `advance` writes them.
        var moves: [String: [String: Moves]] = [:]
        /// Table name → interval id → its `Table.named` values: the open intervals the batch's scans no longer saw.
        var closing: [String: [Int64: [DatabaseValue]]] = [:]
        /// Versions ("package\nversion") the batch's scans open intervals of that `finding_versions` did not
        /// hold: no scan before this batch saw them (`versionReads`).
        var newVersions: Set<String> = []
        /// Versions the fleet first saw earlier in this batch's run.
        var runVersions: Set<String> = []
        /// Hosts this batch's run recorded before: the run's versions may be theirs.
        var rerecorded: Set<String> = []

        /// Whether `host` may have seen `version` before this scan, so that its first sighting must be looked up.
        /// Without version reads (an empty `BatchReads`), every version may have been.
        func mayHaveSeen(_ version: String, on host: String) -> Bool {
            !newVersions.contains(version) && (rerecorded.contains(host) || !runVersions.contains(version))
        }
    }

    /// Reads the open intervals of the batch's changed hosts by identity key, from the open
    /// intervals' index alone (migration v22: `id` is the rowid, the index holds host and key),
    /// then the names of those that close, by id: a closing is judged by what it was; an unchanged
    /// or reopened finding is matched by its key.
    static func batchReads(_ db: any HistoryWriter, _ hosts: [(sighting: Sighting, prepared: Prepared)]) throws -> BatchReads {
        var reads = BatchReads()
        let changed = hosts.filter { !$0.sighting.unchanged }
        guard !changed.isEmpty else { return reads }
        for table in [Table.findings, .unfixed] {
            var byHost: [String: [Int64: Int64]] = [:]
            byHost.reserveCapacity(changed.count)
            var unkeyed: [Int64] = []
            var index = ColumnIndex()
            for chunk in HistoryStore.chunked(changed.map(\.sighting.host)) {
                try db.each("""
                    SELECT id, host, identity_key FROM \(table.name)
                    WHERE closed_seq IS NULL AND host IN (\(databaseQuestionMarks(count: chunk.count)))
                    """, chunk.map(\.databaseValue)) { whole in
                    let row = index(whole)
                    let id: Int64 = row["id"]
                    guard let key: Int64 = row["identity_key"] else { return unkeyed.append(id) }
                    byHost[row["host"], default: [:]][key] = id
                }
            }
            for (id, host, key) in try keyed(db, table, ids: unkeyed) { byHost[host, default: [:]][key] = id }
            var closing: [Int64] = [], moves: [String: BatchReads.Moves] = [:]
            moves.reserveCapacity(changed.count)
            for (sighting, prepared) in changed {
                var open = byHost.removeValue(forKey: sighting.host) ?? [:]
                let keys = prepared.keys(of: table)
                let opened = keys.indices.filter { open.removeValue(forKey: keys[$0]) == nil }
                let closes = open.values.sorted()
                moves[sighting.host] = BatchReads.Moves(opened: opened, closing: closes)
                closing += closes
            }
            reads.moves[table.name] = moves
            reads.closing[table.name] = try names(db, table, ids: closing)
        }
        try versionReads(db, changed, into: &reads)
        return reads
    }

    /// Which versions the batch's new finding intervals may have been seen in before (migration v23):
    /// `finding_versions` holds every (package, available version) any interval ever held, with the
    /// run that first recorded it. A host can have seen a version before only if the version was
    /// recorded before: by an earlier run, or by this run when it recorded the host before (a run may
    /// scan a host twice). For the others, `record` skips the first-sighting lookup, which reads
    /// every interval the host ever had of the package: a point release opens new versions on every
    /// host, and those lookups were a quarter of its night's write. Versions not held yet are added,
    /// as recorded by this run, in the batch's transaction.
    ///
    /// Rows are never deleted (pruning keeps them): a version whose intervals were pruned counts as
    /// seen, and is looked up for nothing, rather than counted as new on a host that kept one of its intervals.
    static func versionReads(_ db: any HistoryWriter, _ changed: [(sighting: Sighting, prepared: Prepared)], into reads: inout BatchReads) throws {
        guard let first = changed.first else { return }
        // A batch is one run's (`HostScan.insert`); were it not, its versions would count as seen before any run.
        let runId = changed.allSatisfy { $0.sighting.runId == first.sighting.runId } ? first.sighting.runId : nil
        var opened: [String: (package: String, version: String)] = [:]
        for (sighting, prepared) in changed {
            for index in reads.moves[Table.findings.name]?[sighting.host]?.opened ?? [] {
                let update = prepared.updates[index]
                opened[update.name + "\n" + update.availableVersion] = (update.name, update.availableVersion)
            }
        }
        guard !opened.isEmpty else { return }
        let keys = opened.keys.sorted()
        var held: [String: String] = [:]
        var index = ColumnIndex()
        for chunk in HistoryStore.chunked(keys, size: 400) {
            // Joined with the versions as rows of their own: each is one search of the primary key (a row-value
            // IN scans the table on SQLite).
            try db.each("""
                SELECT f.package, f.available_version, f.first_run FROM (VALUES \(Array(repeating: "(?, ?)", count: chunk.count).joined(separator: ", "))) AS q
                JOIN finding_versions AS f ON f.package = q.column1 AND f.available_version = q.column2
                """, chunk.flatMap { [opened[$0]!.package.databaseValue, opened[$0]!.version.databaseValue] }) { whole in
                let row = index(whole)
                held[(row["package"] as String) + "\n" + (row["available_version"] as String)] = row["first_run"]
            }
        }
        var added = BatchInsert(db, into: "finding_versions", columns: ["package", "available_version", "first_run"], ignoringDuplicates: true)
        for key in keys {
            if let run = held[key] {
                if run == runId { reads.runVersions.insert(key) }
            } else {
                if runId != nil { reads.newVersions.insert(key) }
                try added.append([opened[key]!.package.databaseValue, opened[key]!.version.databaseValue, (runId ?? "").databaseValue])
            }
        }
        try added.flush()
        guard let runId, !reads.runVersions.isEmpty else { return }
        for chunk in HistoryStore.chunked(changed.map(\.sighting.host)) {
            try db.each("SELECT host FROM run_hosts WHERE run_id = ? AND host IN (\(databaseQuestionMarks(count: chunk.count)))",
                        [runId.databaseValue] + chunk.map(\.databaseValue)) { row in
                reads.rerecorded.insert(row[0])
            }
        }
    }

    /// Intervals opened before v22, which have no `identity_key`: each one's key made from its
    /// identity and stored, so the host's next changed scan reads it from the index like the others.
    /// As (id, host, key).
    static func keyed(_ db: any HistoryWriter, _ table: Table, ids: [Int64]) throws -> [(Int64, String, Int64)] {
        var found: [(Int64, String, Int64)] = []
        var index = ColumnIndex()
        for chunk in HistoryStore.chunked(ids.sorted()) {
            var keys: [(Int64, Int64)] = []
            try db.each("""
                SELECT id, host, \(table.identity.joined(separator: ", ")) FROM \(table.name) WHERE id IN (\(databaseQuestionMarks(count: chunk.count)))
                """, chunk.map(\.databaseValue)) { whole in
                let row = index(whole)
                let key = identityKey(index.positions(of: table.identity).map { whole[$0] as DatabaseValue })
                keys.append((row["id"], key))
                found.append((row["id"], row["host"], key))
            }
            guard !keys.isEmpty else { continue }
            try db.execute("""
                UPDATE \(table.name) SET identity_key = CASE id \(Array(repeating: "WHEN ? THEN CAST(? AS BIGINT)", count: keys.count).joined(separator: " ")) END
                WHERE id IN (\(databaseQuestionMarks(count: keys.count)))
                """, keys.flatMap { [$0.0.databaseValue, $0.1.databaseValue] } + keys.map(\.0.databaseValue))
        }
        return found
    }

    /// The `Table.named` values of intervals `ids`, by id.
    static func names(_ db: any HistoryWriter, _ table: Table, ids: [Int64]) throws -> [Int64: [DatabaseValue]] {
        var result: [Int64: [DatabaseValue]] = [:]
        var index = ColumnIndex()
        for chunk in HistoryStore.chunked(ids.sorted()) {
            try db.each("""
                SELECT id, \(table.named.joined(separator: ", ")) FROM \(table.name) WHERE id IN (\(databaseQuestionMarks(count: chunk.count)))
                """, chunk.map(\.databaseValue)) { whole in
                let row = index(whole)
                result[row["id"]] = index.positions(of: table.named).map { whole[$0] as DatabaseValue }
            }
        }
        return result
    }

    /// The next sequence number of each of many distinct hosts of one run, each recorded as its latest
    /// scan with the digest of what it saw (`Prepared.digest`): one upsert per 400 hosts. By host.
    /// Each row takes its number under that row's lock, so two controllers recording the same host
    /// into one PostgreSQL history never take the same number: the second waits for the first and
    /// counts on from it. The digest the row held before comes back through `prior_digest`
    /// (RETURNING gives the new row), under the same lock.
    static func nextSequences(_ db: any HistoryWriter, runId: String, hosts: [(host: String, at: Date, digest: String)]) throws -> [String: Sighting] {
        var result: [String: Sighting] = [:]
        var returned = ColumnIndex()
        for chunk in HistoryStore.chunked(hosts, size: 400) {
            var arguments: [DatabaseValue] = []
            arguments.reserveCapacity(chunk.count * 4)
            // Each time formatted once (GRDB formats a date through a DateFormatter on every conversion).
            let stored = chunk.map(\.at.databaseValue)
            for (host, at) in zip(chunk, stored) { arguments += [host.host.databaseValue, runId.databaseValue, at, host.digest.databaseValue] }
            let rows = try db.rows("""
                INSERT INTO scan_hosts (host, last_seq, last_run, last_at, open_digest) VALUES \(Array(repeating: "(?, 1, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                ON CONFLICT (host) DO UPDATE SET last_seq = scan_hosts.last_seq + 1, last_run = excluded.last_run, last_at = excluded.last_at,
                    open_digest = excluded.open_digest, prior_digest = scan_hosts.open_digest
                RETURNING host, last_seq, prior_digest
                """, arguments)
            var byHost: [String: (seq: Int64, prior: String?)] = [:]
            for whole in rows {
                let row = returned(whole)
                byHost[row["host"]] = (row["last_seq"], row["prior_digest"])
            }
            for (host, at) in zip(chunk, stored) {
                guard let taken = byHost[host.host] else { throw PatchError.store(path: db.source, message: "no sequence number for \(host.host)") }
                var sighting = Sighting(host: host.host, seq: taken.seq, runId: runId, at: host.at, stored: at)
                sighting.unchanged = taken.seq > 1 && taken.prior == host.digest
                result[host.host] = sighting
            }
        }
        return result
    }

    /// Moves a host's open intervals of `table` to this sighting as `reads` worked out (`BatchReads.Moves`):
    /// unchanged ones stay as they are (open, they already reach it), missing ones close, new ones open.
    /// `rows` are identity values in `table.identity` order (no duplicates), `keys` their `identityKey`s
    /// (those `reads` matched); `openingValues` gives
    /// the `extraColumns` of the rows that open, all at once; the new rows and the closings go to
    /// `writes`. `closeReasons` judges the closing intervals by their `Table.named` values. Returns
    /// the indexes of `rows` that opened an interval.
    @discardableResult
    static func advance(_ db: any HistoryWriter, _ table: Table, at sighting: Sighting, rows: [[DatabaseValue]], keys: [Int64], reads: BatchReads,
                        writes: inout IntervalWrites,
                        opening extraColumns: [String] = [], with openingValues: ([Int]) throws -> [[DatabaseValue]] = { $0.map { _ in [] } },
                        closeReasons: ([[DatabaseValue]]) throws -> [IntervalCloseReason]) throws -> [Int] {
        guard let moves = reads.moves[table.name]?[sighting.host] else {
            throw PatchError.store(path: db.source, message: "\(table.name) of \(sighting.host) moves, but its open intervals were not read")
        }
        let opened = moves.opened, closing = moves.closing
        if !closing.isEmpty {
            // The last scan that saw them is the host's previous one.
            let names = try closing.map { id in
                guard let named = reads.closing[table.name]?[id] else {
                    throw PatchError.store(path: db.source, message: "\(table.name) \(id) of \(sighting.host) closes, but its names were not read")
                }
                return named
            }
            for (reason, id) in zip(try closeReasons(names), closing) {
                writes.close(table, id: id, at: sighting.seq, reason: reason)
            }
        }
        guard !opened.isEmpty else { return [] }
        let values = try openingValues(opened)
        let sighted: [DatabaseValue] = [sighting.seq.databaseValue, openEnd.databaseValue, sighting.runId.databaseValue, sighting.stored]
        for (opening, extra) in zip(opened, values) {
            try writes.open(table, extraColumns, [sighting.host.databaseValue] + rows[opening] + [keys[opening].databaseValue] + sighted + extra)
        }
        return opened
    }


    /// The intervals a batch of hosts opens and closes and the CVE lists they name, written many
    /// hosts' rows to a statement when the batch ends (`flush`): a patch wave opens and closes a few
    /// intervals on each of thousands of hosts, and statements per host were round trips per host on
    /// PostgreSQL. A host's own reads (first sightings, deployments) never read another host's rows,
    /// nor whether its own intervals are closed, and a batch's hosts are distinct, so holding rows
    /// back changes nothing any host's recording sees.
    struct IntervalWrites {
        private let db: any HistoryWriter
        /// By table and the columns its rows carry after the sighting's: one statement shape each.
        private var inserts: [String: BatchInsert] = [:]
        /// Interval ids to close, by what the closing writes: hosts scanned since the same night share
        /// their sequence numbers, so a night's closings take a statement per reason and table, not per host.
        private var closings: [Closing: [Int64]] = [:]

        private struct Closing: Hashable, Comparable {
            var table: String
            var seq: Int64
            var reason: Int64

            static func < (a: Closing, b: Closing) -> Bool { (a.table, a.seq, a.reason) < (b.table, b.seq, b.reason) }
        }
        private var cves: BatchInsert
        /// Digests whose rows are written or pending: a list the batch names many times is sent once.
        private var listed = Set<String>()

        init(_ db: any HistoryWriter) {
            self.db = db
            cves = BatchInsert(db, into: "cve_lists", columns: [
                "digest", "cve", "severity", "vendor_severity", "cvss", "kev", "epss", "fixed_version", "source",
            ], ignoringDuplicates: true)
        }

        /// Closes interval `id` of `table` at the host's scan `seq`: its last sighting is the scan before.
        mutating func close(_ table: Table, id: Int64, at seq: Int64, reason: IntervalCloseReason) {
            closings[Closing(table: table.name, seq: seq, reason: reason.code), default: []].append(id)
        }

        /// One new interval of `table`: host, identity, its key, the sighting's four columns, then `extraColumns`.
        mutating func open(_ table: Table, _ extraColumns: [String], _ row: [DatabaseValue]) throws {
            let key = ([table.name] + extraColumns).joined(separator: " ")
            if inserts[key] == nil {
                inserts[key] = BatchInsert(db, into: table.name, columns: ["host"] + table.identity
                    + ["identity_key", "first_seq", "last_seq", "first_run", "first_at"] + extraColumns)
            }
            try inserts[key]!.append(row)
        }

        /// The rows of the list `digest` names, unless the batch sent them already; one the history
        /// already holds is left as it is (a digest names every field of every row).
        mutating func list(_ digest: String, _ references: [CVEReference]) throws {
            guard !digest.isEmpty, listed.insert(digest).inserted else { return }
            for reference in references {
                try cves.append([digest.databaseValue, reference.id.databaseValue, reference.severity.name.databaseValue,
                                 reference.vendorSeverity.databaseValue, reference.cvss.databaseValue, reference.kev.databaseValue,
                                 reference.epss.databaseValue, reference.fixedVersion.databaseValue, reference.source.databaseValue])
            }
        }

        mutating func flush() throws {
            for (closing, ids) in closings.sorted(by: { $0.key < $1.key }) {
                // In id order: the rows a statement touches are met in one pass down the table.
                for chunk in HistoryStore.chunked(ids.sorted()) {
                    try db.execute("""
                        UPDATE \(closing.table) SET last_seq = ?, closed_seq = ?, closed_reason = ? WHERE id IN (\(databaseQuestionMarks(count: chunk.count)))
                        """, [(closing.seq - 1).databaseValue, closing.seq.databaseValue, closing.reason.databaseValue] + chunk.map(\.databaseValue))
                }
            }
            closings = [:]
            for key in inserts.keys.sorted() { try inserts[key]!.flush() }
            try cves.flush()
        }
    }

    /// What a scan's findings and unfixed CVEs become in the store, worked out before the write
    /// transaction (a pure function of the scan, so hosts are prepared in parallel, off the writer).
    struct Prepared: Sendable {
        /// One per (package, architecture), the last listed winning, as the per-run key once made it; in store order.
        var updates: [PendingUpdate]
        /// Each update's CVEs: one per id (the last wins), in id order, the order readers list them in.
        var cveLists: [[CVEReference]]
        /// Identity values (`Table.findings.identity`) of each update.
        var rows: [[DatabaseValue]]
        /// Identity values (`Table.unfixed.identity`) of each unfixed CVE, one per (id, source), in that order.
        var unfixed: [[DatabaseValue]]
        /// `identityKey` of each of `rows` and of `unfixed`.
        var keys: [Int64]
        var unfixedKeys: [Int64]
        /// Digest of both lists: equal digests at two consecutive sightings mean nothing opens or closes.
        var digest: String

        init(_ scan: HostScan) {
            var byKey: [String: Int] = [:]
            var updates: [PendingUpdate] = []
            for update in scan.updates {
                let key = update.name + "\n" + (update.architecture ?? "")
                if let index = byKey[key] { updates[index] = update } else {
                    byKey[key] = updates.count
                    updates.append(update)
                }
            }
            // In store order, so what a version's first sighting records does not depend on the order a platform listed it.
            updates.sort { $0.name != $1.name ? $0.name < $1.name : ($0.architecture ?? "") < ($1.architecture ?? "") }
            cveLists = updates.map { Self.byID($0.cves) }
            rows = zip(updates, cveLists).map { update, cves -> [DatabaseValue] in
                [update.name.databaseValue, (update.architecture ?? "").databaseValue, update.installedVersion.databaseValue,
                 update.availableVersion.databaseValue, update.source.databaseValue, update.security.databaseValue,
                 update.severity.databaseValue, FindingIntervals.digest(cves).databaseValue]
            }
            self.updates = updates
            var unfixed: [String: UnfixedCVE] = [:]
            for item in scan.unfixedCVEs { unfixed[item.id + "\n" + item.source] = item }
            self.unfixed = unfixed.values.sorted { $0.id != $1.id ? $0.id < $1.id : $0.source < $1.source }.map { item -> [DatabaseValue] in
                [item.id.databaseValue, item.source.databaseValue, item.package.databaseValue, item.packages.joined(separator: "\n").databaseValue,
                 item.severity.name.databaseValue, item.vendorSeverity.databaseValue, item.cvss.databaseValue, item.kev.databaseValue,
                 item.fixedVersion.databaseValue, item.feed.databaseValue]
            }
            (digest, keys, unfixedKeys) = Self.digested(rows, unfixed: self.unfixed)
        }

        /// One CVE per id, the last listed winning, in id order (as a dictionary by id, sorted, made them;
        /// without one per finding: every finding of every host of a night is prepared).
        static func byID(_ cves: [CVEReference]) -> [CVEReference] {
            guard cves.count > 1 else { return cves }
            // Positions by (id, position): each id's last listed ends its run.
            let order = cves.indices.sorted { cves[$0].id != cves[$1].id ? cves[$0].id < cves[$1].id : $0 < $1 }
            var result: [CVEReference] = []
            result.reserveCapacity(cves.count)
            for (place, index) in order.enumerated() where place + 1 == order.count || cves[order[place + 1]].id != cves[index].id {
                result.append(cves[index])
            }
            return result
        }

        /// The identity keys of `table`'s rows.
        func keys(of table: Table) -> [Int64] {
            table.name == Table.unfixed.name ? unfixedKeys : keys
        }

        /// SHA-256 (first 16 bytes, hex) of every identity value, each list and value delimited:
        /// NULL is a 0 byte, a value its type's letter, its text and 0x1F; a row ends with 0x1E, a
        /// list with 0x1D. Histories keep these digests (`scan_hosts.open_digest`): the bytes must
        /// not change. They are gathered in one buffer, not an array or two per value (every host
        /// of every night is digested).
        static func digest(_ rows: [[DatabaseValue]], unfixed: [[DatabaseValue]]) -> String {
            digested(rows, unfixed: unfixed).digest
        }

        /// `digest`, and each row's `identityKey` from the same bytes: a row is made into bytes
        /// once (a night makes keys for every finding of every host).
        static func digested(_ rows: [[DatabaseValue]], unfixed: [[DatabaseValue]]) -> (digest: String, keys: [Int64], unfixedKeys: [Int64]) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity((rows.count + unfixed.count) * 160 + 2)
            var keys: [[Int64]] = [[], []]
            for (list, rows) in [rows, unfixed].enumerated() {
                keys[list].reserveCapacity(rows.count)
                for row in rows {
                    let start = bytes.count
                    append(row, to: &bytes)
                    // A row holding a whole number as a double is keyed as `identityKey` keys it: made apart.
                    keys[list].append(FindingIntervals.keyedIdentity(row) == nil ? FindingIntervals.key(of: bytes[start...]) : identityKey(row))
                }
                bytes.append(0x1D)
            }
            return (Hex.encode(SHA256.hash(data: bytes).prefix(16)), keys[0], keys[1])
        }

        /// One row's bytes, as `digest` delimits them.
        static func append(_ row: [DatabaseValue], to bytes: inout [UInt8]) {
            for value in row {
                switch value.storage {
                case .null:
                    bytes.append(0)
                    continue
                case let .int64(number):
                    bytes.append(UInt8(ascii: "i"))
                    bytes.append(contentsOf: String(number).utf8)
                case let .double(number):
                    bytes.append(UInt8(ascii: "d"))
                    bytes.append(contentsOf: "\(number)".utf8)
                case let .string(text):
                    bytes.append(UInt8(ascii: "s"))
                    bytes.append(contentsOf: text.utf8)
                case let .blob(data):
                    bytes.append(contentsOf: "b\(data.count):".utf8)
                    bytes.append(contentsOf: data)
                }
                bytes.append(0x1F)
            }
            bytes.append(0x1E)
        }
    }

    /// An interval's identity as one number (`identity_key`, migration v22): the first 8 bytes of
    /// the SHA-256 of its identity values (as `Prepared.digest` delimits a row), big-endian. Keys
    /// are only compared within one host's open intervals and latest scan, a few hundred at most:
    /// the chance that two of them share a key is about 10⁻¹⁵. A double holding a whole number
    /// counts as that integer, as GRDB's values compare (identities were compared as values before
    /// v22). Stored: the bytes must not change.
    static func identityKey(_ row: [DatabaseValue]) -> Int64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160)
        Prepared.append(keyedIdentity(row) ?? row, to: &bytes)
        return key(of: bytes[...])
    }

    /// `row` with each whole number held as a double made that integer, as its identity key is made of
    /// it; nil when it holds none (the row's own bytes are the key's).
    static func keyedIdentity(_ row: [DatabaseValue]) -> [DatabaseValue]? {
        func whole(_ value: DatabaseValue) -> Int64? {
            if case let .double(number) = value.storage { Int64(exactly: number) } else { nil }
        }
        guard row.contains(where: { whole($0) != nil }) else { return nil }
        return row.map { value in whole(value)?.databaseValue ?? value }
    }

    /// The first 8 bytes of the SHA-256 of `bytes`, big-endian.
    static func key(of bytes: ArraySlice<UInt8>) -> Int64 {
        SHA256.hash(data: bytes).prefix(8).reduce(0) { $0 << 8 | Int64($1) }
    }

    /// Records what one successful scan of a host saw. A host whose previous sighting saw the same
    /// (`Sighting.unchanged`) has nothing to open or close: its open intervals already reach this scan.
    static func record(_ db: any HistoryWriter, _ prepared: Prepared, at sighting: Sighting) throws {
        var writes = IntervalWrites(db)
        try record(db, prepared, at: sighting, reads: batchReads(db, [(sighting, prepared)]), writes: &writes)
        try writes.flush()
    }

    /// `record` for one host of a batch: what it opens and closes goes to `writes`, which the batch flushes.
    static func record(_ db: any HistoryWriter, _ prepared: Prepared, at sighting: Sighting, reads: BatchReads, writes: inout IntervalWrites) throws {
        guard !sighting.unchanged else { return }
        let updates = prepared.updates, cveLists = prepared.cveLists
        let pending = Set(updates.map { $0.name + "\n" + ($0.architecture ?? "") })
        let opened = try advance(db, .findings, at: sighting, rows: prepared.rows, keys: prepared.keys, reads: reads, writes: &writes,
                                 opening: ["version_first_run", "version_first_at", "version_first_security", "advisories"]) { indexes in
            // A new interval of a version seen before (with other attributes, or before a gap) keeps that first
            // sighting: "first seen" and compliance age survive attribute changes and the pruning of older intervals.
            // Only versions the host may have seen before are looked up (`BatchReads.versionReads`).
            let looked = indexes.filter { reads.mayHaveSeen(updates[$0].name + "\n" + updates[$0].availableVersion, on: sighting.host) }
            var first = looked.isEmpty ? [:] : try firstSightings(db, host: sighting.host, packages: Set(looked.map { updates[$0].name }))
            return indexes.map { index in
                let update = updates[index]
                let version = update.name + "\n" + update.availableVersion
                // A version first seen now is stored as NULL, the interval's own first sighting (v19); one this
                // scan lists twice (two architectures): the second takes the first's, this same sighting.
                let seen = first[version] ?? [.null, .null, update.security.databaseValue]
                first[version] = seen
                return seen + [update.advisories.joined(separator: "\n").databaseValue]
            }
        } closeReasons: { names in
            let keys = names.map { identity in
                let package = String.fromDatabaseValue(identity[0]) ?? ""
                return (package: package, superseded: pending.contains(package + "\n" + (String.fromDatabaseValue(identity[1]) ?? "")))
            }
            let gone = keys.filter { !$0.superseded }.map(\.package)
            // Which of them a deployment installed since the host's previous scan: one query for all.
            let installed = gone.isEmpty ? [] : try deployed(db, host: sighting.host, packages: Set(gone), since: sighting)
            return keys.map { .closing(.findings, superseded: $0.superseded, deployed: installed.contains($0.package)) }
        }
        // An interval's CVE list is part of its identity (cves_digest) and stored once by it (cve_lists):
        // only a new interval can name a list not stored yet. The digest is the identity's last value (`Prepared.rows`).
        for index in opened { try writes.list(prepared.rows[index].last.flatMap(String.fromDatabaseValue) ?? "", cveLists[index]) }
        let stillOpen = Set(prepared.unfixed.map { (String.fromDatabaseValue($0[0]) ?? "") + "\n" + (String.fromDatabaseValue($0[1]) ?? "") })
        try advance(db, .unfixed, at: sighting, rows: prepared.unfixed, keys: prepared.unfixedKeys, reads: reads, writes: &writes) { identities in
            identities.map { identity in
                let key = (String.fromDatabaseValue(identity[0]) ?? "") + "\n" + (String.fromDatabaseValue(identity[1]) ?? "")
                return .closing(.unfixed, superseded: stillOpen.contains(key), deployed: false)
            }
        }
    }

    /// The earliest first sighting (run, time, security) of each version of `packages` the host's
    /// intervals hold, by "package\nversion": one query (finding_intervals_by_package) for a scan's
    /// new intervals, not one per interval.
    static func firstSightings(_ db: any HistoryWriter, host: String, packages: Set<String>) throws -> [String: [DatabaseValue]] {
        var first = EarliestSightings()
        var index = ColumnIndex()
        for chunk in HistoryStore.chunked(packages.sorted()) {
            // Stepped, not copied: every interval the host ever had of these packages.
            try db.each("""
                SELECT package, available_version, \(HistoryStore.versionFirstColumns()) FROM finding_intervals
                WHERE host = ? AND package IN (\(databaseQuestionMarks(count: chunk.count)))
                """, [host.databaseValue] + chunk.map(\.databaseValue)) { whole in
                let row = index(whole)
                first.add(package: row["package"], version: row["available_version"], run: row["version_first_run"],
                          at: row["version_first_at"], security: row["version_first_security"])
            }
        }
        return first.byVersion
    }

    /// The earliest first sighting of each version among a host's intervals (`HistoryStore.versionFirstColumns`):
    /// by "package\nversion", its run, time and security flag, as a new interval of that version stores them.
    struct EarliestSightings {
        private(set) var byVersion: [String: [DatabaseValue]] = [:]
        private var runs: [String: String] = [:]

        mutating func add(package: String, version: String, run: String, at: DatabaseValue, security: DatabaseValue) {
            let key = package + "\n" + version
            if let known = runs[key], known <= run { return }
            runs[key] = run
            byVersion[key] = [run.databaseValue, at, security]
        }
    }

    /// Which of `packages` a deployment installed on `host` between the host's previous scan (the
    /// last one that saw them pending) and this one. That scan is found walking the host's contacts
    /// back from the newest (`run_hosts_by_host`): it is one of the last few (migration v21).
    static func deployed(_ db: any HistoryWriter, host: String, packages: Set<String>, since sighting: Sighting) throws -> Set<String> {
        var found = Set<String>()
        for chunk in HistoryStore.chunked(packages.sorted()) {
            for row in try db.rows("""
                SELECT DISTINCT package FROM deploy_packages WHERE host = ? AND package IN (\(databaseQuestionMarks(count: chunk.count)))
                    AND outcome = 'installed' AND at <= ? AND at >= COALESCE((SELECT started_at FROM run_hosts WHERE host = ? AND scan_seq = ? ORDER BY run_id DESC LIMIT 1), '')
                """, [host.databaseValue] + chunk.map(\.databaseValue) + [sighting.stored, host.databaseValue, (sighting.seq - 1).databaseValue]) {
                found.insert(row["package"])
            }
        }
        return found
    }

    /// The identity of a CVE list: empty for none, else a digest of every stored field (id,
    /// severity, vendor severity, CVSS, KEV, EPSS, fixed version, source; "-" for none), fields
    /// separated by 0x1F and CVEs by 0x1E. Stored as `cves_digest` and `cve_lists.digest`: the bytes
    /// must not change. Gathered in one buffer (a night digests a list for most findings of every host).
    static func digest(_ cves: [CVEReference]) -> String {
        guard !cves.isEmpty else { return "" }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(cves.count * 96)
        // Each field appended as it is made, no array of them per CVE.
        func field(_ text: String, last: Bool = false) {
            bytes.append(contentsOf: text.utf8)
            if !last { bytes.append(0x1F) }
        }
        for (index, cve) in cves.enumerated() {
            if index > 0 { bytes.append(0x1E) }
            field(cve.id)
            field(cve.severity.name)
            field(cve.vendorSeverity ?? "-")
            field(cve.cvss.map { String($0) } ?? "-")
            field(cve.kev ? "1" : "0")
            field(cve.epss.map { String($0) } ?? "-")
            field(cve.fixedVersion ?? "-")
            field(cve.source, last: true)
        }
        return Hex.encode(SHA256.hash(data: bytes).prefix(16))
    }
}
