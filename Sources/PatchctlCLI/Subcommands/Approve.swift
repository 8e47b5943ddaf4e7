import ArgumentParser

extension Patchctl {
    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve package versions for a policy's rings.")

        @OptionGroup var decision: DecisionArguments

        @OptionGroup var display: DisplayOption

        func run() async throws {
            try await decision.apply(.approved)
        }
    }
}
