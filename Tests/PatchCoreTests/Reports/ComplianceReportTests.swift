import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// Reports computed from generated histories (`GeneratedHistory.fleet`): a patch aging past the
/// SLA, an exception expiring, a host never scanned, a host that went unreachable, time to patch
/// from a deployment and from a later scan, and the daily trend.
@Suite("Compliance reports from generated histories")
struct ComplianceReportTests {
    typealias G = GeneratedHistory

    static func host(_ report: ComplianceReport, _ name: String) throws -> ComplianceReport.HostEntry {
        try #require(report.hosts.first { $0.name == name })
    }

    @Test func fleetOnDay40() throws {
        let (history, inventory, exceptionId) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        #expect(report.hosts.map(\.name) == ["db1", "gone1", "new1", "web1", "web2"])

        // The patch that aged past PCI DSS's 30 days.
        let web1 = try Self.host(report, "web1")
        #expect(!web1.compliant)
        let openssl = try #require(web1.updates.first { $0.package == "openssl" })
        #expect(openssl.status == .overdue && openssl.rule == "critical security updates" && openssl.withinDays == 30)
        #expect(openssl.firstSeen == G.day(0).addingTimeInterval(-2), "first seen: the host's contact in the first scan that listed it")
        #expect(openssl.ageDays == 40 && openssl.daysOverdue == 11 && openssl.releasedAt == nil && openssl.severity == nil)
        #expect(openssl.dueAt == G.day(30).addingTimeInterval(-2))
        #expect(web1.updates.first { $0.package == "tzdata" }?.status == .outOfScope, "not a security update: outside every PCI rule")
        #expect(web1.missing.total == 3 && web1.missing.security == 2 && web1.missing.overdue == 2)
        #expect(web1.reasons.first?.hasPrefix("2 updates past the deadline: libssl3 3.0.17-1~deb12u2 (critical security updates, due 2026-01-31, 11 days overdue)") == true,
                "\(web1.reasons)")

        // The exception that expired on day 35.
        let db1 = try Self.host(report, "db1")
        #expect(!db1.compliant && db1.rebootRequired == true)
        let libpq = try #require(db1.updates.first)
        #expect(libpq.status == .overdue && libpq.exceptionId == exceptionId && libpq.exceptionState == .expired)
        #expect(db1.reasons.contains { $0.contains("exception #\(exceptionId) expired 2026-02-05 00:00 UTC") }, "\(db1.reasons)")
        let exception = try #require(report.exceptions.first)
        #expect(exception.state == .expired && exception.matches == 1 && exception.exception.owner == "dba")

        // Never scanned, and went unreachable.
        let new1 = try Self.host(report, "new1")
        #expect(!new1.compliant && new1.lastScan == nil && new1.reachable == nil && new1.groups == ["web"])
        #expect(new1.reasons == ["never scanned successfully: no evidence of its patch state"])
        let gone1 = try Self.host(report, "gone1")
        #expect(!gone1.compliant && gone1.stale && gone1.reachable == false)
        #expect(gone1.lastScan?.at == G.day(0) && gone1.lastContact?.status == .unreachable && gone1.lastContact?.at == G.day(38))
        #expect(gone1.reasons.first == "stale: no successful scan within 20 days (last 2026-01-01)")
        #expect(gone1.warnings == ["last contact failed on 2026-02-08 (unreachable: connect: connection refused)"])

        // Patched by a deployment: compliant, with its last deployment.
        let web2 = try Self.host(report, "web2")
        #expect(web2.compliant && web2.updates.isEmpty && web2.platform == "Debian GNU/Linux 12")
        #expect(web2.lastDeployment?.policy == "linux-security" && web2.lastDeployment?.result == .ok && web2.lastDeployment?.installed == 1)

