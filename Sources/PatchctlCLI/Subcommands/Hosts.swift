import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Hosts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The hosts history knows: list them; retire those that left the fleet (out of reports' scope from then on); unretire.",
            discussion: """
                A retired host stays in history: reports leave it out from its retirement on (a report --as-of an earlier \
                moment still includes it) and the compliance report says how many were retired. A successful scan or \
                deployment of a retired host un-retires it (event `reappeared`): it is in the fleet again.
                """,
            subcommands: [List.self, Retire.self, Unretire.self], defaultSubcommand: List.self)
    }
}

/// The inventories a hosts command compares history with: `-i`, else the configured ones (nil:
/// none). `lenient`: a configured inventory that does not load is as none (it only adds a column
/// or a warning); given with `-i`, or for the absent rule, it is the command's error.
private func fleetInventory(_ sources: [String], environment: [String: String], lenient: Bool = false) throws -> (sources: [String], inventory: Inventory)? {
    let paths = sources.isEmpty ? InventoryOptions.configured(environment: environment) ?? [] : sources
    guard !paths.isEmpty else { return nil }
    if lenient, sources.isEmpty {
        guard let inventory = try? Inventory.load(paths: paths, environment: environment) else { return nil }
        return (paths, inventory)
    }
    return (paths, try Inventory.load(paths: paths, environment: environment))
}

extension Patchctl.Hosts {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every host history knows: last contact and its status, last successful scan, retired or not (since when, by whom, why).")

        @Option(name: [.short, .long], help: ArgumentHelp(
            "Also say whether each host is in these inventories (default PATCHCTL_INVENTORY or the configuration's).", valueName: "source"))
        var inventory: [String] = []

        @Flag(help: "Only retired hosts.")
        var retired = false

        @OptionGroup var outputOptions: OutputOptions

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let fleet = try fleetInventory(inventory, environment: environment, lenient: true)
            let store = try await HistoryStore.open(reading: outputOptions.databasePath(environment: environment), environment: environment)
            let hosts = try store.knownHosts(inventory: fleet.map { Set($0.inventory.hosts.map(\.name)) }).filter { !retired || $0.retired }
            try Output.print(list: hosts, as: outputOptions.output) {
                hosts.isEmpty ? (retired ? "no host is retired\n" : "history knows no host yet\n") : TableReport.knownHosts(hosts)
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire hosts that left the fleet, by name or by the absent rule (--absent-for 30d): recorded, audited, out of reports' scope.",
            discussion: """
                By name: each must be a host history has seen (did you mean...), unless --force. By rule: every host history \
                knows that is in none of the inventories (-i, repeatable; default the configured ones) and whose last \
                successful contact (any run kind; never successful: its last contact; back from retirement: its return) \
                is older than --absent-for, or retire_absent_for with --absent (for a timer). --dry-run lists them only.
                """)

        @Argument(help: ArgumentHelp("Host names, as history knows them.", valueName: "host"))
        var hosts: [String] = []

        @Option(help: "Why (recorded with your user name; the absent rule says why by itself).")
        var reason: String?

        @Flag(help: "Retire a name history has never seen.")
        var force = false

        @Option(name: .customLong("absent-for"), help: ArgumentHelp(
            "Retire by the absent rule: in none of the inventories and not reached successfully for this long (30d, 12w; at least 1d).",
            valueName: "duration"))
        var absentFor: String?

        @Flag(help: "Retire by the absent rule with the configured duration (retire_absent_for, PATCHCTL_RETIRE_ABSENT_FOR).")
        var absent = false

        @Option(name: [.short, .long], help: ArgumentHelp(
            "The fleet's inventories, for the absent rule (default PATCHCTL_INVENTORY or the configuration's).", valueName: "source"))
        var inventory: [String] = []

        @Flag(help: "The absent rule: list what would be retired, record nothing.")
        var dryRun = false

        @OptionGroup var outputOptions: OutputOptions

        var byRule: Bool { absent || absentFor != nil }

