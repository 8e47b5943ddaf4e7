import ArgumentParser
import Foundation
import PatchCore

/// What approve and reject share: the policy, the package versions and why. Each decision is
/// recorded with the local user and time.
struct DecisionArguments: ParsableArguments {
    @OptionGroup var policy: PolicyOption

    @Argument(help: ArgumentHelp("Packages as NAME@VERSION, or NAME for every version awaiting a decision.", valueName: "package"))
    var packages: [PackageVersion]

    @Option(help: "Why (change ticket, CAB decision...).")
    var note: String?

    @Flag(help: "Record the decision even for a package version no scan has found (one not published yet).")
    var force = false

    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if packages.isEmpty { throw ValidationError("name at least one package (NAME@VERSION)") }
    }

    func apply(_ state: ApprovalState) async throws {
        let environment = Settings.environment
        let loaded = try policy.load(environment: environment)
        let store = try await HistoryStore.open(recording: outputOptions.databasePath(environment: environment), environment: environment)
        let user = LocalUser.current(environment: environment)
        for package in packages where !force && package.version != nil {
            // Every name checked before any decision is recorded: a typo records nothing.
            try KnownNames.checkPackage(package.name, version: package.version, store: store)
        }
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
    }
}