        let s = report.summary
        #expect(s.hosts == 5 && s.compliant == 1 && s.nonCompliant == 4 && s.percentCompliant == 20.0)
        #expect(s.scanned == 4 && s.stale == 1 && s.neverScanned == 1 && s.unreachable == 1 && s.rebootRequired == 1)
        #expect(s.missing.total == 5 && s.missing.security == 4 && s.missing.inScope == 4 && s.missing.overdue == 4 && s.missing.excepted == 0)
        #expect(s.missing.bySeverity == ["critical": 0, "high": 0, "medium": 0, "low": 0, "unrated": 4, "none": 1])
        #expect(s.ageHistogram.map(\.updates) == [0, 0, 5, 0, 0])

        // First seen → installed: web2's openssl by the deployment (5 days), db1's zlib gone from the next scan (10 days).
        let ttp = s.timeToPatch
        #expect(ttp.patches.map { "\($0.host) \($0.package) \($0.via) \($0.days)" } == ["web2 openssl deploy 5.0", "db1 zlib1g scan 10.0"])
        #expect(ttp.patched == 2 && ttp.meanDays == 7.5 && ttp.securityPatched == 2 && ttp.securityMeanDays == 7.5)

        #expect(report.groups.map { "\($0.name) \($0.compliant)/\($0.hosts) \($0.percentCompliant ?? -1)" } == ["db 0/2 0.0", "web 1/3 33.3"])
        #expect(report.groups.map { "\($0.stale) \($0.neverScanned) \($0.timeToPatch.meanDays ?? -1)" } == ["1 0 10.0", "0 1 5.0"])
        #expect(report.policies.map { "\($0.name) \($0.compliant)/\($0.hosts) \($0.timeToPatch.meanDays ?? -1)" } == ["linux-security 1/1 5.0"])

