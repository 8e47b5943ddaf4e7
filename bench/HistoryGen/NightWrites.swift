import Foundation

/// Each written night's write time, for the distribution the output reports: the nights are not
/// alike (a distribution's point release opens ten times an ordinary night's intervals), and a
/// mean or the last night alone hides the slow ones.
struct NightWrites {
    private(set) var nights: [(night: Date, seconds: Double)] = []

    mutating func add(night: Date, seconds: Double) { nights.append((night, seconds)) }

    /// The smallest time at least `p` of the nights took no longer than (nearest rank).
    func percentile(_ p: Double) -> Double {
        let sorted = nights.map(\.seconds).sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
    }

    /// "mean …, p50 …, p90 …, p99 …, max … (its night)".
    func summary(day: DateFormatter) -> String {
        guard let slowest = nights.max(by: { $0.seconds < $1.seconds }) else { return "none" }
        let mean = nights.map(\.seconds).reduce(0, +) / Double(nights.count)
        return String(format: "mean %.2f, p50 %.2f, p90 %.2f, p99 %.2f, max %.2f", mean, percentile(0.5), percentile(0.9), percentile(0.99),
                      slowest.seconds) + " (" + day.string(from: slowest.night) + ")"
    }

    /// How many nights took longer than `limit` seconds, as "N of M".
    func over(_ limit: Double) -> String { "\(nights.filter { $0.seconds > limit }.count) of \(nights.count)" }
}
