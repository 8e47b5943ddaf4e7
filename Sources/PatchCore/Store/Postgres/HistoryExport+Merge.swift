import Foundation
import GRDB

/// `history export --merge`: an SQLite history added to a PostgreSQL history that already holds
/// another's (sites that ran a controller per zone, each with its own file, and now share one).
///
/// What the two histories may share is decided before a row is copied, in the export's
/// transaction, with every table locked against writers (controllers recording meanwhile wait):
/// - runs: none of the source's may be there (a history merged twice is refused);
/// - hosts: one both scanned becomes one sequence of scans (`handOver`: one history's scans of it all
///   before the other's); none retired in both, nor retired in one and scanned by the other since;
/// - integer ids (intervals, events, exceptions, deferrals, retirements, feeds, library entries)
///   move past the target's largest, and so do the columns that refer to them;
/// - the package library: an entry both hold with the same file is kept once; one with another
///   file, refused. Approvals: one both made alike is kept once; made differently, refused;
/// - advisory feeds: a target that has its own keeps them (the source's are not copied);
/// - history facts (`history_meta`): the later prune boundary is the merged history's;
/// - versions the fleet has seen (`finding_versions`): one both hold is kept once, and the target's
///   count as seen before any run.
/// Each table is then checked as on an empty target: what it held before plus what was copied
/// must read back, row for row.
extension HistoryExport {
    struct MergePlan: Sendable {
        /// Added to an identity column's values and to the columns that refer to it, by the identity's table.
        var offsets: [String: Int64] = [:]
        /// Tables the source does not add to.
        var skippedTables: Set<String> = []
        /// Rows not copied because the target holds them: by table, the values of `keyColumns` joined.
        var skippedKeys: [String: Set<String>] = [:]
        /// What each table held before the copy: the check after it adds what was copied.
        var before: [String: (count: Int, digest: RowDigest)] = [:]
        /// `history_meta` as it is to read after the merge, when the target already had some: written by key, not copied.
        var meta: [String: String]?
        /// What the merge kept of the target's or left out of the source's, for the summary.
        var notes: [String] = []
        /// Hosts both histories scanned: what changes in the source's rows of them (`handOver`).
        var source = SourceChanges()

        /// The columns a row of `skippedKeys` is known by.
        static let keyColumns = ["packages": ["name", "version", "platform", "architecture"], "approvals": ["policy", "package", "version"],
                                 "package_files": ["sha256"], "cve_lists": ["digest", "cve"], "finding_versions": ["package", "available_version"]]

        /// The key columns' text (all of them are TEXT), unit-separated; NUL for a NULL.
        static func key(_ row: Row, _ columns: [String]) -> String {
            columns.map { String.fromDatabaseValue(row[$0] as DatabaseValue) ?? "\u{0}" }.joined(separator: "\u{1F}")
        }

        /// `history_meta` keys holding a moment: the later one is the merged history's.
        static let latestWins: Set<String> = ["pruned_before", "pruned_at"]
    }

