import ArgumentParser

@main
struct Patchctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "patchctl", abstract: "Agentless patch orchestration over SSH.")
}
