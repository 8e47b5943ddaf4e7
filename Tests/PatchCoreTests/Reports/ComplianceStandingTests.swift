import Foundation
import Testing
@testable import PatchCore

/// The trend's shortcut (`ComplianceEvaluator.standings`: each scan's deadlines worked out once)
/// against the full judgement (`evaluate`) on every day of generated histories: failed contacts,
/// deployments, versions superseded, vendor severities, exceptions created, expiring and removed.
@Suite("Trend standings judge as the full evaluation does")
struct ComplianceStandingTests {
    typealias G = GeneratedHistory

    /// A random fleet of six hosts over 60 nights (seeded, so a failure can be replayed).
    static func randomHistory(seed: UInt64) throws -> GeneratedHistory {
        var random = FindingIntervalsTests.Random(state: seed)
        let history = try G.fresh()
        let packages = ["openssl", "libssl3", "curl", "tzdata", "zlib1g", "sudo", "bash", "libc6"]
        let severities: [String?] = [nil, nil, "Critical", "Important", "Moderate", "Low"]
        let hosts = (1...6).map { "host\($0)" }
        // Per host: package → (installed, available generation, security, severity).
        var pending: [String: [String: (generation: Int, security: Bool, severity: String?)]] = [:]
        for night in 0..<60 {
            var scans: [HostScan] = []
            for host in hosts {
                var current = pending[host] ?? [:]
                for package in packages {
                    let roll = Int.random(in: 0..<100, using: &random)
                    if let found = current[package] {
                        if roll < 3 { current[package] = nil }  // installed outside patchctl
                        else if roll < 4 { current[package] = (found.generation + 1, found.security, found.severity) }  // superseded
                    } else if roll < 6 {
                        current[package] = (night, Bool.random(using: &random), severities.randomElement(using: &random) ?? nil)
                    }
                }
                pending[host] = current
                if Int.random(in: 0..<100, using: &random) < 10 {
                    scans.append(G.host(host, at: G.day(Double(night)), status: .unreachable))
                    continue
                }
                let updates = current.sorted { $0.key < $1.key }.map { package, state in
                    PendingUpdate(name: package, installedVersion: "1.0", availableVersion: "1.\(state.generation + 1)", source: "security",
                                  security: state.security, architecture: "amd64", severity: state.severity)
                }
                scans.append(G.host(host, at: G.day(Double(night)), updates, reboot: Bool.random(using: &random)))
            }
            // Stale hosts: some nights a host is left out altogether.
            try history.scan(at: G.day(Double(night)), scans.filter { _ in Int.random(in: 0..<100, using: &random) >= 5 })
            if night % 7 == 3, let host = hosts.randomElement(using: &random), let (package, state) = pending[host]?.min(by: { $0.key < $1.key }) {
                let update = PendingUpdate(name: package, installedVersion: "1.0", availableVersion: "1.\(state.generation + 1)", source: "security",
                                           security: state.security, architecture: "amd64", severity: state.severity)
                try history.deploy(at: G.day(Double(night), hour: 5), policy: "linux", host: host, installed: [update])
                pending[host]?[package] = nil
            }
        }
        _ = try history.store.addException(host: "host1", target: "openssl", until: G.day(60), reason: "r", owner: "o", by: "u", at: G.day(12))
        _ = try history.store.addException(host: "host*", target: "curl", until: G.day(25), reason: "r", owner: "o", by: "u", at: G.day(5))
        // Windows over the weeks deadlines pass: created, active, expiring, for each package on some hosts.
        for (offset, package) in packages.enumerated() {
            _ = try history.store.addException(host: offset % 2 == 0 ? "host*" : "host[1-3]", target: package, until: G.day(Double(40 + 3 * offset)),
                                               reason: "r", owner: "o", by: "u", at: G.day(Double(30 + 2 * offset)))
        }
        let removed = try history.store.addException(host: "host3", target: "sudo", until: G.day(90), reason: "r", owner: "o", by: "u", at: G.day(8))
        _ = try history.store.removeException(id: removed, by: "u", at: G.day(30))
        return history
    }