    /// Decides what the copy of `db` into `history` adds, inside the export's transaction. Refuses a
    /// target that holds runs or scanned hosts unless `merge`, and anything the two histories cannot both keep.
    static func plan(_ schema: PostgresSchema, from db: Database, into history: PostgresHistory, merge: Bool) throws -> MergePlan {
        var plan = MergePlan()
        let target = history.location.description
        func texts(_ rows: [Row]) -> Set<String> { Set(rows.map { $0[0] as String }) }
        let targetRuns = texts(try history.rows("SELECT id FROM runs", []))
        // A history that pruned all its runs still numbers its hosts' scans (scan_hosts): it holds a history too.
        let targetHosts = try history.rows("SELECT COUNT(*) AS n FROM scan_hosts", []).first?["n"] as Int64? ?? 0
        if !targetRuns.isEmpty || targetHosts > 0 {
            guard merge else {
                throw PatchError.store(path: target, message: "already holds \(targetRuns.count) runs of \(targetHosts) scanned hosts: export copies one "
                                       + "SQLite history into an empty PostgreSQL history; --merge adds it to one that holds another's")
            }
            let sourceRuns = Set(try String.fetchAll(db, sql: "SELECT id FROM runs"))
            let both = sourceRuns.intersection(targetRuns)
            guard both.isEmpty else {
                throw PatchError.store(path: target, message: "already holds \(both.count) of this history's \(sourceRuns.count) runs "
                                       + "(\(both.sorted().prefix(3).joined(separator: ", "))): it was exported or merged there before")
            }
            func named(_ hosts: Set<String>) -> String { hosts.sorted().prefix(5).joined(separator: ", ") + (hosts.count > 5 ? ", …" : "") }
            let retiredSQL = "SELECT host, retired_at FROM host_retirements WHERE ended_at IS NULL"
            var retired = (mine: [String: Date](), theirs: [String: Date]())
            for row in try Row.fetchAll(db, sql: retiredSQL) { retired.mine[row["host"]] = row["retired_at"] }
            for row in try history.rows(retiredSQL, []) { retired.theirs[row["host"]] = row["retired_at"] }
            let retiredInBoth = Set(retired.mine.keys).intersection(retired.theirs.keys)
            guard retiredInBoth.isEmpty else {
                throw PatchError.store(path: target, message: "\(retiredInBoth.count) host(s) are retired in both histories (\(named(retiredInBoth))): "
                                       + "end one of the retirements (`patchctl hosts unretire`) before merging")
            }
            // A host one history retired that the other scanned since: in one history, that scan would have ended the retirement.
            let lastScanSQL = "SELECT MAX(started_at) AS at FROM run_hosts WHERE host = ? AND scan_seq IS NOT NULL"
            let sides: [(retired: [String: Date], named: String, other: String, lastScan: (String) throws -> Row?)] = [
                (retired.mine, "this history", "the target", { try history.rows(lastScanSQL, [$0.databaseValue]).first }),
                (retired.theirs, "the target", "this history", { try Row.fetchOne(db, sql: lastScanSQL, arguments: [$0]) }),
            ]
            for side in sides {
                for (host, at) in side.retired.sorted(by: { $0.key < $1.key }) {
                    guard let scanned = try side.lastScan(host)?["at"] as Date?, scanned > at else { continue }
                    throw PatchError.store(path: target, message: "\(host) is retired in \(side.named) since \(JSONOutput.timestamp(at)) and \(side.other) "
                                           + "scanned it after that: end the retirement (`patchctl hosts unretire \(host)`) before merging")
                }
            }
            // Hosts both scanned: one sequence of scans each (`handOver`).
            let scannedSQL = "SELECT host FROM scan_hosts"
            let shared = Set(try String.fetchAll(db, sql: scannedSQL)).intersection(texts(try history.rows(scannedSQL, [])))
            try handOver(shared, from: db, into: history, plan: &plan)
        }

        // Advisory feeds: the target's own stand.
        let feedTables = Set(schema.tables.filter { $0.name == "advisory_feeds" || $0.foreignKeys.contains { $0.table == "advisory_feeds" } }.map(\.name))
        let targetFeeds = try history.rows("SELECT COUNT(*) AS n FROM advisory_feeds", []).first?["n"] as Int64? ?? 0
        let sourceFeeds = try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM advisory_feeds") ?? 0
        if targetFeeds > 0 && sourceFeeds > 0 {
            plan.skippedTables.formUnion(feedTables)
            plan.notes.append("advisory feeds: the target's \(targetFeeds) kept, this history's \(sourceFeeds) not copied")
        }

        // The library: the same entry with the same file is kept once.
        let libraryKey = MergePlan.keyColumns["packages"]!
        var targetFiles: [String: String] = [:]
        for row in try history.rows("SELECT name, version, platform, architecture, sha256 FROM packages", []) {
            targetFiles[MergePlan.key(row, libraryKey)] = row["sha256"] ?? ""
        }
        for row in try Row.fetchAll(db, sql: "SELECT name, version, platform, architecture, sha256 FROM packages") {
            let key = MergePlan.key(row, libraryKey)
            guard let held = targetFiles[key] else { continue }
            guard held == (row["sha256"] ?? "") else {
                throw PatchError.store(path: target, message: "\(row["name"] as String)@\(row["version"] as String) (\(row["platform"] as String), "
                                       + "\(row["architecture"] as String)) is in both libraries with different files: remove one before merging")
            }
            plan.skippedKeys["packages", default: []].insert(key)
        }
        if let kept = plan.skippedKeys["packages"]?.count { plan.notes.append("package library: \(kept) entr\(kept == 1 ? "y" : "ies") both held kept once, as the target decided") }
        plan.skippedKeys["package_files"] = Set(try history.rows("SELECT DISTINCT sha256 FROM package_files", []).map { MergePlan.key($0, ["sha256"]) })
        // CVE lists: a digest names every field of its list, so one both hold is the same list.
        plan.skippedKeys["cve_lists"] = Set(try history.rows("SELECT digest, cve FROM cve_lists", []).map { MergePlan.key($0, MergePlan.keyColumns["cve_lists"]!) })

        // Versions the fleet has seen: the target's rows stand for both. Each counts from now as seen before any
        // run (`first_run` ''): a run recording into the target meanwhile would otherwise count its own versions as
        // new on hosts this history brings, which may have seen them (`FindingIntervals.versionReads`).
        plan.skippedKeys["finding_versions"] = Set(try history.rows("SELECT package, available_version FROM finding_versions", [])
            .map { MergePlan.key($0, MergePlan.keyColumns["finding_versions"]!) })
        _ = try history.rows("UPDATE finding_versions SET first_run = '' WHERE first_run <> ''", [])

        // Approvals made in both: alike, kept once; otherwise refused.
        if let approvals = schema.tables.first(where: { $0.name == "approvals" }) {
            let key = MergePlan.keyColumns["approvals"]!
            var decided: [String: RowDigest] = [:]
            for row in try history.rows(approvals.selectAll, []) { decided[MergePlan.key(row, key)] = try rowDigest(row, approvals) }
            for row in try Row.fetchAll(db, sql: approvals.selectAll) {
                let known = MergePlan.key(row, key)
                guard let other = decided[known] else { continue }
                guard other == (try rowDigest(row, approvals)) else {
                    throw PatchError.store(path: target, message: "policy \(row["policy"] as String): \(row["package"] as String) \(row["version"] as String) "
                                           + "was decided differently in the two histories")
                }
                plan.skippedKeys["approvals", default: []].insert(known)
            }
        }

        // History facts: the later prune boundary; any other fact must agree.
        var meta: [String: String] = [:]
        for row in try history.rows("SELECT key, value FROM history_meta", []) { meta[row["key"]] = row["value"] }
        if !meta.isEmpty {
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM history_meta") {
                let key: String = row["key"], value: String = row["value"]
                if let held = meta[key], held != value {
                    guard MergePlan.latestWins.contains(key) else {
                        throw PatchError.store(path: target, message: "the histories disagree on \(key) ('\(held)' and '\(value)')")
                    }
                    // GRDB's date text sorts as the moments do.
                    meta[key] = max(held, value)
                } else {
                    meta[key] = value
                }
            }
            plan.meta = meta
            plan.skippedTables.insert("history_meta")
        }

