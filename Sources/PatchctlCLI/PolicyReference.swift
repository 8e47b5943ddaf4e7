import ArgumentParser
import Foundation
import PatchCore

/// `--policy NAME|FILE` for commands that only need the policy's identity.
struct PolicyOption: ParsableArguments {
    @Option(help: ArgumentHelp("Policy name or file.", valueName: "policy"))
    var policy: String

    func load(environment: [String: String]) throws -> PatchCore.Policy {
        try Self.load(policy, environment: environment)
    }

    /// The policy a name or file names, looked up where `--policy` looks (for options that are optional).
    static func load(_ reference: String, environment: [String: String]) throws -> PatchCore.Policy {
        let cwd = FileManager.default.currentDirectoryPath
        return try PatchCore.Policy.find(reference, directories: PatchCore.Policy.searchDirectories(environment: environment, currentDirectory: cwd))
    }
}

/// `NAME@VERSION` (or `NAME`, meaning every version awaiting a decision).
struct PackageVersion: ExpressibleByArgument {
    var name: String
    var version: String?

    init?(argument: String) {
        let parts = argument.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, !first.isEmpty else { return nil }
        name = first
        if parts.count == 2 {
            guard !parts[1].isEmpty else { return nil }
            version = parts[1]
        }
    }
}
