import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Exception: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Accepted risks for compliance reports: a host may miss a CVE or package until a date (audited).",
            subcommands: [Add.self, List.self, Remove.self],
            defaultSubcommand: List.self)
    }
}

extension Patchctl.Exception {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record an exception; once it expires, what it covered counts as non-compliant again.")

        @Argument(help: ArgumentHelp("Inventory host name, or a glob such as 'web*'.", valueName: "host"))
        var host: String

        @Argument(help: ArgumentHelp("CVE-YYYY-NNNN, a package name, or NAME@VERSION.", valueName: "cve-or-package"))
        var target: String

        @Option(help: ArgumentHelp("Until when: 2027-01-31 (end of that day, local time), 2027-01-31T18:00, or a duration such as 30d.", valueName: "when"))
        var until: String

        @Option(help: "Why the risk is accepted (recorded with your user name).")
        var reason: String

        @Option(help: ArgumentHelp("Who answers for it (default: you).", valueName: "name"))
        var owner: String?

        @OptionGroup var outputOptions: OutputOptions

        func validate() throws {
            guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw ValidationError("the host must be one name or glob") }
            guard ComplianceException.Target(target) != nil else {
                throw ValidationError("'\(target)' is neither a CVE id (CVE-2026-1234) nor a package (NAME, NAME@VERSION, or a glob such as 'libssl*')")
            }
            guard DateArgument.parse(until, now: Date()) != nil else {
                throw ValidationError("--until '\(until)' is neither a date (2027-01-31, 2027-01-31T18:00) nor a duration of at most 3650d (30d)")
            }
            guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give --reason: exceptions are audited") }
            if let owner, owner.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--owner must not be empty") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            let now = Date()
            guard let date = DateArgument.parse(until, now: now), let canonical = ComplianceException.Target(target)?.text else { return }
            guard date > now else { throw PatchError.report(message: "--until \(until) is in the past") }
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
            let user = LocalUser.current(environment: environment)
            let id = try store.addException(host: host, target: canonical, until: date, reason: reason, owner: owner ?? user, by: user, at: now)
            let record = try store.exceptions().first { $0.id == id }
            try Output.print(one: record, as: outputOptions.output) {
                Output.text("exception #\(id): \(host) may miss \(canonical) until \(DateArgument.endText(date, zone: .current)) (owner \(owner ?? user)): \(reason)\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List exceptions, active and expired (with --all, removed ones too).")

        @Flag(help: "Include removed exceptions.")
        var all = false

        @OptionGroup var outputOptions: OutputOptions

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let store = try await HistoryStore.open(reading: outputOptions.databasePath(environment: Settings.environment), environment: Settings.environment)
            let records = try store.exceptions().filter { all || $0.removedAt == nil }
            try Output.print(list: records, as: outputOptions.output) {
                records.isEmpty ? "no exceptions recorded\n" : TableReport.exceptionList(records, at: Date())
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Withdraw an exception now (it stays in history, so earlier reports still reproduce).")

        @Argument(help: "The exception's id, as `exception list` shows it (with or without '#').")
        var id: String

        @OptionGroup var outputOptions: OutputOptions

        func validate() throws {
            guard Int64(id.hasPrefix("#") ? String(id.dropFirst()) : id) != nil else { throw ValidationError("'\(id)' is not an exception id") }
        }

        @OptionGroup var display: DisplayOption

        func run() async throws {
            let environment = Settings.environment
            guard let number = Int64(id.hasPrefix("#") ? String(id.dropFirst()) : id) else { return }
            let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
            let removed = try store.removeException(id: number, by: LocalUser.current(environment: environment), at: Date())
            try Output.print(one: removed, as: outputOptions.output) {
                Output.text("removed exception #\(number) (\(removed.host) \(removed.target))\n")
            }
        }
    }
}
