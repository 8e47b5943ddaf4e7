import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Defer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "defer",
            abstract: "Hold a host back from deployments until a date, with a reason (or --cancel); `defer list` shows them.",
            subcommands: [Add.self, List.self], defaultSubcommand: Add.self)

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Hold a host back (the default: `patchctl defer HOST --until ... --reason ...`).")

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

            @Option(name: [.short, .long], help: ArgumentHelp(
                "Inventory the host must be in, unless history has seen it (default PATCHCTL_INVENTORY or the configuration's).", valueName: "source"))
            var inventory: [String] = []

            @Flag(help: "Defer a host that neither the inventory nor history knows (one not scanned yet).")
            var force = false

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

            @OptionGroup var display: DisplayOption

            func run() async throws {
                let environment = Settings.environment
                let policyName = try policy.map { try PolicyOption.load($0, environment: environment).name }
                let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
                let user = LocalUser.current(environment: environment)
                let now = Date()
                if cancel {
                    let count = try store.cancelDeferrals(host: host, policy: policyName, by: user, at: now)
                    Terminal.write(count == 0 ? "\(host) had no active deferral\n" : "cancelled \(count) deferral(s) of \(host)\n")
                    return
                }
                if !force {
                    let sources = inventory.isEmpty ? InventoryOptions.configured(environment: environment) ?? [] : inventory
                    try KnownNames.checkHost(host, inventory: sources.isEmpty ? nil : try Inventory.load(paths: sources), store: store)
                }
                guard let until, let reason, let date = DateArgument.parse(until, now: now) else { return }
                guard date > now else { throw PatchError.deploy(message: "--until \(until) is in the past") }
                _ = try store.addDeferral(host: host, policy: policyName, until: date, reason: reason, by: user, at: now)
                Terminal.write(line: "\(host) deferred until \(DateArgument.endText(date, zone: .current))\(policyName.map { " for \($0)" } ?? " for every policy"): \(reason)\n")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "The deferrals in force (`--all`: every one not cancelled, expired included).")

            @Flag(help: "Include expired deferrals.")
            var all = false

            @OptionGroup var outputOptions: OutputOptions

            @OptionGroup var display: DisplayOption

            func run() async throws {
                let store = try await HistoryStore.open(reading: outputOptions.databasePath(environment: Settings.environment), environment: Settings.environment)
                let records = try store.deferrals(activeAt: all ? nil : Date())
                try Output.print(list: records, as: outputOptions.output) { TableReport.deferrals(records) }
            }
        }
    }
}
