import Foundation
import GRDB

/// What `hosts retire` did with one name.
public struct RetireOutcome: Sendable, Equatable {
    public var host: String
    /// The retirement in force afterwards: this call's, or (already retired) the earlier one.
    public var retirement: HostRetirement
    /// False when the host was already retired (nothing recorded for it).
    public var recorded: Bool
}

extension HistoryStore {
    /// Migration v12: retired hosts. A host's retirements are intervals (at most one open); an
    /// ended one stays, so reports as of an earlier moment still leave the host out then.
    static func registerRetirementMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v12: host retirements") { db in
            try db.execute(sql: """
                CREATE TABLE host_retirements (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    host TEXT NOT NULL,
                    retired_at DATETIME NOT NULL,
                    retired_by TEXT NOT NULL,
                    reason TEXT,
                    -- manual | absent (the automatic rule)
                    rule TEXT NOT NULL,
                    -- NULL while the host is retired
                    ended_at DATETIME,
                    ended_by TEXT,
                    -- unretired | reappeared (a successful scan or deployment reached it)
                    ending TEXT,
                    end_reason TEXT,
                    end_run TEXT
                );
                CREATE UNIQUE INDEX host_retirements_in_force ON host_retirements(host) WHERE ended_at IS NULL;
                CREATE INDEX host_retirements_by_host ON host_retirements(host, retired_at);
                """)
        }
    }

    /// Retires each host of `hosts` not retired already, each with its audit event, in one transaction.
    public func retire(hosts: [String], reason: String?, rule: HostRetirement.Rule = .manual, by user: String,
                       at date: Date) throws -> [RetireOutcome] {
        try recording { db in try Self.retire(db, hosts: hosts, reason: { _ in reason }, rule: rule, by: user, at: date) }
    }

    static func retire(_ db: any HistoryWriter, hosts: [String], reason: (String) -> String?, rule: HostRetirement.Rule, by user: String,
                       at date: Date) throws -> [RetireOutcome] {
        var outcomes: [RetireOutcome] = []
        for host in hosts {
            if let current = try inForce(db, host: host) {
                outcomes.append(RetireOutcome(host: host, retirement: current, recorded: false))
                continue
            }
            let why = reason(host)
            let id = try db.insertReturningID("INSERT INTO host_retirements (host, retired_at, retired_by, reason, rule) VALUES (?, ?, ?, ?, ?)",
                                              arguments: [host, date, user, why, rule])
            let record = HostRetirement(id: id, host: host, retiredAt: date, retiredBy: user, reason: why, rule: rule)
            try insert(EventRecord(at: date, user: user, action: .retire, host: host,
                                   detail: (rule == .absent ? "absent rule: " : "") + (why ?? "no reason given")), into: db)
            outcomes.append(RetireOutcome(host: host, retirement: record, recorded: true))
        }
        return outcomes
    }

    /// Ends the retirement of each of `hosts` that is retired, with its audit event; returns the
    /// ended records. Hosts not retired are left alone (the caller says so).
    public func unretire(hosts: [String], reason: String?, by user: String, at date: Date) throws -> [HostRetirement] {
        try recording { db in
            var ended: [HostRetirement] = []
            for host in hosts {
                guard var record = try Self.inForce(db, host: host) else { continue }
                try db.execute("UPDATE host_retirements SET ended_at = ?, ended_by = ?, ending = ?, end_reason = ? WHERE id = ?",
                               arguments: [date, user, HostRetirement.Ending.unretired, reason, record.id])
                try Self.insert(EventRecord(at: date, user: user, action: .unretire, host: host,
                                            detail: "retired since \(JSONOutput.timestamp(record.retiredAt))" + (reason.map { ": " + $0 } ?? "")), into: db)
                record.endedAt = date
                record.endedBy = user
                record.ending = .unretired
                record.endReason = reason
                ended.append(record)
            }
            return ended
        }
    }

    /// A successful contact (a scan that recorded the host's packages, a deployment or dry run that
    /// read them) with a retired host that began after its retirement: the host is in the fleet
    /// again, so the retirement ends (`reappeared`, an event of the run's user, or `patchctl`).
    /// Part of recording the host, in its transaction.
    static func reappeared(_ db: any HistoryWriter, host: String, runId: String, startedAt: Date, at date: Date) throws {
        guard let row = try db.rows("SELECT id, retired_at FROM host_retirements WHERE host = ? AND ended_at IS NULL", arguments: [host]).first
        else { return }
        let retiredAt: Date = row["retired_at"]
        // A contact already under way when the host was retired says nothing new about it.
        guard startedAt > retiredAt else { return }
        let run = try db.rows("SELECT kind, \"user\" FROM runs WHERE id = ?", arguments: [runId]).first
        let user: String = run?["user"] ?? "patchctl"
        let kind: String = run?["kind"] ?? "run"
        try db.execute("UPDATE host_retirements SET ended_at = ?, ended_by = ?, ending = ?, end_run = ? WHERE id = ?",
                       arguments: [date, user, HostRetirement.Ending.reappeared, runId, row["id"] as Int64])
        try insert(EventRecord(at: date, user: user, action: .reappeared, host: host, runId: runId,
                               detail: "a successful \(kind) reached it: retired since \(JSONOutput.timestamp(retiredAt)), in scope again"), into: db)
    }

    /// Which of `hosts` are retired now: one query for a batch, so that the hosts a night reaches
    /// (almost never retired) cost no statement each.
    static func retiredInForce(_ db: any HistorySQL, hosts: [String]) throws -> Set<String> {
        var found = Set<String>()
        for chunk in chunked(hosts) {
            for row in try db.rows("SELECT host FROM host_retirements WHERE ended_at IS NULL AND host IN (\(databaseQuestionMarks(count: chunk.count)))",
                                   chunk.map(\.databaseValue)) {
                found.insert(row["host"])
            }
        }
        return found
    }

    static func inForce(_ db: any HistorySQL, host: String) throws -> HostRetirement? {
        try db.rows("SELECT * FROM host_retirements WHERE host = ? AND ended_at IS NULL", arguments: [host]).first.map { try HostRetirement(row: $0) }
    }

    /// Every retirement recorded up to `date` (all when nil), oldest first, ended ones included:
    /// an ending after `date` is for `RetirementTimeline` to ignore.
    public func retirements(upTo date: Date? = nil) throws -> [HostRetirement] {
        try reading { db in
            try db.rows("SELECT * FROM host_retirements\(date == nil ? "" : " WHERE retired_at <= ?") ORDER BY retired_at, id",
                        date.map { [$0.databaseValue] } ?? []).map { try HostRetirement(row: $0) }
        }
    }

    /// The hosts retired now.
    public func retiredHosts() throws -> [String: HostRetirement] {
        try reading { db in
            let records = try db.rows("SELECT * FROM host_retirements WHERE ended_at IS NULL", []).map { try HostRetirement(row: $0) }
            return Dictionary(records.map { ($0.host, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// Every host history knows (any run recorded it, or it was retired), by name, with its last
    /// contact, last successful scan and contact, and retirement. `inventory`: names to mark
    /// `inInventory` (nil leaves it nil).
    public func knownHosts(inventory: Set<String>? = nil) throws -> [KnownHost] {
        try reading { db in try Self.knownHosts(db, inventory: inventory) }
    }

    static func knownHosts(_ db: any HistorySQL, inventory: Set<String>?) throws -> [KnownHost] {
        // The distinct hosts of run_hosts by hopping through its index (one search per host), not by
        // reading every row of history.
        var names = Set(try db.rows("""
            WITH RECURSIVE known(host) AS (
                SELECT MIN(host) FROM run_hosts
                UNION ALL
                SELECT (SELECT MIN(host) FROM run_hosts WHERE host > known.host) FROM known WHERE known.host IS NOT NULL
            )
            SELECT host FROM known WHERE host IS NOT NULL
            """, []).map { $0["host"] as String })
        names.formUnion(try db.rows("SELECT DISTINCT host FROM host_retirements", []).map { $0["host"] as String })
        // run_id starts with the run's start time: the index on (host, run_id) gives the latest first.
        let last = """
            SELECT h.run_id, h.status, h.finished_at, r.kind FROM run_hosts h JOIN runs r ON r.id = h.run_id
            WHERE h.host = ? ORDER BY h.run_id DESC LIMIT 1
            """
        let lastOK = "SELECT finished_at FROM run_hosts WHERE host = ? AND status = 'ok' ORDER BY run_id DESC LIMIT 1"
        let lastScan = """
            SELECT s.last_run, h.finished_at FROM scan_hosts s JOIN run_hosts h ON h.run_id = s.last_run AND h.host = s.host WHERE s.host = ?
            """
        let retirements = "SELECT * FROM host_retirements WHERE host = ? ORDER BY retired_at, id"
        return try names.sorted().map { name in
            var host = KnownHost(name: name, inInventory: inventory.map { $0.contains(name) })
            if let row = try db.rows(last, arguments: [name]).first {
                host.lastContact = row["finished_at"]
                host.lastContactRun = row["run_id"]
                host.lastContactKind = try row.decode(RunKind.self, forColumn: "kind")
                host.status = HostStatus(rawValue: row["status"]) ?? .error
            }
            host.lastSuccess = try db.rows(lastOK, arguments: [name]).first?["finished_at"]
            if let row = try db.rows(lastScan, arguments: [name]).first {
                host.lastScanRun = row["last_run"]
                host.lastScan = row["finished_at"]
            }
            for record in try db.rows(retirements, arguments: [name]).map({ try HostRetirement(row: $0) }) {
                if record.endedAt == nil { host.retirement = record }
                if let ended = record.endedAt { host.lastReturn = max(host.lastReturn ?? ended, ended) }
            }
            return host
        }
    }

    /// The absent rule: every host history knows that is not retired, not in `inventory` (the
    /// names of every host the fleet's inventories list) and not reached successfully for
    /// `absence` before `date` (never reached: its last contact; a host back from retirement
    /// counts from its return). Retires them in one transaction, each with `reason(host)`, unless
    /// `dryRun`. Returns the hosts as they were before.
    public func retireAbsent(inventory: Set<String>, absence: TimeInterval, reason: @escaping (KnownHost) -> String, dryRun: Bool,
                             by user: String, at date: Date) throws -> [KnownHost] {
        let cutoff = date.addingTimeInterval(-absence)
        let select = { (db: any HistorySQL) throws -> [KnownHost] in
            try Self.knownHosts(db, inventory: inventory).filter { host in
                guard !host.retired, host.inInventory == false, let since = host.absentSince else { return false }
                return since < cutoff
            }
        }
        if dryRun { return try reading(select) }
        return try recording { db in
            let absent = try select(db)
            let byName = Dictionary(absent.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            _ = try Self.retire(db, hosts: absent.map(\.name), reason: { byName[$0].map(reason) }, rule: .absent, by: user, at: date)
            return absent
        }
    }
}
