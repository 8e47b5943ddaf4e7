/// Where a decision on a package version stands: a policy's approval (`patchctl approve`) and a
/// library entry (`patchctl package approve`) move through the same states.
public enum ApprovalState: String, Codable, Sendable, CaseIterable {
    case pending, approved, rejected
}
