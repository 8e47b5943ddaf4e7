import Foundation
import GRDB
import Testing
@testable import PatchCore

/// Findings stored as intervals (migration v10): every run still reads back exactly what it saw,
/// history grows with change rather than with scans, and a v9 history converts to the same answers.
@Suite("Finding intervals", .serialized)
struct FindingIntervalsTests {
    typealias G = GeneratedHistory

    /// A deterministic generator (SplitMix64), so a failure can be replayed.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// One generated night: the scan of every host (failed contacts included) and the deployments after it.
    struct Night {
        var scans: [HostScan]
        var deploys: [(host: String, installed: [PendingUpdate])]
    }

    /// Hosts whose pending updates change night by night: new ones appear (some with CVEs, some
    /// multi-arch), versions move on, CVE data changes, a deployment fixes some, others vanish,
    /// and some nights a host is unreachable.
    static func nights(_ count: Int, hosts: Int, seed: UInt64) -> [Night] {
        var random = Random(state: seed)
        let names = (1...hosts).map { "host\($0)" }
        var pending: [String: [String: PendingUpdate]] = [:]
        var unfixed: [String: [String: UnfixedCVE]] = [:]
        var result: [Night] = []
        for night in 0..<count {
            let at = G.day(Double(night))
            var scans: [HostScan] = []
            var deploys: [(String, [PendingUpdate])] = []
            for name in names {
                var updates = pending[name] ?? [:]
                for _ in 0..<Int.random(in: 0...3, using: &random) {
                    let package = "pkg\(Int.random(in: 1...40, using: &random))"
                    let arch = Bool.random(using: &random) ? "amd64" : (Int.random(in: 0...5, using: &random) == 0 ? "i386" : "all")
                    let cves = (0..<Int.random(in: 0...2, using: &random)).map { _ in
                        CVEReference(id: "CVE-2026-\(Int.random(in: 1000...1030, using: &random))",
                                     severity: [.low, .medium, .high, .critical].randomElement(using: &random)!,
                                     vendorSeverity: Bool.random(using: &random) ? "Important" : nil, cvss: Bool.random(using: &random) ? 7.5 : nil,
                                     kev: Int.random(in: 0...9, using: &random) == 0, fixedVersion: "2.\(night)", source: "debian-tracker")
                    }
                    updates[package + "/" + arch] = PendingUpdate(
                        name: package, installedVersion: "1.0", availableVersion: "2.\(night)", source: "Debian-Security:12/oldstable-security",
                        security: Int.random(in: 0...9, using: &random) < 7, architecture: arch == "all" && Bool.random(using: &random) ? nil : arch,
                        severity: Bool.random(using: &random) ? nil : "Moderate", cves: cves)
                }
                for key in updates.keys.sorted() {
                    switch Int.random(in: 0...19, using: &random) {
                    case 0: updates[key] = nil
                    case 1: updates[key]?.availableVersion += ".1"
                    case 2:
                        let toggled = (updates[key]?.cves ?? []).map { cve in
                            var copy = cve
                            copy.kev.toggle()
                            return copy
                        }
                        updates[key]?.cves = toggled
                    default: break
                    }
                }
                var open = unfixed[name] ?? [:]
                if Int.random(in: 0...3, using: &random) == 0 {
                    let cve = "CVE-2025-\(Int.random(in: 1...20, using: &random))"
                    open[cve] = UnfixedCVE(id: cve, package: "libfoo1", packages: ["libfoo1", "libfoo-dev"], source: "foo",
                                           severity: .medium, vendorSeverity: "medium", cvss: nil, kev: false, fixedVersion: nil, feed: "debian-tracker")
                }
                if let first = open.keys.sorted().first, Int.random(in: 0...4, using: &random) == 0 { open[first] = nil }
                let failed = Int.random(in: 0...9, using: &random) == 0
                var scan = G.host(name, at: at, updates.keys.sorted().map { updates[$0]! }, status: failed ? .unreachable : .ok)
                if !failed {
                    scan.unfixedCVEs = open.keys.sorted().map { open[$0]! }
                    pending[name] = updates
                    unfixed[name] = open
                    // A deployment the next day fixes a third of the security updates.
                    if Int.random(in: 0...4, using: &random) == 0 {
                        // In key order: a dictionary's own order differs between processes, and so would the draws.
                        let fixed = Dictionary(uniqueKeysWithValues: updates.keys.sorted().compactMap { key in
                            updates[key]!.security && Int.random(in: 0...2, using: &random) == 0 ? (key, updates[key]!) : nil
                        })
                        for key in fixed.keys { pending[name]?[key] = nil }
                        deploys.append((name, fixed.keys.sorted().map { fixed[$0]! }))
                    }
                }
                scans.append(scan)
            }
            result.append(Night(scans: scans, deploys: deploys))
        }
        return result
    }

