/// What an audit event records (`events.action`).
public enum EventAction: String, Codable, Sendable, CaseIterable {
    /// `patchctl approve` / `reject` of a package version under a policy.
    case approve, reject
    /// `patchctl defer`, and its `--cancel`.
    case `defer`, undefer
    /// Automatic: users were logged in, so the host was left for a later window.
    case deferred
    /// Automatic: the deferment deadline passed, so the host was worked on despite its users.
    case forced
    /// A deployment ran, or `--resume` continued one.
    case deploy, resume
    case exception
    case exceptionRemove = "exception-remove"
    case packageAdd = "package-add"
    case packageApprove = "package-approve"
    case packageReject = "package-reject"
    case packagePrune = "package-prune"
    /// `patchctl history prune`: runs, findings and events before a date were deleted.
    case historyPrune = "history-prune"
    /// `patchctl history export --to postgres://…`: this SQLite history was copied into PostgreSQL.
    case historyExport = "history-export"
    /// A run's end was announced to a notifier (`--notify`, a policy's `notify:`), or could not be.
    case notify
    case notifyFailed = "notify-failed"
    /// `patchctl hosts retire` (by hand, or by the absent rule) and `hosts unretire`.
    case retire, unretire
    /// Automatic: a successful scan or deployment reached a retired host: it is in the fleet again.
    case reappeared
}
