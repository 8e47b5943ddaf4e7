/// Who lets a deploy go ahead. Raw values are the words written in policies and printed in output.
public enum ApprovalMode: String, Sendable, Equatable, CaseIterable, Codable {
    /// No approval needed (windows and failure limits still apply).
    case auto
    /// Each package version is installed only after an operator approved it.
    case manual
    /// The first ring (the test ring) needs no approval; a later ring takes a version once the
    /// ring before it installed it without failures and the soak passed, or by hand. Needs two
    /// rings or more, which the policy loader checks.
    case afterTest = "after_test"
}