        func validate() throws {
            if byRule {
                guard hosts.isEmpty else { throw ValidationError("name hosts or use the absent rule (--absent-for, --absent), not both") }
                if force { throw ValidationError("--force is for names; the absent rule only retires hosts history knows") }
                if let absentFor, HostRetirement.absence(absentFor) == nil {
                    throw ValidationError("--absent-for '\(absentFor)' is not \(HostRetirement.absenceHint)")
                }
            } else {
                if hosts.isEmpty { throw ValidationError("name the hosts to retire, or give --absent-for DURATION (or --absent)") }
                if dryRun { throw ValidationError("--dry-run is for the absent rule (--absent-for, --absent)") }
            }
            if let reason, reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must not be empty") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let user = LocalUser.current(environment: environment)
            let now = Date()
            if byRule { return try await retireAbsent(environment: environment, user: user, now: now) }
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
            if !force {
                // Every name checked before any is recorded: a typo records nothing.
                for host in hosts {
                    try KnownNames.checkHost(host, inventory: nil, store: store, force: "--force retires it anyway")
                }
            }
            let fleet = try fleetInventory(inventory, environment: environment, lenient: true)
            let outcomes = try store.retire(hosts: hosts, reason: reason, by: user, at: now)
            let names = Set(outcomes.map(\.host))
            let listed = try store.knownHosts(inventory: fleet.map { Set($0.inventory.hosts.map(\.name)) }).filter { names.contains($0.name) }
            // Retired while an inventory still lists it: reports leave it out, scans keep trying it.
            for outcome in outcomes where outcome.recorded {
                if let fleet, fleet.inventory.host(named: outcome.host) != nil {
                    Terminal.writeErrorLine("warning: \(outcome.host) is still in \(fleet.sources.joined(separator: ", ")): out of reports' scope "
                                            + "until `patchctl hosts unretire` or a successful scan; remove it from the inventory")
                }
            }
            try Output.print(list: listed, as: outputOptions.output) {
                outcomes.map { outcome in
                    let retirement = outcome.retirement
                    return outcome.recorded
                        ? Output.text("retired \(outcome.host)\(retirement.reason.map { ": \($0)" } ?? "")\n")
                        : Output.text("\(outcome.host): already retired since \(JSONOutput.timestamp(retirement.retiredAt)) by \(retirement.retiredBy)\n")
                }.joined()
            }
        }

        func retireAbsent(environment: [String: String], user: String, now: Date) async throws {
            guard let text = absentFor ?? Settings.string("PATCHCTL_RETIRE_ABSENT_FOR"), let absence = HostRetirement.absence(text) else {
                throw ValidationError("--absent needs retire_absent_for in the configuration (or PATCHCTL_RETIRE_ABSENT_FOR), or give --absent-for DURATION")
            }
            // Without the fleet's inventories every host would be "in none of them".
            guard let fleet = try fleetInventory(inventory, environment: environment) else {
                throw ValidationError("the absent rule needs the fleet's inventories: -i SOURCE (repeatable), or inventory: in the configuration")
            }
            guard !fleet.inventory.hosts.isEmpty else {
                throw PatchError.deploy(message: "\(fleet.sources.joined(separator: ", ")) list no host: refusing to retire every absent host "
                                        + "(an empty or broken inventory would retire the fleet); check the inventories")
            }
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
            let places = fleet.sources.joined(separator: ", ")
            let automatic = { (host: KnownHost) -> String in
                let since = host.absentSince.map(JSONOutput.timestamp) ?? "?"
                let clock = host.lastSuccess == nil ? "never reached successfully, last contact \(since)" : "no successful contact since \(since)"
                return "in none of the inventories (\(places)); \(clock) (absent for more than \(text))"
            }
            let hosts = try store.retireAbsent(inventory: Set(fleet.inventory.hosts.map(\.name)), absence: absence,
                                               reason: { host in reason ?? automatic(host) }, dryRun: dryRun, by: user, at: now)
            let names = Set(hosts.map(\.name))
            let listed = try dryRun ? hosts : store.knownHosts(inventory: Set(fleet.inventory.hosts.map(\.name))).filter { names.contains($0.name) }
            try Output.print(list: listed, as: outputOptions.output) {
                guard !hosts.isEmpty else {
                    return "no host to retire: every host history knows is retired, in \(places), or reached within \(text)\n"
                }
                return hosts.map { host in
                    Output.text("\(dryRun ? "would retire" : "retired") \(host.name): \(reason ?? automatic(host))\n")
                }.joined() + "\(hosts.count) host\(hosts.count == 1 ? "" : "s") \(dryRun ? "would be retired (dry run: nothing recorded)" : "retired")\n"
            }
        }
    }

    struct Unretire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring retired hosts back into reports' scope (recorded and audited; a successful scan does it by itself).")

        @Argument(help: ArgumentHelp("Retired host names.", valueName: "host"))
        var hosts: [String]

        @Option(help: "Why (recorded with your user name).")
        var reason: String?

        @OptionGroup var outputOptions: OutputOptions

        func validate() throws {
            if hosts.isEmpty { throw ValidationError("name the hosts to unretire") }
            if let reason, reason.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--reason must not be empty") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
            let retired = try store.retiredHosts()
            for host in hosts where retired[host] == nil {
                try KnownNames.checkHost(host, inventory: nil, store: store, force: "nothing to unretire")
            }
            let ended = try store.unretire(hosts: hosts, reason: reason, by: LocalUser.current(environment: environment), at: Date())
            let names = Set(hosts)
            let listed = try store.knownHosts().filter { names.contains($0.name) }
            try Output.print(list: listed, as: outputOptions.output) {
                hosts.map { host in
                    guard let record = ended.first(where: { $0.host == host }) else { return Output.text("\(host): not retired\n") }
                    return Output.text("unretired \(host) (retired since \(JSONOutput.timestamp(record.retiredAt)))\n")
                }.joined()
            }
        }
    }
}
