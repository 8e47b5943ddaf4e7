import Foundation
import Testing
@testable import PatchCore

/// Deploy policies: loading, validation, selection, rings and maintenance windows. The nested
/// suites live in `PolicyTests+*.swift`; `swift test --filter PolicyTests` runs them all.
@Suite("Policies")
struct PolicyTests {
    /// The repository's `policies` folder, found from this source file.
    static let examples = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("policies").path

    /// An instant written with an explicit offset, e.g. "2026-03-29T03:00:00+02:00".
    static func instant(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text), "bad test date \(text)", sourceLocation: sourceLocation)
    }

    static func zone(_ identifier: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> TimeZone {
        try #require(TimeZone(identifier: identifier), sourceLocation: sourceLocation)
    }
}

/// Parses inline YAML as the file `policy.yml`.
func parsePolicy(_ yaml: String) throws(PatchError) -> Policy {
    try Policy.parse(yaml, file: "policy.yml")
}

/// The policy error `yaml` produces, or nil (and a recorded failure) when it loads.
func policyError(
    _ yaml: String, sourceLocation: SourceLocation = #_sourceLocation
) -> (file: String, line: Int?, column: Int?, message: String)? {
    do {
        _ = try parsePolicy(yaml)
        Issue.record("expected a policy error", sourceLocation: sourceLocation)
    } catch let PatchError.policy(file, line, column, message) {
        return (file, line, column, message)
    } catch {
        Issue.record("expected PatchError.policy, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Asserts that `yaml` fails at `line`:`column` with a message containing every fragment.
func expectPolicyError(
    _ yaml: String, line: Int?, column: Int?, _ fragments: String...,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let error = policyError(yaml, sourceLocation: sourceLocation) else { return }
    #expect(error.file == "policy.yml", sourceLocation: sourceLocation)
    #expect(error.line == line, "message: \(error.message)", sourceLocation: sourceLocation)
    #expect(error.column == column, "message: \(error.message)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.message.contains(fragment), "message: \(error.message)", sourceLocation: sourceLocation)
    }
}