    static func standing(_ evaluator: ComplianceEvaluator, host: String, at moment: Date) -> ComplianceEvaluator.Standing {
        let entry = evaluator.evaluate(host: host, groups: [], at: moment)
        return ComplianceEvaluator.Standing(contacted: !evaluator.observations(of: host, at: moment).isEmpty, scanned: entry.lastScan != nil,
                                            compliant: entry.compliant, overdue: entry.missing.overdue, security: entry.missing.security)
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func everyDayAndHourAsEvaluateJudgesIt(seed: UInt64) throws {
        let history = try Self.randomHistory(seed: seed)
        let asOf = G.day(65)
        let report = try history.store.reportHistory(upTo: asOf, detailFrom: G.day(-1))
        let exceptions = try history.store.exceptions(createdUpTo: asOf)
        for standard in ["pci-dss", "hipaa"] {
            let ruleSet = try ComplianceRuleSet.find(standard, directories: [])
            let evaluator = ComplianceEvaluator(ruleSet: ruleSet, staleDays: 3, history: report, exceptions: exceptions, deployPolicy: nil)
            // Every six hours from before the first scan to past the last: day ends, scan moments and deadlines in between.
            let moments = stride(from: -1.0, through: 65, by: 0.25).map { G.day($0, hour: 0) }
            var overdue = 0, excepted = 0
            for host in report.hostNames {
                let fast = evaluator.standings(of: host, at: moments)
                for (index, moment) in moments.enumerated() {
                    let full = Self.standing(evaluator, host: host, at: moment)
                    #expect(fast[index] == full, "\(standard) \(host) at \(JSONOutput.timestamp(moment))")
                    overdue += full.overdue
                    excepted += evaluator.evaluate(host: host, groups: [], at: moment).missing.excepted
                }
            }
            // The comparison means something only if deadlines passed and exceptions covered some.
            #expect(overdue > 0 && excepted > 0, "\(standard): \(overdue) overdue, \(excepted) excepted")
        }
    }

    @Test func theTrendIsEveryDaysFullJudgement() throws {
        let history = try Self.randomHistory(seed: 7)
        let request = history.request(asOf: G.day(64, hour: 13), since: "70d", staleDays: 3)
        let report = try ComplianceReport.build(request)
        // The trend as it was first written: every host evaluated in full on every day.
        let store = history.store
        let evaluator = ComplianceEvaluator(ruleSet: try ComplianceRuleSet.find("pci-dss", directories: []), staleDays: 3,
                                            history: try store.reportHistory(upTo: request.asOf, detailFrom: report.evidence.periodFrom),
                                            exceptions: try store.exceptions(createdUpTo: request.asOf), deployPolicy: nil)
        #expect(report.trend.count == 71)
        for point in report.trend {
            let entries = report.hosts.map { evaluator.evaluate(host: $0.name, groups: [], at: point.at) }
            guard report.hosts.contains(where: { !evaluator.observations(of: $0.name, at: point.at).isEmpty }) else {
                #expect(point.noData, "\(point.day)")
                continue
            }
            let missing = ComplianceReport.missingTotal(entries)
            #expect(point.compliant == entries.filter(\.compliant).count && point.scanned == entries.filter { $0.lastScan != nil }.count, "\(point.day)")
            #expect(point.overdue == missing.overdue && point.missingSecurity == missing.security, "\(point.day)")
        }
        #expect(report.trend.contains { ($0.overdue ?? 0) > 0 } && report.trend.contains { ($0.compliant ?? 0) > 0 })
    }

    /// Time to patch orders its list through a permutation applied in place (no second list of every
    /// patch): it must put each item where a sorted copy would, whatever the cycles.
    @Test func aPermutationAppliedInPlacePutsEveryItemWhereASortedCopyWould() {
        var random = FindingIntervalsTests.Random(state: 7)
        for count in [0, 1, 2, 3, 10, 257] {
            for _ in 0..<5 {
                let items = (0..<count).map { _ in Int(random.next() % 50) }
                let order = items.indices.sorted { (items[$0], $0) < (items[$1], $1) }
                var permuted = items
                ComplianceEvaluator.permute(&permuted, by: order)
                #expect(permuted == order.map { items[$0] })
                #expect(permuted == items.sorted())
            }
        }
    }

    @Test func timestampsPrintAsTheirFormatSays() throws {
        for seconds in [-62_135_596_800.0, 0, 0.002, 1_767_225_600.999, 1_767_225_599.9996, 253_402_300_799.999, 1e15, -1e15] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = Timestamp.format(date)
            var parts = tm()
            let raw = ((seconds * 1_000_000).rounded() / 1000).rounded(.down)
            let milliseconds = Int64(min(max(raw, -62_135_596_800_000), 253_402_300_799_999))
            var whole = time_t(milliseconds / 1000)
            gmtime_r(&whole, &parts)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                                  Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(milliseconds % 1000))
            #expect(text == expected, "\(seconds)")
            #expect(text.utf8.count == 24)
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_767_225_600.5)) == "2026-01-01T00:00:00.500Z")
    }
}
