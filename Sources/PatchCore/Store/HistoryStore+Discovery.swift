import Foundation
import GRDB
import PatchSSH

/// What a discover run records in `runs.options`: enough to know later which addresses it swept.
struct DiscoverySweep: Codable {
    var targets: [String]
    var ports: [Int]
}

extension HistoryStore {
    /// Migration v13: discover runs. Each found address keeps its whole document; its host keys are
    /// also rows of their own, indexed by address, so "which key did this address have before" is
    /// an index lookup however long the history.
    static func registerDiscoveryMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v13: discovered hosts") { db in
            try db.execute(sql: """
                CREATE TABLE discovered_hosts (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    address TEXT NOT NULL,
                    name TEXT,
                    -- DiscoveredHost as JSON (StoreCodec)
                    document TEXT NOT NULL,
                    PRIMARY KEY (run_id, address)
                );
                CREATE INDEX discovered_hosts_by_address ON discovered_hosts(address, run_id);
                CREATE TABLE discovered_keys (
                    run_id TEXT NOT NULL,
                    address TEXT NOT NULL,
                    port INTEGER NOT NULL,
                    key_type TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    key TEXT NOT NULL,
                    seen_at DATETIME NOT NULL,
                    PRIMARY KEY (run_id, address, port, key_type),
                    FOREIGN KEY (run_id, address) REFERENCES discovered_hosts(run_id, address) ON DELETE CASCADE
                );
                CREATE INDEX discovered_keys_by_address ON discovered_keys(address, port, key_type, seen_at);
                """)
        }
    }

    /// Stores a finished sweep and returns what changed since earlier discover runs: addresses
    /// never found before, addresses the last run that swept them found and this one did not, and
    /// host keys that differ from the last ones recorded for the same address, port and type.
    /// Ends the run in the same transaction (`state`, its counts): the run as recorded is returned,
    /// with its changes and each host's `seenBefore`.
    public func recordDiscovery(runId: String, _ run: DiscoveryRun, swept: DiscoveryTargets, state: RunState = .finished) throws -> DiscoveryRun {
        try recording { db in
            var changes = DiscoveryChanges()
            let earlier = try db.rows("""
                SELECT id, options FROM runs WHERE kind = 'discover' AND id != ? AND state != 'running' AND started_at <= ?
                ORDER BY started_at DESC, id DESC LIMIT 100
                """, arguments: [runId, run.startedAt])
            changes.previousRun = earlier.first?["id"]
            let found = Set(run.hosts.map(\.address))
            // Gone: found by the newest earlier run that swept the address. A newer run that swept it
            // and did not find it has said so already.
            var newerSweeps: [DiscoveryTargets] = []
            var decided = Set<String>()
            for row in earlier {
                let id: String = row["id"]
                let sweep = (row["options"] as String?).flatMap { try? StoreCodec.decode(DiscoverySweep.self, from: $0) }
                let targets = sweep.flatMap { try? DiscoveryTargets.parse($0.targets, allowWidePublic: true, fileReader: { _ in nil }) }
                for address in try db.rows("SELECT address FROM discovered_hosts WHERE run_id = ?", arguments: [id]).map({ $0["address"] as String }) {
                    guard swept.contains(address), !decided.contains(address), !newerSweeps.contains(where: { $0.contains(address) }) else { continue }
                    decided.insert(address)
                    if !found.contains(address) { changes.gone.append(address) }
                }
                if let targets { newerSweeps.append(targets) }
            }
            for host in run.hosts {
                let seen: Bool = try db.rows("SELECT EXISTS (SELECT 1 FROM discovered_hosts WHERE address = ? AND run_id != ?) AS seen",
                                             arguments: [host.address, runId]).first?["seen"] ?? false
                if !seen { changes.new.append(host.address) }
                for (port, key) in host.allKeys {
                    guard let previous = try db.rows("""
                        SELECT fingerprint, run_id, seen_at FROM discovered_keys
                        WHERE address = ? AND port = ? AND key_type = ? AND run_id != ? ORDER BY seen_at DESC LIMIT 1
                        """, arguments: [host.address, port, key.type, runId]).first else { continue }
                    let fingerprint: String = previous["fingerprint"]
                    if fingerprint != key.fingerprint {
                        changes.changedKeys.append(HostKeyChange(address: host.address, port: port, type: key.type, previousFingerprint: fingerprint,
                                                                 fingerprint: key.fingerprint, previousRun: previous["run_id"], previousSeenAt: previous["seen_at"]))
                    }
                }
            }
            var stored = run
            stored.changes = changes
            var recorded = run
            recorded.changes = changes
            for index in recorded.hosts.indices {
                recorded.hosts[index].seenBefore = !changes.new.contains(recorded.hosts[index].address)
                let host = recorded.hosts[index]
                try db.execute("INSERT INTO discovered_hosts (run_id, address, name, document) VALUES (?, ?, ?, ?)",
                               arguments: [runId, host.address, host.name, try StoreCodec.encode(host)])
                for (port, key) in host.allKeys {
                    try db.execute("""
                        INSERT INTO discovered_keys (run_id, address, port, key_type, fingerprint, key, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT DO NOTHING
                        """, arguments: [runId, host.address, port, key.type, key.fingerprint, key.key, run.finishedAt])
                }
            }
            // `history` counts a discover run's hosts from here (they are not scan hosts, so not
            // finishRun's run_hosts count).
            try db.execute("""
                UPDATE runs SET options = ?, report = ?, finished_at = ?, state = ?,
                    host_count = ?, ok_count = ?, failed_count = 0, updates_count = 0, security_count = 0
                WHERE id = ?
                """, arguments: [try StoreCodec.encode(DiscoverySweep(targets: run.targets, ports: run.ports)), try StoreCodec.encode(changes),
                                 run.finishedAt, state.rawValue, recorded.hosts.count, recorded.hosts.count, runId])
            return recorded
        }
    }

    /// A recorded discover run, as it was printed (`history show`).
    public func discoveryRun(id: String) throws -> DiscoveryRun {
        try withView { try $0.discoveryRun(id: id) }
    }

    /// Addresses the newest discover run that swept them found, with that run (for `report hosts`
    /// and the compliance report's unmanaged hosts).
    public func latestDiscoveredHosts() throws -> [DiscoveredHost] {
        try reading { db in
            guard let latest: String = try db.rows("""
                SELECT id FROM runs WHERE kind = 'discover' AND state != 'running' ORDER BY started_at DESC, id DESC LIMIT 1
                """, []).first?["id"] else { return [] }
            return try db.rows("SELECT document FROM discovered_hosts WHERE run_id = ?", arguments: [latest])
                .map { try StoreCodec.decode(DiscoveredHost.self, from: $0["document"] as String) }
                .sorted { DiscoveryRunner.addressOrder($0.address, $1.address) }
        }
    }

    /// The newest finished discover run started at or before `moment`, with its hosts (reports).
    public func latestDiscovery(upTo moment: Date) throws -> (runId: String, at: Date, hosts: [DiscoveredHost])? {
        try reading { db in
            guard let row = try db.rows("""
                SELECT id, started_at FROM runs WHERE kind = 'discover' AND state != 'running' AND started_at <= ?
                ORDER BY started_at DESC, id DESC LIMIT 1
                """, arguments: [moment]).first else { return nil }
            let runId: String = row["id"]
            let hosts = try db.rows("SELECT document FROM discovered_hosts WHERE run_id = ?", arguments: [runId])
                .map { try StoreCodec.decode(DiscoveredHost.self, from: $0["document"] as String) }
                .sorted { DiscoveryRunner.addressOrder($0.address, $1.address) }
            return (runId, row["started_at"], hosts)
        }
    }

    /// Each scanned host's name and the address of its last scan.
    public func lastScannedAddresses() throws -> [(name: String, address: String)] {
        try reading { db in
            try db.rows("SELECT s.host, h.address FROM scan_hosts s JOIN run_hosts h ON h.run_id = s.last_run AND h.host = s.host", [])
                .map { ($0["host"], $0["address"]) }
        }
    }
}
