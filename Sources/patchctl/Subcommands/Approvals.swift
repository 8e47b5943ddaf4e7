import ArgumentParser
import Foundation
import PatchCore

extension Patchctl {
    struct Approvals: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Package versions waiting for (or given) approval under a policy.",
            subcommands: [List.self], defaultSubcommand: List.self)
    }
}

extension Patchctl.Approvals {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pending approvals (with --all, every decision too).")

        @Option(help: ArgumentHelp("Only this policy (name or file).", valueName: "policy"))
        var policy: String?

        @Flag(help: "Include approved and rejected versions.")
        var all = false

        @OptionGroup var outputOptions: OutputOptions

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            do {
                var name: String?
                if let policy { name = try PolicyOption.parse(["--policy", policy]).load(environment: environment).name }
                let store = try HistoryStore(readOnly: outputOptions.databasePath(environment: environment))
                let records = try store.approvals(policy: name, all: all)
                switch outputOptions.output {
                case .json: Terminal.writeDocument(try JSONOutput.encode(records, pretty: true) + "\n")
                case .ndjson: for record in records { Terminal.writeDocument(try JSONOutput.encode(record, pretty: false) + "\n") }
                case .table: Terminal.write(records.isEmpty ? "nothing awaits approval\n" : TableReport.approvals(records))
                }
            } catch {
                throw ExitCodes.fail(error)
            }
        }
    }
}

/// What approve and reject share: the policy, the package versions and why. Each decision is
/// recorded with the local user and time.
struct DecisionArguments: ParsableArguments {
    @OptionGroup var policy: PolicyOption

    @Argument(help: ArgumentHelp("Packages as NAME@VERSION, or NAME for every version awaiting a decision.", valueName: "package"))
    var packages: [PackageVersion]

    @Option(help: "Why (change ticket, CAB decision...).")
    var note: String?

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if packages.isEmpty { throw ValidationError("name at least one package (NAME@VERSION)") }
    }

    func apply(_ state: ApprovalState) throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let loaded = try policy.load(environment: environment)
            let store = try HistoryStore(path: outputOptions.databasePath(environment: environment))
            let user = LocalUser.current(environment: environment)
            for package in packages {
                let versions = try package.version.map { [$0] } ?? store.pendingVersions(policy: loaded.name, package: package.name)
                guard !versions.isEmpty else {
                    throw PatchError.deploy(message: "no version of \(package.name) awaits a decision under \(loaded.name): name one as \(package.name)@VERSION")
                }
                for version in versions {
                    try store.decide(policy: loaded.name, package: package.name, version: version, state: state, by: user, note: note, at: Date())
                    Terminal.write(line: "\(state == .approved ? "approved" : "rejected") \(package.name)@\(version) for \(loaded.name)\n")
                }
            }
        } catch {
            throw ExitCodes.fail(error)
        }
    }
}

extension Patchctl {
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve package versions for a policy's rings.")

        @OptionGroup var decision: DecisionArguments

        func run() async throws {
            try decision.apply(.approved)
        }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject package versions for a policy: never installed by it.")

        @OptionGroup var decision: DecisionArguments

        func run() async throws {
            try decision.apply(.rejected)
        }
    }
}
