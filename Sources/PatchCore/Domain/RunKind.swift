/// What a recorded run did (`runs.kind`, and `kind` in every run document).
public enum RunKind: String, Codable, Sendable, CaseIterable {
    case scan, exec, ping, deploy
    /// `deploy --dry-run`: scanned and decided, changed nothing.
    case plan
    /// `patchctl install` of library packages.
    case install
    /// `install --dry-run`.
    case installPlan = "install-plan"
    /// `patchctl discover`: a network sweep; its hosts are addresses with their services and host keys.
    case discover

    /// Runs whose hosts are stored as deploy documents (`history show` prints them as deployments).
    public var isDeployment: Bool {
        switch self {
        case .deploy, .plan, .install, .installPlan: return true
        case .scan, .exec, .ping, .discover: return false
        }
    }
}
