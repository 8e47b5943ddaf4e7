import Foundation
import PatchCore

/// `patchctl-history-gen --db PATH|postgres://… --hosts N --nights M [--seed S] [--mode current|legacy] [--start YYYY-MM-DD]`
struct GeneratorOptions {
    enum Mode: String { case current, legacy }

    var database: String?
    var hosts = 0
    var nights = 0
    var seed: UInt64 = 1
    var mode = Mode.current
    /// The first night's scan starts at 02:00 UTC that day. Fixed by default, so a seed names one history.
    var start = "2025-11-01"
    /// Hosts per `record` call (the engine records as hosts finish, in batches).
    var batch = 250
    /// Nights simulated before the first recorded one, so the first scan already shows a fleet in its usual state.
    var burnIn = 120
    /// Simulate and print the shape, write nothing.
    var dryRun = false
    /// Add `nights` to a history this generator wrote with the same hosts, seed and start: the nights it
    /// holds are simulated again (the fleet is in the same state after them), not written.
    var extend = false
    var progress = isatty(STDERR_FILENO) == 1

    static let usage = """
        usage: patchctl-history-gen --db PATH|postgres://… --hosts N --nights M [--seed S] [--mode current|legacy] [--start YYYY-MM-DD]
                                    [--batch N] [--burn-in N] [--dry-run] [--progress] [--extend]
          current: write through PatchCore's HistoryStore and RunRecorder (as a scan records), whatever its schema is; --db a
                   new SQLite file, or a PostgreSQL history holding no run (password: PGPASSFILE, ~/.pgpass, as patchctl)
          legacy:  create the schema up to migration v9 and write the per-run rows patchctl wrote then
          --extend: add --nights nights to an SQLite history (current mode) this generator wrote with the same --hosts, --seed,
                   --start and --burn-in; the nights it holds are simulated again, not written (a night's write on a year-old
                   history, measured without writing the year again)
        """

    init(arguments: [String]) throws {
        var rest = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = rest.popFirst() else { throw UsageError("\(flag) needs a value") }
            return next
        }
        func number(_ flag: String, _ range: ClosedRange<Int>) throws -> Int {
            let text = try value(flag)
            guard let parsed = Int(text), range.contains(parsed) else { throw UsageError("\(flag) \(text): expected a number in \(range)") }
            return parsed
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--db": database = try value(flag)
            case "--hosts": hosts = try number(flag, 1...1_000_000)
            case "--nights": nights = try number(flag, 1...10_000)
            case "--seed":
                let text = try value(flag)
                guard let parsed = UInt64(text) else { throw UsageError("--seed \(text): expected a non-negative number") }
                seed = parsed
            case "--mode":
                let text = try value(flag)
                guard let parsed = Mode(rawValue: text) else { throw UsageError("--mode \(text): expected current or legacy") }
                mode = parsed
            case "--start":
                start = try value(flag)
                guard startDate != nil else { throw UsageError("--start \(start): expected YYYY-MM-DD") }
            case "--batch": batch = try number(flag, 1...100_000)
            case "--burn-in": burnIn = try number(flag, 0...3650)
            case "--dry-run": dryRun = true
            case "--progress": progress = true
            case "--extend": extend = true
            case "-h", "--help": throw UsageError(nil)
            default: throw UsageError("unknown argument \(flag)")
            }
        }
        guard hosts > 0, nights > 0 else { throw UsageError("--hosts and --nights are required") }
        guard dryRun || database != nil else { throw UsageError("--db is required (or --dry-run)") }
        if extend, mode != .current || dryRun || database.map(PostgresLocation.isURL) ?? true {
            throw UsageError("--extend adds to an SQLite history in current mode")
        }
        if mode == .legacy, let database, PostgresLocation.isURL(database) {
            throw UsageError("--mode legacy writes an SQLite file (schema v9) only")
        }
    }

    /// 02:00 UTC of `start`.
    var startDate: Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: start + " 02:00")
    }
}

struct UsageError: Error {
    let message: String?
    init(_ message: String?) { self.message = message }
}
