import Foundation
import PatchCore

// patchctl-history-gen: a year (or any length) of nightly scans of a realistic fleet, written as
// patchctl writes them, for `make bench-history` (bench/history.sh). Not part of the product.

let options: GeneratorOptions
do {
    options = try GeneratorOptions(arguments: Array(CommandLine.arguments.dropFirst()))
} catch let error as UsageError {
    if let message = error.message { FileHandle.standardError.write(Data("patchctl-history-gen: \(message)\n".utf8)) }
    FileHandle.standardError.write(Data((GeneratorOptions.usage + "\n").utf8))
    exit(error.message == nil ? 0 : 64)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("patchctl-history-gen: \(message)\n".utf8))
    exit(1)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let clock = ContinuousClock()
let began = clock.now
guard let start = options.startDate else { fail("bad --start") }
if let path = options.database, !PostgresLocation.isURL(path), FileManager.default.fileExists(atPath: path) != options.extend {
    fail(options.extend ? "\(path) does not exist: --extend adds to a history the generator wrote" : "\(path) exists: the generator writes a new history only (or --extend)")
}

var sink: (any HistorySink)?
do {
    if !options.dryRun, let path = options.database {
        sink = options.mode == .current ? try await CurrentSink(location: path) : try LegacySink(path: path, seed: options.seed)
    }
} catch let error as UsageError {
    fail(error.message ?? "")
} catch {
    fail("\(error)")
}

/// Nights the history holds already (`--extend`): its latest run is the last of them, at 02:00 UTC of its night.
var held = 0
if options.extend, let store = (sink as? CurrentSink)?.store {
    do {
        guard let latest = try store.runs(limit: 1).first else { fail("\(options.database ?? ""): holds no run to extend") }
        let days = latest.startedAt.timeIntervalSince(start) / 86_400
        guard days >= 0, days == days.rounded() else {
            fail("its latest run started \(latest.startedAt), not at 02:00 UTC of a night after --start \(options.start)")
        }
        held = Int(days) + 1
        // One run a night from --start: a history written from another start (or already extended by hand) is refused
        // before anything is added, rather than extended with nights simulated from another fleet state.
        let shape = try store.rows("SELECT COUNT(*) AS n, MIN(started_at) AS first FROM runs").first
        let count: Int = shape?["n"] ?? 0
        guard count == held, let first: Date = shape?["first"], first == start else {
            fail("holds \(count) runs from \(shape?["first"] as Date? ?? latest.startedAt), not one a night from --start \(options.start) to its latest "
                 + "(\(held) nights): extend with the --hosts, --seed, --start and --burn-in it was written with")
        }
    } catch {
        fail("\(error)")
    }
}

let simulation = FleetSimulation(hostCount: options.hosts, seed: options.seed)
for night in -options.burnIn..<0 {
    simulation.advance(to: start.addingTimeInterval(Double(night) * 86_400), night: night)
}

let producer = NightProducer(simulation: simulation, nights: held + options.nights, start: start)
var statistics = ShapeStatistics()
/// Each written night's `record` time: the totals, the last night's and the distribution come from it.
var nightWrites = NightWrites()
for night in 0..<held + options.nights {
    let runStart = start.addingTimeInterval(Double(night) * 86_400)
    let scans = producer.next()
    // Held already: simulated so that the fleet reaches the same state, not written.
    guard night >= held else { continue }
    for scan in scans { statistics.add(scan) }
    guard var target = sink else { continue }
    do {
        let runId = try target.beginRun(startedAt: runStart)
        let before = clock.now
        try target.record(runId: runId, hosts: scans, batch: options.batch)
        let recording = clock.now - before
        let finished = scans.map(\.finishedAt).max() ?? runStart
        try target.finishRun(runId: runId, finishedAt: finished.addingTimeInterval(0.3))
        sink = target
        nightWrites.add(night: runStart, seconds: seconds(recording))
    } catch {
        fail("night \(night + 1): \(error)")
    }
    if options.progress {
        let elapsed = seconds(clock.now - began)
        FileHandle.standardError.write(Data(String(format: "\rnight %d/%d, %.0f s, its write %.2f s, mean write %.2f s ", night + 1, held + options.nights,
                                                   elapsed, nightWrites.last, nightWrites.mean).utf8))
    }
}
if options.progress { FileHandle.standardError.write(Data("\n".utf8)) }
// Closing the database checkpoints it and removes its -wal: the history is one file, as after a real run
// (a PostgreSQL history's connection closes).
sink = nil

let total = seconds(clock.now - began)
let day = DateFormatter()
day.locale = Locale(identifier: "en_US_POSIX")
day.timeZone = TimeZone(identifier: "UTC")
day.dateFormat = "yyyy-MM-dd"
let lines: [(String, String)] = [
    ("mode", options.dryRun ? "dry-run" : options.mode.rawValue),
    ("seed", "\(options.seed)"),
    ("hosts", "\(options.hosts)"),
    ("nights", "\(options.nights)"),
    ("nights_held_before", "\(held)"),
    ("runs", "\(nightWrites.nights.count)"),
    ("first_night", day.string(from: start.addingTimeInterval(Double(held) * 86_400))),
    ("last_night", day.string(from: start.addingTimeInterval(Double(held + options.nights - 1) * 86_400))),
    ("host_scans", "\(statistics.hostScans)"),
    ("failed_host_scans", String(format: "%d (%.2f%%)", statistics.failedScans, 100 * Double(statistics.failedScans) / Double(max(statistics.hostScans, 1)))),
    ("findings_written", "\(statistics.findings)"),
    ("finding_cves_written", "\(statistics.findingCVEs)"),
    ("unfixed_cves_written", "\(statistics.unfixedCVEs)"),
    ("findings_per_ok_scan", String(format: "mean %.1f, min %d, p50 %d, p90 %d, p99 %d, max %d", Double(statistics.findings) / Double(max(statistics.okScans, 1)),
                                    statistics.minimum, statistics.percentile(0.5), statistics.percentile(0.9), statistics.percentile(0.99), statistics.maximum)),
    ("security_share", String(format: "%.3f", Double(statistics.securityFindings) / Double(max(statistics.findings, 1)))),
    ("cve_share", String(format: "%.3f", Double(statistics.findingsWithCVEs) / Double(max(statistics.findings, 1)))),
    ("ok_scans_with_unfixed_cves", String(format: "%.3f", Double(statistics.hostsWithUnfixed) / Double(max(statistics.okScans, 1)))),
    ("write_seconds", String(format: "%.2f", nightWrites.total)),
    ("last_night_write_seconds", String(format: "%.3f", nightWrites.last)),
    ("night_write_seconds", nightWrites.summary(day: day)),
    ("nights_written_in_over_2s", nightWrites.over(2)),
    ("seconds", String(format: "%.1f", total)),
]
for (key, value) in lines { print("\(key): \(value)") }
