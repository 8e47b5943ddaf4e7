import Foundation

/// Each written night's write time, for the distribution the output reports: the nights are not
/// alike (a distribution's point release opens ten times an ordinary night's intervals), and a
/// mean or the last night alone hides the slow ones.
struct NightWrites {
    private(set) var nights: [(night: Date, seconds: Double)] = []

    mutating func add(night: Date, seconds: Double) { nights.append((night, seconds)) }

    /// Every night's write together.
    var total: Double { nights.reduce(0) { $0 + $1.seconds } }
    /// The latest night's write (0 before any).
    var last: Double { nights.last?.seconds ?? 0 }
    var mean: Double { nights.isEmpty ? 0 : total / Double(nights.count) }

    /// "mean …, p50 …, p90 …, p99 …, max … (its night)"; percentiles by nearest rank.
    func summary(day: DateFormatter) -> String {
        guard let slowest = nights.max(by: { $0.seconds < $1.seconds }) else { return "none" }
        let sorted = nights.map(\.seconds).sorted()
        func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))] }
        return String(format: "mean %.2f, p50 %.2f, p90 %.2f, p99 %.2f, max %.2f", mean, percentile(0.5), percentile(0.9), percentile(0.99),
                      slowest.seconds) + " (" + day.string(from: slowest.night) + ")"
    }

    /// How many nights took longer than `limit` seconds, as "N of M".
    func over(_ limit: Double) -> String { "\(nights.filter { $0.seconds > limit }.count) of \(nights.count)" }
}
