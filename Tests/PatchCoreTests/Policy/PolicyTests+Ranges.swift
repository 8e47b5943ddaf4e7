import Foundation
import Testing
@testable import PatchCore

extension PolicyTests {
    /// Every number in a policy has a documented range (docs/policies.md "Ranges of numbers"); beyond it
    /// the policy is refused at the value's line and column, before anything is sent anywhere.
    @Suite("Policy number ranges")
    struct Ranges {
        static let huge = "9223372036854775807"

        @Test func theIssuesGraceMinutesIsRefused() {
            // It used to reach `shutdown -r +9223372036854775807` and trap in UInt64(grace * 1e9).
            expectPolicyError("name: n\ntargets: all\nreboot: {mode: always, grace_minutes: \(Self.huge)}\n", line: 3, column: 39,
                              "'grace_minutes' must be a whole number from 0 to 1440, found the number \(Self.huge)")
            expectPolicyError("name: n\ntargets: all\nreboot: {mode: always, grace_minutes: 1441}\n", line: 3, column: 39, "from 0 to 1440")
            // Beyond 64 bits is out of range too, not "not a number".
            expectPolicyError("name: n\ntargets: all\nreboot: {mode: always, grace_minutes: 99999999999999999999}\n", line: 3, column: 39,
                              "from 0 to 1440", "found the number 99999999999999999999")
        }

        @Test func theEdgesOfEveryRangeLoad() throws {
            let policy = try parsePolicy("""
                name: n
                targets: all
                reboot: {mode: always, grace_minutes: 1440}
                deferment: {max_deferrals: 100, deadline: 365d}
                install_timeout: 7d
                reboot_timeout: 1d
                rings:
                  - {name: a, targets: web, batch: 100000, max_parallel: 10000, max_fail_percent: 100, soak: 0}
                  - {name: b, batch: 1, max_parallel: 1, max_fail_percent: 0, soak: 90d}
                """)
            #expect(policy.reboot.graceMinutes == 1440 && policy.deferment?.maxDeferrals == 100)
            #expect(policy.deferment?.deadline == .after(365 * 86_400))
            #expect(policy.installTimeout == 7 * 86_400 && policy.rebootTimeout == 86_400)
            #expect(policy.rings.map(\.soak) == [0, 90 * 86_400] && policy.rings.map(\.maxParallel) == [10_000, 1])
            #expect(policy.rings.map(\.batch) == [.count(100_000), .count(1)])
        }

        @Test(arguments: [
            ("deferment: {max_deferrals: 101}", 12, 28, "'max_deferrals' must be a whole number from 0 to 100"),
            ("deferment: {deadline: 366d}", 12, 23, "'deadline' must be from 1s to 365d, found '366d'"),
            ("deferment: {deadline: 99999999999999999999w}", 12, 23, "'deadline' must be from 1s to 365d"),
            ("install_timeout: 8d", 12, 18, "'install_timeout' must be from 1s to 7d, found '8d'"),
            ("install_timeout: \(huge)", 12, 18, "'install_timeout' must be from 1s to 7d"),
            ("reboot_timeout: 25h", 12, 17, "'reboot_timeout' must be from 1s to 1d, found '25h'"),
            ("rings: [{name: a, soak: 91d}]", 12, 25, "'soak' must be from 0s to 90d, found '91d'"),
            ("rings: [{name: a, soak: 1e400}]", 12, 25, "invalid duration for 'soak'"),
            ("rings: [{name: a, max_parallel: 10001}]", 12, 33, "'max_parallel' must be a whole number from 1 to 10000"),
            ("rings: [{name: a, max_parallel: \(huge)}]", 12, 33, "'max_parallel' must be a whole number from 1 to 10000"),
            ("rings: [{name: a, batch: 100001}]", 12, 26, "'batch' must be a number of hosts (1 to 100000)"),
            ("rings: [{name: a, batch: \(huge)0}]", 12, 26, "'batch' must be a number of hosts (1 to 100000)"),
            ("rings: [{name: a, max_fail_percent: 1e308}]", 12, 37, "between 0 and 100"),
            ("window: {patch_tuesday: {weekday: sat, nth: \(huge)}, start: '01:00', end: '02:00'}", 12, 45, "'nth' must be a whole number from 1 to 5"),
            ("window: {patch_tuesday: {offset_days: -\(huge)}, start: '01:00', end: '02:00'}", 12, 39, "'offset_days' must be a whole number from -31 to 31"),
        ])
        func outOfRangeValuesNameTheirPosition(line: String, lineNumber: Int, column: Int, message: String) {
            // Eleven lines of padding keep the line number of the value distinct from any default.
            let yaml = "name: n\ntargets: all\n" + String(repeating: "# padding\n", count: 9) + line + "\n"
            expectPolicyError(yaml, line: lineNumber, column: column, message)
        }

        @Test func durationsHaveAHardCeiling() {
            #expect(PolicyDuration.parse("3650d") == PolicyDuration.maximum)
            #expect(PolicyDuration.parse("3651d") == nil)
            #expect(PolicyDuration.parse("99999999999999999w") == nil)
            #expect(PolicyDuration.parse(String(repeating: "9", count: 400)) == nil)
            #expect(PolicyDuration.isWellFormed("99999999999999999w") && !PolicyDuration.isWellFormed("soon"))
            // format is total: no trap for values no parser returns.
            #expect(PolicyDuration.format(.infinity) == "521w3d")
            #expect(PolicyDuration.format(-5) == "0s" && PolicyDuration.format(.nan) == "0s")
        }

        @Test func secondsToNanosecondsIsChecked() {
            #expect(PolicyDuration.nanoseconds(1.5) == 1_500_000_000)
            #expect(PolicyDuration.nanoseconds(-1) == 0 && PolicyDuration.nanoseconds(.nan) == 0)
            #expect(PolicyDuration.nanoseconds(.infinity) == UInt64(PolicyDuration.maximum) * 1_000_000_000)
            #expect(PolicyDuration.nanoseconds(Double(Int.max) * 60) == UInt64(PolicyDuration.maximum) * 1_000_000_000)
        }

        @Test func aPolicyBuiltInCodeStillRebootsWithinTheRange() {
            // What the deploy engine sends and waits for, whatever the struct holds.
            #expect(RebootPolicy(mode: .always, graceMinutes: Int.max).boundedGraceMinutes == 1440)
            #expect(RebootPolicy(mode: .always, graceMinutes: -3).boundedGraceMinutes == 0)
            #expect(RebootPolicy(mode: .always, graceMinutes: 10).boundedGraceMinutes == 10)
        }

        @Test func userDatesAndReportPeriodsAreBoundedToo() {
            let now = Date(timeIntervalSince1970: 1_800_000_000)
            // `defer --until 99999999999999999w` used to trap when the date was stored.
            #expect(DateArgument.parse("99999999999999999w", now: now) == nil)
            #expect(DateArgument.parse("48h", now: now) == now.addingTimeInterval(48 * 3600))
            #expect(ReportDate.parseStart("99999999999999999w", end: now) == nil)
        }
    }
}
