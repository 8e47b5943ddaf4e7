import Foundation
import PatchCore

/// The fleet and its distributions, night after night: vendors publish updates during the day,
/// hosts get patched (or not), and at 02:00 UTC a scan reads every host.
final class FleetSimulation {
    let rates: SimulationRates
    private(set) var catalogs: [PackageCatalog]
    private(set) var hosts: [FleetHost] = []
    private var cves = CVENumbering()

    init(hostCount: Int, seed: UInt64, rates: SimulationRates = SimulationRates()) {
        self.rates = rates
        catalogs = Distribution.fleet.enumerated().map { PackageCatalog(distribution: $1, seed: seed, stream: UInt64($0 + 1)) }
        var random = SeededRandom(seed: seed, stream: 100)
        let shares = Self.cumulative(Distribution.fleet.map(\.share))
        let roles = Self.cumulative(FleetHost.roles.map(\.1))
        let sites = Self.cumulative(FleetHost.sites.map(\.1))
        var numbers: [String: Int] = [:]
        hosts.reserveCapacity(hostCount)
        for index in 0..<hostCount {
            let distribution = random.weighted(shares)
            let catalog = catalogs[distribution]
            let role = FleetHost.roles[random.weighted(roles)].0
            let site = random.weighted(sites)
            let prefix = "\(role)-\(FleetHost.sites[site].0)"
            numbers[prefix, default: 0] += 1
            let number = String(numbers[prefix]!)
            let name = "\(role)-\(String(repeating: "0", count: max(0, 4 - number.count)))\(number).\(FleetHost.sites[site].0).example.net"
            // Bigger hosts (app servers, databases) have more installed, so more to patch.
            let coverage = min(1.7, max(0.5, exp(0.35 * random.normal())))
            let installed = catalog.sources.map { source -> Int16 in
                let p: Double = switch source.tier {
                case "c": 0.97
                case "s": min(0.95, 0.62 * coverage)
                case "o": min(0.9, 0.2 * coverage)
                default: min(0.5, 0.06 * coverage)
                }
                return source.isKernel || random.chance(p) ? Int16(source.latest) : -1
            }
            let roll = random.unit()
            let hygiene: FleetHost.Hygiene = roll < rates.neglectedShare ? .neglected
                : (catalog.distribution.family == .debian && roll < rates.neglectedShare + rates.unattendedShare) ? .unattended : .regular
            let base = catalog.distribution.family == .rhel ? 450.0 : 380.0
            hosts.append(FleetHost(
                name: name, address: "10.\(site + 1).\((index / 250) % 256).\(index % 250 + 1)", distribution: distribution,
                osVersion: catalog.distribution.versions[random.int(0..<catalog.distribution.versions.count)],
                ring: random.int(0..<rates.ringCount), hygiene: hygiene, installed: installed,
                runningKernel: catalog.kernelSource.map { catalog.sources[$0].latest } ?? 0,
                installedCount: Int(base + 700 * coverage) + random.int(-40...40),
                listsUnfixedCVEs: catalog.distribution.family == .debian && random.chance(rates.unfixedHostShare),
                hash: PackageCatalog.fnv(name), random: SeededRandom(seed: seed, stream: 1000 + UInt64(index))))
        }
    }

    private static func cumulative(_ weights: [Double]) -> [Double] {
        var sum = 0.0
        return weights.map { sum += $0; return sum }
    }

    /// The vendors' day before the scan of `scanStart` and what happened on every host since the
    /// last scan (patch waves on Tuesdays, seen by Wednesday's scan).
    func advance(to scanStart: Date, night: Int) {
        let day = Int((scanStart.timeIntervalSince1970 / 86_400).rounded(.down))
        for catalog in catalogs {
            catalog.publish(day: scanStart.addingTimeInterval(-86_400), dayIndex: day, rates: rates, cves: &cves)
        }
        // 1970-01-01 was a Thursday: day % 7 == 6 is a Wednesday.
        let waveRing = day % 7 == 6 ? (day / 7) % rates.ringCount : nil
        for index in hosts.indices {
            hosts[index].live(night: night, waveRing: waveRing, catalog: catalogs[hosts[index].distribution], rates: rates)
        }
    }

    /// The night's scan of every host, in the order they finish.
    func scan(night: Int, runStart: Date) -> [HostScan] {
        var scans: [HostScan] = []
        scans.reserveCapacity(hosts.count)
        for index in hosts.indices {
            scans.append(hosts[index].scan(night: night, runStart: runStart, index: index, catalog: catalogs[hosts[index].distribution], rates: rates))
        }
        return scans
    }
}
