import ArgumentParser
import PatchCore

public struct Patchctl: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "patchctl",
        abstract: "Agentless patch discovery and orchestration over SSH.",
        discussion: """
            Exit codes: 0 every host succeeded; 2 some hosts failed; 3 deploy halted by max_fail_percent; 64 usage error; \
            65 invalid inventory, host pattern or policy; 75 policy locked by another deploy; 78 configuration error; 2 also when an advisory feed failed to sync; 130 deploy interrupted; 1 any other error (history database, internal).

            Every command takes --color auto|always|never (default auto, or the config's color / PATCHCTL_COLOR): \
            auto colours tables on a terminal unless NO_COLOR is set. On a terminal, tables fit its width.
            """,
        version: PatchctlVersion.long,
        subcommands: [Scan.self, Exec.self, Ping.self, Discover.self, Deploy.self, Install.self, Package.self, Approvals.self, Approve.self, Reject.self, Defer.self,
                      History.self, Report.self, Exception.self, Diff.self, Hosts.self, Advisories.self, Metrics.self, Config.self,
                      RecordFixtures.self]
    )

    public init() {}

    /// A bare `patchctl` is a usage error (64), with the help on stderr, as ArgumentParser treats a
    /// missing subcommand elsewhere: a cron line missing its subcommand must not pass as success.
    public func run() async throws {
        Terminal.writeError(Patchctl.helpMessage() + "\n")
        throw ExitCode.validationFailure
    }
}