    /// Records nights the way scan and deploy do, the first on day `first`; returns each night's scan run id.
    static func record(_ nights: some Collection<Night>, into history: GeneratedHistory, fromDay first: Int = 0) throws -> [String] {
        var ids: [String] = []
        for (index, night) in nights.enumerated() {
            let day = Double(first + index)
            ids.append(try history.scan(at: G.day(day), night.scans))
            for deploy in night.deploys where !deploy.installed.isEmpty {
                try history.deploy(at: G.day(day, hour: 12), policy: "security", host: deploy.host, installed: deploy.installed)
            }
        }
        return ids
    }

    /// What a stored scan reads back as, for comparison with what was recorded: updates in the
    /// store's order (package, architecture) with CVEs by id, unfixed CVEs by (id, source).
    static func normalized(_ scan: HostScan) -> HostScan {
        var copy = scan
        copy.updates = scan.updates.sorted { ($0.name, $0.architecture ?? "") < ($1.name, $1.architecture ?? "") }.map { update in
            var sorted = update
            // One CVE id per finding, the last listed winning, as the per-run key (…, cve) once made it.
            sorted.cves = Dictionary(update.cves.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last }).values.sorted { $0.id < $1.id }
            return sorted
        }
        copy.unfixedCVEs = scan.unfixedCVEs.sorted { ($0.id, $0.source) < ($1.id, $1.source) }
        copy.user = nil
        copy.via = []
        return copy
    }

    /// A new history of `kind` with `count` generated nights recorded in it.
    static func recorded(_ kind: StoreKind, nights count: Int, hosts: Int, seed: UInt64) async throws
        -> (made: TestStore, history: GeneratedHistory, nights: [Night], ids: [String]) {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let nights = Self.nights(count, hosts: hosts, seed: seed)
        return (made, history, nights, try Self.record(nights, into: history))
    }

    @Test(arguments: StoreKind.all) func everyRunReadsBackExactlyWhatItSawAndStorageGrowsWithChange(kind: StoreKind) async throws {
        // `made` keeps a PostgreSQL server alive until the end.
        let (made, history, nights, ids) = try await Self.recorded(kind, nights: 40, hosts: 6, seed: 7)
        defer { withExtendedLifetime(made) {} }
        var total = 0
        for (night, id) in zip(nights, ids) {
            let stored = try history.store.run(id: id)
            #expect(stored.hosts.count == night.scans.count)
            for scan in night.scans {
                let read = try #require(stored.hosts.first { $0.name == scan.name })
                let expected = Self.normalized(scan)
                #expect(read.updates == expected.updates, "run \(id), \(scan.name)")
                #expect(read.unfixedCVEs == expected.unfixedCVEs, "run \(id), \(scan.name)")
                #expect(read.status == scan.status)
                total += scan.updates.count
            }
        }
        let listed = try history.store.runs(limit: 200).filter { $0.kind == .scan }
        #expect(listed.count == ids.count)
        for (night, id) in zip(nights, ids) {
            let listing = try #require(listed.first { $0.runId == id })
            #expect(listing.updates == night.scans.reduce(0) { $0 + $1.updates.count })
            #expect(listing.securityUpdates == night.scans.reduce(0) { $0 + $1.updates.filter(\.security).count })
            #expect(listing.failed == night.scans.filter { $0.status != .ok }.count)
        }
        let intervals: Int = try history.store.rows("SELECT COUNT(*) AS n FROM finding_intervals").first?["n"] ?? -1
        #expect(total > 0 && intervals * 3 < total, "\(intervals) intervals for \(total) findings over 40 nights")
    }

    @Test(arguments: StoreKind.all) func aFailedContactLeavesIntervalsOpenAndClosingSaysWhy(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let openssl = G.update("openssl", "3.0.11-1", "3.0.13-1")
        let curl = G.update("curl", "7.88.1-10", "7.88.1-10+deb12u5")
        let zlib = G.update("zlib1g", "1:1.2.13", "1:1.2.13.dfsg-1")
        try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [openssl, curl, zlib])])
        try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), status: .timeout)])
        try history.deploy(at: G.day(1, hour: 12), policy: "security", host: "web1", installed: [curl])
        var newer = openssl
        newer.availableVersion = "3.0.14-1"
        let third = try history.scan(at: G.day(2), [G.host("web1", at: G.day(2), [newer])])
        let rows = try history.store.rows("SELECT package, available_version, first_seq, last_seq, closed_seq, closed_reason FROM finding_intervals ORDER BY package, id")
        // An open interval reaches every later scan (FindingIntervals.openEnd): "2-".
        let summary = rows.map { row in
            let last: Int64 = row["last_seq"]
            return "\(row["package"] as String) \(row["available_version"] as String) \(row["first_seq"] as Int)-\(last == FindingIntervals.openEnd ? "" : String(last)) "
                + ((row["closed_reason"] as IntervalCloseReason?)?.rawValue ?? "open")
        }
        // The timeout is no sighting: seq 2 is day 2's scan, and day 0's intervals reached it without a gap.
        #expect(summary == [
            "curl 7.88.1-10+deb12u5 1-1 deployed",
            "openssl 3.0.13-1 1-1 superseded",
            "openssl 3.0.14-1 2- open",
            "zlib1g 1:1.2.13.dfsg-1 1-1 fixed_elsewhere",
        ])
        #expect(try history.store.run(id: third).hosts.first?.updates.map(\.availableVersion) == ["3.0.14-1"])
    }

    /// A new interval's first sighting (read for all of a scan's new intervals at once): a version
    /// seen before keeps its earliest sighting through a change of attributes and a gap; a version a
    /// scan lists for two architectures gives the second the first's sighting (store order: amd64
    /// before i386), as one lookup per interval after each insert did.
    @Test(arguments: StoreKind.all) func newIntervalsKeepTheirVersionsFirstSighting(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        var ssl = G.update("libssl3", "3.0.11-1", "3.0.13-1", security: false)
        let first = try history.scan(at: G.day(0), [G.host("web1", at: G.day(0), [ssl])])
        ssl.source = "Debian:12/stable"
        try history.scan(at: G.day(1), [G.host("web1", at: G.day(1), [ssl])])
        try history.scan(at: G.day(2), [G.host("web1", at: G.day(2), [])])
        ssl.security = true
        var libc = G.update("libc6", "2.36-9+deb12u4", "2.36-9+deb12u9", security: true)
        var libc32 = libc
        libc32.architecture = "i386"
        libc32.security = false
        let fourth = try history.scan(at: G.day(3), [G.host("web1", at: G.day(3), [ssl, libc32, libc])])
        let rows = try history.store.rows("""
            SELECT package, architecture, source, first_run, COALESCE(version_first_run, first_run) AS version_first_run,
                   version_first_run IS NULL AS own, version_first_security FROM finding_intervals ORDER BY id
            """)
        // A version's first sighting is stored only where it is not the interval's own (v19).
        #expect(rows.map { $0["own"] as Bool } == rows.map { ($0["first_run"] as String) == ($0["version_first_run"] as String) })
        #expect(rows.map { $0["own"] as Bool } == [true, false, true, true, false])
        let summary = rows.map { row in
            let run: String = row["version_first_run"], security: Bool = row["version_first_security"]
            return "\(row["package"] as String)/\(row["architecture"] as String) \(row["source"] as String) "
                + "\(run == first ? "first" : run == fourth ? "fourth" : run) \(security)"
        }
        #expect(summary == [
            "libssl3/amd64 Debian-Security:12/oldstable-security first false",
            "libssl3/amd64 Debian:12/stable first false",
            "libc6/amd64 Debian-Security:12/oldstable-security fourth true",
            "libc6/i386 Debian-Security:12/oldstable-security fourth true",
            "libssl3/amd64 Debian:12/stable first false",
        ])
    }

    @Test(arguments: StoreKind.all) func aReportReadsOnlyItsPeriodAndJudgesAsIfItHadReadEverything(kind: StoreKind) async throws {
        let made = try await TestStore.make(kind)
        let history = G(store: made.store, folder: FileManager.default.temporaryDirectory)
        let nights = Self.nights(45, hosts: 8, seed: 3)
        _ = try Self.record(nights, into: history)
        // gone1: scanned on day 2, then failing every night from day 10 to day 30, before the period: its last
        // scan and its last contact both lie far behind the period. gone2: scanned once, on day 5.
        try history.scan(at: G.day(2, hour: 6), [G.host("gone1", at: G.day(2, hour: 6), [G.update("curl", "7.88.1-10", "7.88.1-10+deb12u8")])])
        for night in 10..<31 {
            try history.scan(at: G.day(Double(night), hour: 6), [G.host("gone1", at: G.day(Double(night), hour: 6), status: night < 20 ? .timeout : .unreachable)])
        }
        try history.scan(at: G.day(5, hour: 6), [G.host("gone2", at: G.day(5, hour: 6), [G.update("bash", "5.2.15-2", "5.2.15-2+b7")])])
        let ruleSet = try ComplianceRuleSet.find("pci-dss", directories: [])
        let asOf = G.day(44, hour: 20)
        let from = ReportDate.startOfDay(G.day(34))
        let everything = try history.store.reportHistory(upTo: asOf, detailFrom: nil)
        let period = try history.store.reportHistory(upTo: asOf, detailFrom: from)
        let loaded = { (h: ReportHistory) in h.observations.values.reduce(0) { $0 + $1.count } }
        #expect(loaded(period) * 3 < loaded(everything), "\(loaded(period)) of \(loaded(everything)) contacts read")
        let full = ComplianceEvaluator(ruleSet: ruleSet, staleDays: 7, history: everything, exceptions: [], deployPolicy: nil)
        let bounded = ComplianceEvaluator(ruleSet: ruleSet, staleDays: 7, history: period, exceptions: [], deployPolicy: nil)
        let hosts = Set(everything.observations.keys)
        #expect(Set(period.observations.keys) == hosts)
        for day in stride(from: 34.0, through: 44.0, by: 0.5) {
            for host in hosts.sorted() {
                #expect(bounded.evaluate(host: host, groups: [], at: G.day(day)) == full.evaluate(host: host, groups: [], at: G.day(day)), "\(host) day \(day)")
            }
        }
        #expect(bounded.patches(hosts: hosts, from: from, to: asOf) == full.patches(hosts: hosts, from: from, to: asOf))
    }

    /// A CVE list's identity is the first 16 bytes of SHA-256 over its fields, in hex (value computed
    /// apart, in Python); an empty list has none.
    @Test func aCVEListsDigestIsStable() {
        let cves = [
            CVEReference(id: "CVE-2026-0001", severity: .high, vendorSeverity: "Important", cvss: 7.5, kev: true, epss: nil, fixedVersion: "1.2-3", source: "debian-tracker"),
            CVEReference(id: "CVE-2026-0002", severity: .low, vendorSeverity: nil, cvss: nil, kev: false, epss: nil, fixedVersion: nil, source: "osv"),
        ]
        #expect(FindingIntervals.digest(cves) == "8a2e84ddf53b6cabd57758f91c3814cb")
        #expect(FindingIntervals.digest([]) == "")
    }

    // MARK: v9 → v10

    /// Writes nights as patchctl up to migration v9 stored them (a row per run, host and finding),
    /// with the run ids `ids` of the same nights recorded natively.
    static func writeLegacy(_ nights: [Night], ids: [String], from native: HistoryStore, to path: String) throws {
        let pool = try DatabasePool(path: path)
        try HistoryStore.migrator.migrate(pool, upTo: "v9: advisory feeds and finding CVEs")
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "ATTACH DATABASE ? AS native", arguments: [native.path])
            // Every run, and deploy runs' hosts and documents, are stored alike in both schemas.
            try db.inTransaction {
                try db.execute(sql: """
                    INSERT INTO runs (id, kind, started_at, finished_at, state, inventory, host_pattern, options, patchctl_version, policy, user, report)
                    SELECT id, kind, started_at, finished_at, state, inventory, host_pattern, options, patchctl_version, policy, user, report FROM native.runs;
                    INSERT INTO run_hosts (run_id, host, address, port, status, error, os_family, os_id, os_name, os_version, os_codename, kernel,
                                           architecture, reboot_required, reboot_packages, installed_count, started_at, finished_at)
                    SELECT run_id, host, address, port, status, error, os_family, os_id, os_name, os_version, os_codename, kernel,
                           architecture, reboot_required, reboot_packages, installed_count, started_at, finished_at
                    FROM native.run_hosts WHERE run_id IN (SELECT id FROM native.runs WHERE kind = 'deploy');
                    INSERT INTO deploy_hosts SELECT * FROM native.deploy_hosts;
                    INSERT INTO deploy_packages SELECT * FROM native.deploy_packages;
                    """)
                return .commit
            }
            try db.execute(sql: "DETACH DATABASE native")
        }
        // Scans: today's v9 insert, verbatim.
        try pool.write { db in
            for (night, runId) in zip(nights, ids) {
                for scan in night.scans {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO run_hosts (run_id, host, address, port, status, error, os_family, os_id, os_name,
                            os_version, os_codename, kernel, architecture, reboot_required, reboot_packages, installed_count,
                            started_at, finished_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [
                            runId, scan.name, scan.address, scan.port, scan.status.rawValue, scan.error,
                            scan.os?.family.rawValue, scan.os?.id, scan.os?.name, scan.os?.version, scan.os?.codename, scan.os?.kernel, scan.os?.architecture,
                            scan.rebootRequired, scan.rebootPackages.isEmpty ? nil : scan.rebootPackages.joined(separator: "\n"), scan.installedCount,
                            scan.startedAt, scan.finishedAt,
                        ])
                    for update in scan.updates {
                        try db.execute(sql: """
                            INSERT OR REPLACE INTO findings (run_id, host, package, installed_version, available_version, source, security, architecture, severity)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [runId, scan.name, update.name, update.installedVersion, update.availableVersion, update.source, update.security,
                                             update.architecture ?? "", update.severity])
                        for cve in update.cves {
                            try db.execute(sql: """
                                INSERT OR REPLACE INTO finding_cves (run_id, host, package, architecture, cve, severity, vendor_severity, cvss, kev, epss, fixed_version, source)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                """, arguments: [runId, scan.name, update.name, update.architecture ?? "", cve.id, cve.severity.name, cve.vendorSeverity, cve.cvss,
                                                 cve.kev, cve.epss, cve.fixedVersion, cve.source])
                        }
                    }
                    for cve in scan.unfixedCVEs {
                        try db.execute(sql: """
                            INSERT OR REPLACE INTO unfixed_cves (run_id, host, cve, source_package, package, packages, severity, vendor_severity, cvss, kev, fixed_version, feed)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """, arguments: [runId, scan.name, cve.id, cve.source, cve.package, cve.packages.joined(separator: "\n"), cve.severity.name,
                                             cve.vendorSeverity, cve.cvss, cve.kev, cve.fixedVersion, cve.feed])
                    }
                }
            }
        }
    }

    @Test func aV9HistoryConvertsInResumableBatchesToTheSameAnswers() throws {
        let native = try G.fresh()
        let nights = Self.nights(30, hosts: 12, seed: 42)
        let ids = try Self.record(nights, into: native)
        let path = native.folder.appendingPathComponent("legacy.db").path
        try Self.writeLegacy(nights, ids: ids, from: native.store, to: path)

        // Interrupted after two batches of three hosts: those are converted and marked, the rest not,
        // and a reading command refuses to read a half-converted history as if it were whole.
        do {
            let pool = try DatabasePool(path: path)
            try HistoryStore.migrator.migrate(pool)
            try IntervalConversion.run(pool, batchSize: 3, stopAfterBatches: 2)
            let marked = try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM interval_conversion")! }
            #expect(marked == 6)
            #expect(try pool.read { try HistoryStore.intervalConversionPending($0) })
        }
        let progress = ProgressLog()
        HistoryStore.onConversionProgress { done, total in progress.append("\(done)/\(total)") }
        defer { HistoryStore.onConversionProgress(nil) }
        let converted = try HistoryStore(readOnly: path)
        #expect(progress.lines.first == "12/12" || progress.lines.contains("12/12"), "resumed at host 7: \(progress.lines)")
        #expect(!progress.lines.contains { $0.hasPrefix("3/") }, "the first batches were not redone: \(progress.lines)")

        for id in ids {
            #expect(try converted.run(id: id) == native.store.run(id: id), "history show \(id)")
        }
        // The legacy writer (as a v9 patchctl) recorded no controller; everything else is the same.
        #expect(try converted.runs(limit: 500).allSatisfy { $0.controller == nil })
        #expect(try converted.runs(limit: 500) == native.store.runs(limit: 500).map { run in
            var legacy = run
            legacy.controller = nil
            return legacy
        })
        for day in [3.0, 11.5, 29.9] {
            let asOf = G.day(day, hour: 20)
            for kind in [ComplianceRequest.Kind.compliance, .trend] {
                let before = try ComplianceReport.build(ComplianceRequest(kind: kind, database: native.store.path, asOf: asOf, since: "30d"))
                var after = try ComplianceReport.build(ComplianceRequest(kind: kind, database: path, asOf: asOf, since: "30d"))
                // Only the database's path differs.
                after.evidence.database = before.evidence.database
                after.evidence.command = before.evidence.command
                #expect(before == after, "report \(kind) --as-of day \(day)")
            }
        }
        #expect(try converted.cveExposures() == native.store.cveExposures())
        let tables = try converted.pool.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'legacy_%' OR name = 'interval_conversion'") }
        #expect(tables.isEmpty)
    }

    // MARK: retention

    @Test func pruneDeletesWhatIsOlderKeepsTheRestExactAndReportsSayWhereDataStops() throws {
        let history = try G.fresh()
        let nights = Self.nights(40, hosts: 5, seed: 11)
        let ids = try Self.record(nights, into: history)
        let store = history.store
        let cut = G.day(20, hour: 0)
        let kept = try ids.filter { $0 >= HistoryStore.makeRunID(cut) }.map { try store.run(id: $0) }
        let asOf = G.day(39, hour: 20)
        let before = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, asOf: asOf, since: "10d"))
        // An interval open across the cut: its first sighting stays the true one.
        let spanning = try store.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT host, package, available_version, COALESCE(version_first_at, first_at) AS version_first_at FROM finding_intervals
                WHERE first_at < ? AND closed_seq IS NULL AND security ORDER BY first_at LIMIT 1
                """, arguments: [cut])
        }
        let rows = { (table: String) throws -> Int in try store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)")! } }
        let counts = try ["runs", "run_hosts", "finding_intervals", "unfixed_cve_intervals", "events"].map(rows)

        let dry = try store.prune(before: cut, dryRun: true, user: "tester", now: G.day(40))
        #expect(dry.runs > 0 && dry.hostRecords > 0 && dry.findingIntervals > 0 && dry.bytesFreed == 0)
        #expect(try ["runs", "run_hosts", "finding_intervals", "unfixed_cve_intervals", "events"].map(rows) == counts, "a dry run deletes nothing")

        let done = try store.prune(before: cut, dryRun: false, user: "tester", now: G.day(40))
        #expect(done.runs == dry.runs && done.hostRecords == dry.hostRecords && done.findingIntervals == dry.findingIntervals)
        #expect(try rows("runs") == counts[0] - done.runs + 0, "only older runs went")
        #expect(try store.pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs WHERE started_at < ?", arguments: [cut])! } == 0)
        #expect(try store.pool.read { try Int.fetchOne($0, sql: "PRAGMA freelist_count")! } == 0, "freed pages went back to the file system")
        for run in kept { #expect(try store.run(id: run.runId) == run, "history show \(run.runId) is unchanged") }
        #expect(throws: PatchError.self) { try store.run(id: ids[0]) }
        do {
            _ = try store.run(id: ids[0])
        } catch let PatchError.store(_, message) {
            #expect(message.contains("pruned"), "\(message)")
        }
        let event = try #require(try store.events(limit: 5).first)
        #expect(event.action == .historyPrune && event.user == "tester" && (event.detail ?? "").contains("\(done.runs) runs"))

        // A report within the kept period is unchanged and says nothing; one reaching before the cut says so.
        let after = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, asOf: asOf, since: "10d"))
        // The evidence lists the runs read, earlier ones included, and a host's last deployment may be one
        // of them: those went. What is pending, since when, and the judgements stay.
        #expect(after.hosts.map(\.updates) == before.hosts.map(\.updates))
        #expect(after.hosts.map(\.compliant) == before.hosts.map(\.compliant) && after.warnings == before.warnings)
        let longer = try ComplianceReport.build(ComplianceRequest(kind: .compliance, database: store.path, asOf: asOf, since: "30d"))
        #expect(longer.warnings.contains { $0.contains("pruned") && $0.contains("2026-01-21") }, "\(longer.warnings)")
        if let spanning {
            let host = try #require(longer.hosts.first { $0.name == spanning["host"] as String })
            let finding = try #require(host.updates.first { $0.package == spanning["package"] as String && $0.availableVersion == spanning["available_version"] as String })
            #expect(finding.firstSeen == spanning["version_first_at"] as Date, "first seen before the cut survives it")
        }
    }

    final class ProgressLog: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [String] = []
        func append(_ line: String) { lock.withLock { list.append(line) } }
        var lines: [String] { lock.withLock { list } }
    }
}
