/// Every error PatchCore reports. Each case carries where it happened so the CLI can print
/// one precise line without further context.
public enum PatchError: Error, CustomStringConvertible, Equatable {
    /// Invalid inventory file: `line`/`column` are 1-based and nil when the problem is the whole file.
    case inventory(file: String, line: Int?, column: Int?, message: String)
    /// Invalid deploy policy file, or a policy name that was not found: positions as for `inventory`.
    case policy(file: String, line: Int?, column: Int?, message: String)
    /// Invalid `--limit` pattern (or a pattern read from an `@file`).
    case pattern(pattern: String, message: String)
    /// The history database could not be opened, migrated or written.
    case store(path: String, message: String)
    /// A run id that does not exist in history.
    case runNotFound(String)
    /// A remote command's output could not be understood.
    case parse(host: String, command: String, message: String)
    /// The endpoint's operating system is not one patchctl manages.
    case unsupportedPlatform(host: String, detail: String)
    /// A credential could not be obtained (missing env var, failing password_command...).
    case credential(host: String, message: String)
    /// Another deployment of the same policy is running.
    case locked(policy: String, holder: String)
    /// A deploy request that cannot be carried out as asked (unknown ring, nothing to resume...).
    case deploy(message: String)
    /// The package library refused or failed an operation; `file` is the package file involved, if any.
    case repository(file: String?, message: String)
    /// Invalid compliance rule set file, or a standard that was not found: positions as for `inventory`.
    case ruleSet(file: String, line: Int?, column: Int?, message: String)
    /// A report, exception or diff request that cannot be answered (unknown exception id, nothing to compare...).
    case report(message: String)
    /// `--retry-failed` names a run of another kind, or history has no run to retry.
    case retry(message: String)
    /// Invalid configuration file (`/etc/patchctl/config.yml`, the user's), or an invalid
    /// `PATCHCTL_*` variable (`file` is then `$NAME`): positions as for `inventory`.
    case config(file: String, line: Int?, column: Int?, message: String)
    /// Several mistakes of one file, found in one pass (a policy's): one line each, in file order.
    indirect case several([PatchError])

    public var description: String {
        switch self {
        case let .inventory(file, line, column, message), let .policy(file, line, column, message),
             let .ruleSet(file, line, column, message), let .config(file, line, column, message):
            var location = file
            if let line { location += ":\(line)" }
            if let column { location += ":\(column)" }
            return "\(location): \(message)"
        case let .several(errors):
            return errors.map(\.description).joined(separator: "\n")
        case let .pattern(pattern, message):
            return "invalid host pattern '\(pattern)': \(message)"
        case let .store(path, message):
            return "history database \(path): \(message)"
        case let .runNotFound(id):
            return "no run with id '\(id)' in history"
        case let .parse(host, command, message):
            return "\(host): cannot parse output of \(command): \(message)"
        case let .unsupportedPlatform(host, detail):
            return "\(host): unsupported platform (\(detail))"
        case let .credential(host, message):
            return "\(host): \(message)"
        case let .locked(policy, holder):
            return "policy \(policy) is already being deployed (\(holder)); not starting a second run"
        case let .deploy(message), let .report(message), let .retry(message):
            return message
        case let .repository(file, message):
            return file.map { "\($0): \(message)" } ?? message
        }
    }
}
