import Foundation
import PatchCore

/// One endpoint of the generated fleet and what is installed on it, source by source.
struct FleetHost {
    enum Hygiene { case regular, neglected, unattended }

    let name: String
    let address: String
    let distribution: Int
    let osVersion: String
    let ring: Int
    let hygiene: Hygiene
    /// The installed update index of each catalog source; -1: not installed.
    var installed: [Int16]
    var runningKernel: Int
    var needsReboot = false
    var rebootPackages: [String] = []
    var installedCount: Int
    /// Down (every scan fails) until this night.
    var downUntil = -1
    let listsUnfixedCVEs: Bool
    let hash: UInt64
    var unfixed: [UnfixedCVE] = []
    var unfixedGeneration = -1
    var random: SeededRandom

    /// Sources whose update makes the host ask for a reboot (Debian's reboot-required, dnf needs-restarting).
    static let rebootSources: Set<String> = ["linux", "kernel", "glibc", "systemd", "dbus", "openssl", "linux-firmware", "intel-microcode", "microcode_ctl"]

    /// Fleet-style names: web-0001.dc1.example.net; roles and data centres in realistic proportions.
    static let roles: [(String, Double)] = [
        ("web", 18), ("app", 20), ("api", 6), ("db", 7), ("cache", 4), ("mq", 3), ("k8s-node", 14), ("batch", 5), ("proxy", 4),
        ("mail", 2), ("log", 4), ("mon", 3), ("ci", 4), ("file", 2), ("dns", 1), ("vpn", 1), ("ldap", 1), ("bastion", 1),
    ]
    static let sites: [(String, Double)] = [("dc1", 40), ("dc2", 35), ("dc3", 25)]

    mutating func scan(night: Int, runStart: Date, index: Int, catalog: PackageCatalog, rates: SimulationRates) -> HostScan {
        let distribution = catalog.distribution
        // Hosts start in waves of 50 (the engine's forks) and take a few seconds each.
        let started = runStart.addingTimeInterval(0.4 + Double(index / 50) * 2.7 + random.unit())
        let failing = downUntil >= night || random.chance(rates.oneOffFailure)
        if failing {
            let timeout = random.chance(0.4)
            let finished = started.addingTimeInterval(timeout ? 30 : 3 + random.unit())
            return HostScan(name: name, address: address, port: 22, status: timeout ? .timeout : .unreachable,
                            error: timeout ? "\(address): connect timed out after 30 s" : "cannot connect to \(address) port 22: No route to host",
                            startedAt: started, finishedAt: finished)
        }
        var updates: [PendingUpdate] = []
        updates.reserveCapacity(64)
        for (index, source) in catalog.sources.enumerated() {
            let have = Int(installed[index])
            guard have >= 0, have < source.latest else { continue }
            updates += catalog.updates(source: index, from: have, to: source.latest)
        }
        let os = OSInfo(family: distribution.family, id: distribution.id, name: distribution.name, version: osVersion,
                        codename: distribution.codename, kernel: distribution.kernelRelease(runningKernel), architecture: "x86_64")
        var scan = HostScan(name: name, address: address, port: 22, status: .ok, os: os, rebootRequired: needsReboot,
                            rebootPackages: rebootPackages, installedCount: installedCount, updates: updates,
                            startedAt: started, finishedAt: started.addingTimeInterval(1.2 + 4 * random.unit()))
        scan.unfixedCVEs = unfixed
        return scan
    }

    /// What happened on the host since the last scan: patch waves, unattended-upgrades, manual
    /// upgrades, single fixes, reboots, outages.
    mutating func live(night: Int, waveRing: Int?, catalog: PackageCatalog, rates: SimulationRates) {
        if needsReboot && random.chance(hygiene == .neglected ? 0.1 : 0.45) {
            needsReboot = false
            rebootPackages = []
            if let kernel = catalog.kernelSource { runningKernel = Int(installed[kernel]) }
        }
        let wave = waveRing == ring && random.chance(rates.waveAttendance)
        let manual = random.chance(hygiene == .neglected ? rates.manualUpgrade / 8 : rates.manualUpgrade)
        for (index, source) in catalog.sources.enumerated() {
            let have = Int(installed[index])
            guard have >= 0, have < source.latest else { continue }
            let security = catalog.updates(source: index, from: have, to: source.latest)[0].security
            var fix = manual || random.chance(rates.trickleFix)
            if wave && !fix {
                let p = hygiene == .neglected ? (security ? rates.neglectedWaveSecurityFix : rates.neglectedWaveBugfixFix)
                    : (security ? rates.waveSecurityFix : rates.waveBugfixFix)
                fix = random.chance(p)
            }
            if hygiene == .unattended && security && !fix { fix = random.chance(rates.unattendedFix) }
            guard fix else { continue }
            installed[index] = Int16(source.latest)
            if Self.rebootSources.contains(source.name) {
                needsReboot = true
                if catalog.distribution.family == .debian {
                    let name = source.isKernel ? "linux-image-\(catalog.distribution.kernelRelease(source.latest))" : source.binaries[0].name
                    if !rebootPackages.contains(name) { rebootPackages.append(name) }
                }
            }
        }
        if random.chance(0.01) { installedCount += random.int(-2...4) }
        if downUntil < night && random.chance(rates.outageStart) { downUntil = night + random.int(rates.outageNights) - 1 }
        if listsUnfixedCVEs && unfixedGeneration != catalog.openCVEsGeneration {
            unfixed = catalog.unfixed(installed: installed, hostHash: hash, share: rates.unfixedCVEShare)
            unfixedGeneration = catalog.openCVEsGeneration
        }
    }
}
