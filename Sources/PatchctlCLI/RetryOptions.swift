import ArgumentParser

/// `--retry-failed [RUN]` on scan, exec, deploy and install: only the hosts whose status was a
/// failure in RUN (default: the latest run of the same kind), within `--limit`.
struct RetryOptions: ParsableArguments {
    @Option(name: .customLong("retry-failed"),
            help: ArgumentHelp("Only the hosts that failed in RUN (an id or unique prefix; alone: the latest run of this kind), within --limit.",
                               valueName: "run"))
    var retryFailed: String?

    func validate() throws {
        // An empty id would be a prefix of every run.
        if retryFailed?.isEmpty == true { throw ValidationError("--retry-failed= needs a run id (or nothing: the latest run)") }
    }

    /// What `--retry-failed` without a value stands for.
    static let latest = "latest"

    /// The run named, nil for the latest; only meaningful when `requested`.
    var run: String? { retryFailed == Self.latest ? nil : retryFailed }
    var requested: Bool { retryFailed != nil }

    /// ArgumentParser options always take a value; RUN is optional, so a bare `--retry-failed`
    /// becomes `--retry-failed=latest` before parsing. A following word is RUN only when it looks
    /// like a run id (it starts with the date: a digit, then letters, digits and dashes), so a
    /// package argument (`acme@2.4.1`), an option or `--` after it is never taken for one.
    static func normalized(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" { return result + arguments[index...] }
            result.append(argument)
            if argument == "--retry-failed" {
                let next = index + 1 < arguments.count ? arguments[index + 1] : nil
                if next.map(isRunID) != true && next != latest { result[result.count - 1] = "--retry-failed=" + latest }
            }
            index += 1
        }
        return result
    }

    static func isRunID(_ word: String) -> Bool {
        guard let first = word.unicodeScalars.first, ("0"..."9").contains(first) else { return false }
        return word.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || $0 == "-" }
    }
}
