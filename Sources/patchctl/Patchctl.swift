import ArgumentParser
import PatchCore

@main
struct Patchctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patchctl",
        abstract: "Agentless patch discovery and orchestration over SSH.",
        discussion: """
            Exit codes: 0 every host succeeded; 2 some hosts failed; 64 usage error; \
            65 invalid inventory or host pattern; 1 any other error (history database, internal).
            """,
        version: PatchctlVersion.current,
        subcommands: [Scan.self, Exec.self, History.self]
    )
}
