import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Defer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "defer",
            abstract: "Hold a host back from deployments until a date, with a reason (or --cancel).")

        @Argument(help: "Inventory host name.")
        var host: String

        @Option(help: ArgumentHelp("Until when: 2026-12-01 (end of that day), 2026-12-01T18:00, or a duration such as 48h.", valueName: "when"))
        var until: String?

        @Option(help: "Why (recorded with your user name).")
        var reason: String?

        @Option(help: ArgumentHelp("Only for this policy (default: every policy).", valueName: "policy"))
        var policy: String?

        @Flag(help: "Remove the host's active deferrals instead.")
        var cancel = false

        @OptionGroup var outputOptions: OutputOptions

        func validate() throws {
            if cancel {
                if until != nil || reason != nil { throw ValidationError("--cancel takes no --until or --reason") }
            } else {
                guard let until else { throw ValidationError("give --until DATE (or --cancel)") }
                guard DateArgument.parse(until, now: Date()) != nil else {
                    throw ValidationError("--until '\(until)' is neither a date (2026-12-01, 2026-12-01T18:00) nor a duration of at most 3650d (48h, 2d)")
                }
                guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give --reason: deferrals are audited") }
            }
        }

        func run() async throws {
            let environment = Settings.environment
            let policyName = try policy.map { try PolicyOption.load($0, environment: environment).name }
            let store = try HistoryStore(path: outputOptions.databasePath(environment: environment))
            let user = LocalUser.current(environment: environment)
            let now = Date()
            if cancel {
                let count = try store.cancelDeferrals(host: host, policy: policyName, by: user, at: now)
                Terminal.write(count == 0 ? "\(host) had no active deferral\n" : "cancelled \(count) deferral(s) of \(host)\n")
                return
            }
            guard let until, let reason, let date = DateArgument.parse(until, now: now) else { return }
            guard date > now else { throw PatchError.deploy(message: "--until \(until) is in the past") }
            _ = try store.addDeferral(host: host, policy: policyName, until: date, reason: reason, by: user, at: now)
            Terminal.write(line: "\(host) deferred until \(DateArgument.endText(date, zone: .current))\(policyName.map { " for \($0)" } ?? " for every policy"): \(reason)\n")
        }
    }
}