        for table in schema.tables {
            if let identity = table.identity {
                let column = PostgresSchema.quoted(identity)
                plan.offsets[table.name] = try history.rows("SELECT COALESCE(MAX(\(column)), 0) AS top FROM \(PostgresSchema.quoted(table.name))", [])
                    .first?["top"] ?? 0
            }
        }
        return plan
    }

    /// A row's digest as `produce` and `digest` make it, from a GRDB row of either store (by name: a
    /// PostgreSQL row's columns come in no particular order).
    static func rowDigest(_ row: Row, _ table: PostgresSchema.Table) throws -> RowDigest {
        var hasher = RowDigest.Row()
        for column in table.columns { hasher.add(try CopyValue(row[column.name] as DatabaseValue, column: column, table: table.name)) }
        var digest = RowDigest()
        digest.add(hasher)
        return digest
    }

    /// The offset to add to each column of `table` (its identity, and columns referring to another table's).
    static func columnOffsets(_ table: PostgresSchema.Table, _ plan: MergePlan, in schema: PostgresSchema) -> [Int: Int64] {
        var result: [Int: Int64] = [:]
        for (index, column) in table.columns.enumerated() {
            if column.name == table.identity, let offset = plan.offsets[table.name], offset != 0 { result[index] = offset }
            for key in table.foreignKeys where key.columns == [column.name] {
                guard let referenced = schema.tables.first(where: { $0.name == key.table }), referenced.identity == key.referenced.first,
                      let offset = plan.offsets[key.table], offset != 0 else { continue }
                result[index] = offset
            }
        }
        return result
    }
}

extension RowDigest {
    /// Both tables' rows: the digest is a sum, so a table's rows before a merge plus the rows it added.
    static func + (a: RowDigest, b: RowDigest) -> RowDigest {
        var sum = RowDigest()
        sum.lanes = (a.lanes.0 &+ b.lanes.0, a.lanes.1 &+ b.lanes.1, a.lanes.2 &+ b.lanes.2, a.lanes.3 &+ b.lanes.3)
        return sum
    }
}
