import ArgumentParser

extension Patchctl {
    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject package versions for a policy: never installed by it.")

        @OptionGroup var decision: DecisionArguments

        @OptionGroup var display: DisplayOption

        func run() async throws {
            try await decision.apply(.rejected)
        }
    }
}