        // Evidence: every run read, the ones holding the state, the period and how to reproduce it.
        let e = report.evidence
        #expect(e.runs.count == 5 && e.stateRuns.count == 3, "\(e.stateRuns)")
        #expect(e.generatedAt == G.day(40, hour: 12) && e.periodFrom == G.day(-5, hour: 12) && e.dataTo == G.day(38))
        #expect(e.command.contains("--as-of 2026-02-10T12:00:00.000Z") && e.command.contains("--stale-days 20"))
        #expect(e.notes.contains { $0.contains("apt publishes no release date") })
        #expect(e.notes.contains { $0.contains("Organisation-defined time frames") && $0.contains("other security updates") })
    }

    @Test func trendJudgesEveryDayWithTheSameRules() throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        #expect(report.trend.count == 46 && report.trend.first?.day == "2025-12-27" && report.trend.last?.day == "2026-02-10")
        let percent = Dictionary(uniqueKeysWithValues: report.trend.map { ($0.day, $0.percentCompliant) })
        // Before the first scan there is no data (not 0 %); then 4 of 5 until gone1 turns stale (day 20),
        // web1's openssl passes 30 days (day 30), db1's exception ends (day 35).
        #expect(percent["2025-12-31"] == .some(nil))
        #expect(percent["2026-01-01"] == 80.0 && percent["2026-01-20"] == 80.0)
        #expect(percent["2026-01-21"] == 60.0 && percent["2026-01-30"] == 60.0)
        #expect(percent["2026-01-31"] == 40.0 && percent["2026-02-04"] == 40.0)
        #expect(percent["2026-02-05"] == 20.0 && percent["2026-02-10"] == 20.0)
        #expect(report.trend.last?.at == G.day(40, hour: 12), "the last day is judged at --as-of")
        #expect(report.trend.last?.percentCompliant == report.summary.percentCompliant)
    }

    @Test func trendHasNoDataBeforeTheFirstScanInEveryFormat() throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(.trend, asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        // The period starts 2025-12-27; the first scan is on 2026-01-01.
        let before = report.trend.prefix { $0.day < "2026-01-01" }
        #expect(before.map(\.day) == ["2025-12-27", "2025-12-28", "2025-12-29", "2025-12-30", "2025-12-31"])
        #expect(before.allSatisfy { $0.noData && $0.compliant == nil && $0.percentCompliant == nil && $0.overdue == nil && $0.missingSecurity == nil })
        #expect(before.allSatisfy { $0.hosts == 5 && $0.scanned == 0 })
        #expect(report.trend.dropFirst(before.count).allSatisfy { !$0.noData && $0.percentCompliant != nil })

        // JSON: the key says so, the figures are null (not 0).
        JSONSchema.validate(try report.rendered(.trend, as: .json), schema: "compliance-trend")
        JSONSchema.validate(try report.rendered(.trend, as: .ndjson), schema: "compliance-trend-line", lines: true)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.rendered(.trend, as: .json).utf8)) as? [String: Any])
        let points = try #require(json["trend"] as? [[String: Any]])
        let first = try #require(points.first), firstScanned = try #require(points.first { $0["day"] as? String == "2026-01-01" })
        #expect(first["no_data"] as? Bool == true && firstScanned["no_data"] as? Bool == false)
        for key in ["compliant", "percent_compliant", "overdue", "missing_security"] {
            #expect(first.keys.contains(key) && first[key] is NSNull, "\(key)")
        }
        #expect(firstScanned["percent_compliant"] as? Double == 80.0)
        let ndjson = try report.rendered(.trend, as: .ndjson).split(separator: "\n")
        #expect(ndjson.first?.contains(#""no_data":true"#) == true && ndjson.first?.contains(#""percent_compliant":null"#) == true)

        // Table: "no data", never "0.0%".
        let table = try report.rendered(.trend, as: .table).split(separator: "\n")
        let row = try #require(table.first { $0.hasPrefix("2025-12-31") })
        #expect(row.contains("no data") && !row.contains("%"), "\(row)")

        // CSV: blank figures.
        let rows = try CSVParser.parse(report.rendered(.trend, as: .csv))
        let csv = try #require(rows.first { $0.first == "2025-12-31" })
        #expect(Array(csv[2...]) == ["5", "0", "", "", "", ""])

        // HTML chart: a gap labelled "no data", no dot at 0 for those days.
        let html = try report.rendered(.trend, as: .html)
        #expect(html.contains("data-no-data-days=\"5\">no data</text>"))
        #expect(!html.contains("data-day=\"2025-12-31\" data-percent") && html.contains("data-day=\"2026-01-01\" data-percent=\"80.0\""))
        #expect(html.contains("<tr data-day=\"2025-12-31\" data-no-data=\"true\">"))
    }

    /// Issue 13: a host only ever contacted by deployments had its skipped updates in the CSV
    /// with an empty `installed_version` (and no source).
    @Test func deployOnlyFindingsCarryTheirInstalledVersion() throws {
        let history = try G.fresh()
        let held = G.update("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2")
        let tzdata = G.update("tzdata", "2024a-0+deb12u1", "2025b-0+deb12u1", security: false, source: "Debian:12.12/oldstable")
        let run = try history.deploy(at: G.day(1), policy: "linux-security", host: "web1",
                                     installed: [G.update("libc6", "2.36-9+deb12u7", "2.36-9+deb12u10")], left: [held, tzdata])
        let report = try ComplianceReport.build(history.request(asOf: G.day(2), staleDays: 20))
        let rows = try CSVParser.parse(report.rendered(.compliance, as: .csv))
        let records = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(CSVReport.complianceColumns, $0)) }
        #expect(records.map { $0["package"] ?? "" } == ["openssl", "tzdata"])
        #expect(records.map { $0["installed_version"] ?? "" } == ["3.0.15-1~deb12u1", "2024a-0+deb12u1"])
        #expect(records.map { $0["source"] ?? "" } == ["Debian-Security:12/oldstable-security", "Debian:12.12/oldstable"])
        #expect(records.map { $0["security"] ?? "" } == ["true", "false"] && records.allSatisfy { $0["last_deploy_run"] == run })
    }

    /// Deploy records written before skipped updates carried the scan's finding still read, and
    /// still take what an earlier scan said; a bundle item skipped by a new deployment is no finding.
    @Test func skippedUpdatesOldAndNewDecode() throws {
        let old = #"{"name":"openssl","version":"3.0.17-1~deb12u2","reason":"held by policy","awaiting_approval":false}"#
        let legacy = try JSONDecoder().decode(SkippedUpdate.self, from: Data(old.utf8))
        #expect(legacy.recordedWithoutFinding && legacy.installedVersion == nil)
        let new = SkippedUpdate(G.update("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2"), reason: "held by policy")
        let json = try JSONOutput.encode(new, pretty: false)
        #expect(json.contains(#""installed_version":"3.0.15-1~deb12u1""#) && json.contains(#""security":true"#) && json.contains(#""severity":null"#))
        let back = try JSONDecoder().decode(SkippedUpdate.self, from: Data(json.utf8))
        #expect(back == new && !back.recordedWithoutFinding)
        let bundle = try JSONDecoder().decode(SkippedUpdate.self, from: Data(try JSONOutput.encode(
            SkippedUpdate(name: "htop", version: "3.2.2-2", reason: "already installed"), pretty: false).utf8))
        #expect(!bundle.recordedWithoutFinding && bundle.installedVersion == nil)

        var document = DeployHostRecord(host: Host(name: "web1"), status: .ok, ring: "all", batch: 1, startedAt: G.day(1), finishedAt: G.day(1))
        document.os = G.debian
        document.rebootRequired = false
        document.skipped = [legacy, bundle]
        var observation = ReportHistory.Observation(runId: "r", kind: .deploy, policy: "p", startedAt: G.day(1), at: G.day(1), status: .ok, seen: [])
        let earlier = ReportHistory.Update(package: "openssl", installedVersion: "3.0.15-1~deb12u1", availableVersion: "3.0.17-1~deb12u2",
                                           source: "Debian-Security:12/oldstable-security", security: true)
        HistoryStore.apply(document, to: &observation, earlier: ["openssl@3.0.17-1~deb12u2": earlier], firstSeen: [:])
        #expect(observation.pending == [earlier], "the old record takes the earlier scan's finding; the bundle item is none")
    }

    /// A deployment's skipped update records the CVEs its own scan matched: a report with no
    /// earlier scan to ask still sees them (and a known exploited one), as for planned updates.
    @Test func skippedUpdatesCarryTheirOwnCVEs() throws {
        var update = G.update("openssl", "3.0.15-1~deb12u1", "3.0.17-1~deb12u2")
        update.cves = [CVEReference(id: "CVE-2025-9230", severity: .high, kev: false, source: "debian-tracker"),
                       CVEReference(id: "CVE-2024-5535", severity: .critical, kev: true, source: "debian-tracker")]
        let skipped = SkippedUpdate(update, reason: "held by policy")
        #expect(skipped.cves == ["CVE-2024-5535", "CVE-2025-9230"] && skipped.kev == true)
        let json = try JSONOutput.encode(skipped, pretty: false)
        #expect(json.contains(#""cves":["CVE-2024-5535","CVE-2025-9230"]"#) && json.contains(#""kev":true"#))
        #expect(try JSONDecoder().decode(SkippedUpdate.self, from: Data(json.utf8)) == skipped)

        var document = DeployHostRecord(host: Host(name: "web1"), status: .ok, ring: "all", batch: 1, startedAt: G.day(1), finishedAt: G.day(1))
        document.os = G.debian
        document.rebootRequired = false
        document.skipped = [skipped]
        var observation = ReportHistory.Observation(runId: "r", kind: .deploy, policy: "p", startedAt: G.day(1), at: G.day(1), status: .ok, seen: [])
        HistoryStore.apply(document, to: &observation, earlier: [:], firstSeen: [:])
        let pending = try #require(observation.pending?.first)
        #expect(pending.cves == ["CVE-2024-5535", "CVE-2025-9230"] && pending.kev, "\(pending)")
    }

    @Test func activeExceptionExcusesAnOverdueUpdate() throws {
        let (history, inventory, exceptionId) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(32, hour: 12), inventory: inventory, staleDays: 20))
        let db1 = try Self.host(report, "db1")
        #expect(db1.compliant, "\(db1.reasons)")
        #expect(db1.updates.first?.status == .excepted && db1.updates.first?.exceptionState == .active && db1.missing.excepted == 1)
        #expect(db1.reasons.first == "no update past the deadline (0 in scope and within it, 1 past it under an active exception); last scan 2026-01-21")
        #expect(report.exceptions.first?.state == .active && report.exceptions.first?.exception.id == exceptionId)
        #expect(report.summary.missing.excepted == 1)
        JSONSchema.validate(try report.rendered(.compliance, as: .json), schema: "compliance-report")
    }

    @Test func aShortPeriodReadsLessButJudgesHostsTheSame() throws {
        let (history, inventory, _) = try G.fleet()
        let long = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, since: "45d", staleDays: 20))
        // From day 35 on only: first sightings, gone1's day-0 scan and web2's day-5 deployment still count.
        let short = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, since: "5d", staleDays: 20))
        #expect(short.hosts == long.hosts)
        #expect(short.summary.missing == long.summary.missing && short.summary.percentCompliant == long.summary.percentCompliant)
        #expect(short.summary.timeToPatch.patched == 0 && short.trend.count == 6)
        let diff = try FindingsDiff.build(store: history.store, since: "last")
        #expect(diff.hosts.map(\.change) == [.unchanged, .failed, .unchanged, .unchanged])
    }

    /// History is read and judged in batches of hosts (ranges of names in the database's order),
    /// the next batch read while one is judged. Whatever the batch, every report is the same, byte
    /// for byte: with an inventory (a host it names that history never saw, `new1`) and without,
    /// with a limit, a policy, a short period, an earlier moment and a host retired in the period.
    @Test(arguments: [1, 2, 3])
    func batchesOfHostsGiveTheSameReport(batch: Int) throws {
        let (history, inventory, _) = try G.fleet()
        let policy = history.folder.appendingPathComponent("linux-security.yml").path
        try "name: linux-security\ntargets: web\nselect: security\n".write(toFile: policy, atomically: true, encoding: .utf8)
        var limited = history.request(asOf: G.day(40, hour: 12), staleDays: 20)
        limited.limit = "web*:!web2"
        var requests = [
            history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20),
            history.request(asOf: G.day(40, hour: 12), staleDays: 20),
            limited,
            history.request(asOf: G.day(40, hour: 12), inventory: inventory, policy: policy, staleDays: 20),
            history.request(asOf: G.day(40, hour: 12), policy: policy, staleDays: 20),
            history.request(asOf: G.day(40, hour: 12), inventory: inventory, since: "5d", staleDays: 20),
            history.request(asOf: G.day(3), inventory: inventory, since: "3d"),
        ]
        // The scanned hosts do split: one range per `batch` of them.
        let scanned = try history.store.rows("SELECT COUNT(*) AS n FROM scan_hosts").first?["n"] as Int? ?? 0
        let ranges = try history.store.hostRanges(batch: batch).count
        #expect(scanned == 4 && ranges == (scanned + batch - 1) / batch)
        func compare() throws {
            for request in requests {
                var batched = request
                batched.hostBatch = batch
                let whole = try ComplianceReport.build(request), parts = try ComplianceReport.build(batched)
                #expect(!parts.hosts.isEmpty)
                for kind in [ComplianceRequest.Kind.compliance, .hosts, .trend] {
                    #expect(try parts.rendered(kind, as: .json) == whole.rendered(kind, as: .json), "\(kind) \(request.commandLine)")
                }
            }
        }
        try compare()
        _ = try history.store.retire(hosts: ["gone1"], reason: "decommissioned", by: "ops", at: G.day(25))
        requests.append(history.request(asOf: G.day(38), inventory: inventory))
        try compare()
    }

    @Test func vendorSeverityPicksTheRule() throws {
        let history = try G.fresh()
        let rhel = OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.6")
        var glibc = G.update("glibc", "2.34-100.el9", "2.34-168.el9_6.14", source: "RLSA-2025:0001")
        glibc.severity = "Critical"
        var kernel = G.update("kernel", "5.14.0-503.el9", "5.14.0-570.el9", source: "RLSA-2025:0002")
        kernel.severity = "Important"
        try history.deploy(at: G.day(0), policy: "rhel-security", host: "rh1", installed: [], notInstalled: [glibc, kernel], status: .deferred, os: rhel)
        let report = try ComplianceReport.build(history.request(asOf: G.day(40), staleDays: 60))
        let rh1 = try Self.host(report, "rh1")
        #expect(rh1.platform == "Rocky Linux 9.6" && rh1.lastDeployment?.result == .deferred)
        let byName = Dictionary(uniqueKeysWithValues: rh1.updates.map { ($0.package, $0) })
        // PCI DSS 6.3.3: critical within 30 days; "Important" falls to the organisation's 90.
        #expect(byName["glibc"]?.rule == "critical security updates" && byName["glibc"]?.status == .overdue)
        #expect(byName["kernel"]?.rule == "other security updates" && byName["kernel"]?.status == .withinDeadline)
        #expect(rh1.missing.bySeverity["critical"] == 1 && rh1.missing.bySeverity["high"] == 1 && rh1.missing.bySeverity["unrated"] == 0)
        #expect(!report.evidence.notes.contains { $0.contains("History holds no vendor severity") })
    }

    @Test func asOfIgnoresEverythingRecordedLater() throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(3), inventory: inventory, since: "3d"))
        let web2 = try Self.host(report, "web2")
        #expect(web2.updates.map(\.package) == ["openssl"] && web2.lastDeployment == nil, "the day-5 deployment had not happened yet")
        #expect(report.summary.compliant == 4 && report.summary.percentCompliant == 80.0 && report.exceptions.isEmpty)
        #expect(report.evidence.runs.count == 1 && report.evidence.dataTo == G.day(0))
        #expect(report.summary.timeToPatch.patched == 0 && report.summary.timeToPatch.meanDays == nil)
    }

    @Test func withoutAnInventoryTheHostsAreHistorysAndLimitStillWorks() throws {
        let (history, _, _) = try G.fleet()
        var request = history.request(asOf: G.day(40, hour: 12), staleDays: 20)
        #expect(try ComplianceReport.build(request).hosts.map(\.name) == ["db1", "gone1", "web1", "web2"])
        request.limit = "web*:!web2"
        let report = try ComplianceReport.build(request)
        #expect(report.hosts.map(\.name) == ["web1"] && report.groups.isEmpty)
        #expect(report.evidence.notes.contains { $0.contains("No inventory given") })
        request.limit = "nosuchhost"
        #expect(throws: PatchError.self) { try ComplianceReport.build(request) }
    }

    @Test func policyScopesHostsAndTimeToPatch() throws {
        let (history, inventory, _) = try G.fleet()
        let policy = history.folder.appendingPathComponent("linux-security.yml").path
        try "name: linux-security\ntargets: web\nselect: security\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let report = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, policy: policy, staleDays: 20))
        #expect(report.hosts.map(\.name) == ["new1", "web1", "web2"])
        #expect(report.policies.map(\.name) == ["linux-security"] && report.evidence.policy == "linux-security")
        #expect(report.summary.timeToPatch.patches.map(\.package) == ["openssl"])
        JSONSchema.validate(try report.rendered(.compliance, as: .json), schema: "compliance-report")
    }

    /// A multi-arch RHEL host: glibc for x86_64 is patched between two scans, glibc for i686 is
    /// still pending. The patched one counts, once; the pending one is not mistaken for it.
    @Test func multiArchPatchesAreTimedPerArchitecture() throws {
        let history = try G.fresh()
        func glibc(_ arch: String) -> PendingUpdate {
            PendingUpdate(name: "glibc", installedVersion: "2.34-60.el9", availableVersion: "2.34-83.el9", source: "baseos",
                          security: true, architecture: arch)
        }
        try history.scan(at: G.day(10), [G.host("rhel1", at: G.day(10), [glibc("i686"), glibc("x86_64")])])
        try history.scan(at: G.day(14), [G.host("rhel1", at: G.day(14), [glibc("i686")])])
        let report = try ComplianceReport.build(history.request(asOf: G.day(20), staleDays: 30))
        let patches = report.summary.timeToPatch.patches
        #expect(patches.count == 1, "\(patches)")
        #expect(patches.first.map { "\($0.package) \($0.version) \($0.days)" } == "glibc 2.34-83.el9 4.0")
    }

    @Test func sameDatabaseAndRequestGiveTheSameBytes() throws {
        let (history, inventory, _) = try G.fleet()
        let request = history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20)
        let first = try ComplianceReport.build(request)
        let second = try ComplianceReport.build(request)
        for kind in [ComplianceRequest.Kind.compliance, .hosts, .trend] {
            for format in ReportFormat.allCases {
                #expect(try first.rendered(kind, as: format) == second.rendered(kind, as: format), "\(kind) \(format)")
            }
        }
        #expect(try first.rendered(.compliance, as: .html).contains("2026-02-10T12:00:00.000Z"))
    }

    @Test func hipaaAndSoxSayTheirDeadlinesAreTheOrganisations() throws {
        let (history, inventory, _) = try G.fleet()
        let hipaa = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, standard: "hipaa", staleDays: 20))
        #expect(hipaa.standard.rules.allSatisfy { $0.definedBy == .organisation })
        #expect(hipaa.evidence.notes.contains { $0.contains("HIPAA Security Rule sets no number") })
        let sox = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, standard: "sox", staleDays: 20))
        // SOX's default covers every update within 90 days: tzdata (day 0) is in scope but not late.
        let tzdata = try #require(try Self.host(sox, "web1").updates.first { $0.package == "tzdata" })
        #expect(tzdata.rule == "other updates" && tzdata.status == .withinDeadline && tzdata.withinDays == 90)
        #expect(TableReport.compliance(sox).contains("[organisation-defined]"))
        #expect(HTMLReport.compliance(sox).contains("organisation-defined</span> (SOX IT general controls sets no number)"))
    }

    @Test func csvAndJSONCarryTheSameNumbers() throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        JSONSchema.validate(try report.rendered(.compliance, as: .json), schema: "compliance-report")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.rendered(.compliance, as: .json).utf8)) as? [String: Any])
        let csv = try report.rendered(.compliance, as: .csv)
        #expect(csv.hasSuffix("\r\n") && !csv.replacingOccurrences(of: "\r\n", with: "").contains("\r\n"))
        let rows = try CSVParser.parse(csv)
        #expect(rows.first == CSVReport.complianceColumns, "header: the documented columns in order")
        let table = rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(CSVReport.complianceColumns, $0)) }
        #expect(rows.dropFirst().allSatisfy { $0.count == CSVReport.complianceColumns.count })

        let hosts = try #require(json["hosts"] as? [[String: Any]])
        for host in hosts {
            let name = try #require(host["name"] as? String)
            let mine = table.filter { $0["host"] == name }
            let updates = try #require(host["updates"] as? [[String: Any]])
            #expect(mine.count == max(1, updates.count), "\(name): one row per finding, one for a host without")
            #expect(mine.allSatisfy { $0["compliant"] == String(host["compliant"] as? Bool ?? false) })
            for update in updates {
                let row = try #require(mine.first { $0["package"] == update["package"] as? String })
                for key in ["installed_version", "available_version", "source", "first_seen", "due_at", "status", "rule", "first_seen_run"] {
                    #expect(row[key] == (update[key] as? String ?? ""), "\(name) \(key)")
                }
                for key in ["age_days", "within_days", "days_overdue", "exception_id"] {
                    #expect(row[key] == (update[key] as? Int).map(String.init) ?? "", "\(name) \(key)")
                }
            }
        }
        // Fleet figures recomputed from the CSV alone.
        let summary = try #require(json["summary"] as? [String: Any])
        let byHost = Dictionary(grouping: table, by: { $0["host"] ?? "" })
        let compliant = byHost.values.filter { $0.first?["compliant"] == "true" }.count
        #expect(byHost.count == summary["hosts"] as? Int && compliant == summary["compliant"] as? Int)
        #expect(ComplianceReport.percent(compliant, of: byHost.count) == summary["percent_compliant"] as? Double)
        let missing = try #require(summary["missing"] as? [String: Any])
        #expect(table.filter { $0["status"] == "overdue" }.count == missing["overdue"] as? Int)
        #expect(table.filter { $0["security"] == "true" }.count == missing["security"] as? Int)
        #expect(table.filter { !($0["package"] ?? "").isEmpty }.count == missing["total"] as? Int)
        // RFC 4180 quoting survived: the source with a comma and quotes, the reasons with commas.
        #expect(table.contains { $0["source"] == "Vendor \"PGDG\", security" })
        #expect(csv.contains("\"Vendor \"\"PGDG\"\", security\""))
    }

    @Test func trendCSVMatchesTheTrendJSON() throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(.trend, asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        let rows = try CSVParser.parse(report.rendered(.trend, as: .csv))
        #expect(rows.first == CSVReport.trendColumns)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.rendered(.trend, as: .json).utf8)) as? [String: Any])
        let points = try #require(json["trend"] as? [[String: Any]])
        #expect(rows.count - 1 == points.count)
        for (row, point) in zip(rows.dropFirst(), points) {
            #expect(row[0] == point["day"] as? String && row[4] == ((point["compliant"] as? Int).map(String.init) ?? ""))
            #expect(Double(row[5]) == point["percent_compliant"] as? Double)
        }
    }

    @Test func everyJSONKeyIsPresentEvenWhenNull() throws {
        let (history, inventory, _) = try G.fleet()
        let report = try ComplianceReport.build(history.request(asOf: G.day(40, hour: 12), inventory: inventory, staleDays: 20))
        let json = try report.rendered(.hosts, as: .json)
        JSONSchema.validate(json, schema: "compliance-hosts")
        JSONSchema.validate(try report.rendered(.compliance, as: .ndjson), schema: "compliance-host-line", lines: true)
        let hosts = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
        let new1 = try #require(hosts.first { $0["name"] as? String == "new1" })
        for key in ["last_scan", "last_contact", "reachable", "platform", "os_family", "reboot_required", "last_deployment"] {
            #expect(new1.keys.contains(key) && new1[key] is NSNull, "\(key)")
        }
        let ndjson = try report.rendered(.hosts, as: .ndjson).split(separator: "\n")
        #expect(ndjson.count == 5)
    }

    @Test func reportsNeverCreateADatabase() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-none-\(UUID().uuidString).db").path
        let request = ComplianceRequest(kind: .compliance, database: path, asOf: G.day(1))
        #expect { try ComplianceReport.build(request) } throws: { error in
            guard case let .store(location, message)? = error as? PatchError else { return false }
            return location == path && message.contains("patchctl scan")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}

/// RFC 4180 reading, to check what `CSVReport` writes: quoted fields, doubled quotes, CRLF.
enum CSVParser {
    struct Malformed: Error {}

    static func parse(_ text: String) throws -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var scalars = Array(text.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if quoted {
                if c == "\"" {
                    if scalars.first == "\"" {
                        scalars.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                guard field.isEmpty else { throw Malformed() }
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\r" {
                guard scalars.popFirst() == "\n" else { throw Malformed() }
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                guard c != "\n" else { throw Malformed() }
                field.unicodeScalars.append(c)
            }
        }
        guard !quoted, row.isEmpty, field.isEmpty else { throw Malformed() }
        return rows
    }
}
