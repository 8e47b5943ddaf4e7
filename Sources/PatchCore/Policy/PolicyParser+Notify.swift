import Foundation
import Yams

extension PolicyParser {
    static let notifyKinds = ["webhook", "slack", "mail", "command"]
    static let notifyKeys = notifyKinds + ["on", "secret_env", "sendmail"]

    /// `notify:`, a list of targets, each one kind with its options:
    /// `- {webhook: URL, secret_env: VAR, on: [failure, changes]}`, `- {slack: URL}`,
    /// `- {mail: [ADDRESS…], sendmail: PATH}`, `- {command: LINE}`; `on` defaults to failure.
    func notifiers(_ node: Node?) throws(PatchError) -> [Notifier] {
        guard let node else { return [] }
        guard case let .sequence(sequence) = node else {
            throw failure(at: node, "'notify' must be a list of targets (- webhook: URL, - slack: URL, - mail: ADDRESS, - command: LINE), found \(YAMLNodes.kind(of: node))")
        }
        var notifiers: [Notifier] = []
        for (index, item) in sequence.enumerated() {
            let owner = "notify entry \(index + 1)"
            guard case .mapping = item else {
                throw failure(at: item, "\(owner) must be a map such as {webhook: https://…, on: [failure]}, found \(YAMLNodes.kind(of: item))")
            }
            let fields = try fields(of: item, in: owner, allowed: Self.notifyKeys)
            let kinds = Self.notifyKinds.filter { fields.entries[$0] != nil }
            guard kinds.count == 1, let kind = kinds.first, let value = fields.value(kind) else {
                throw failure(at: item, "\(owner) needs exactly one of \(Self.listing(Self.notifyKinds, "or"))"
                    + (kinds.count > 1 ? ", found \(kinds.joined(separator: " and "))" : ""))
            }
            var conditions = Notifier.defaultConditions
            if let on = fields.value("on") {
                conditions = []
                for (text, node) in try strings(on, label: "on") {
                    guard let condition = Notifier.Condition(rawValue: text.lowercased()) else {
                        throw failure(at: node, "unknown condition '\(text)' in \(owner): expected failure, changes or always")
                    }
                    conditions.insert(condition)
                }
                if conditions.isEmpty { throw failure(at: on, "'on' in \(owner) lists no condition: expected failure, changes or always") }
            }
            for option in ["secret_env", "sendmail"] where fields.entries[option] != nil {
                let owner = option == "secret_env" ? "webhook" : "mail"
                if kind != owner { throw failure(at: fields.key(option), "'\(option)' belongs to a \(owner) target, not \(kind)") }
            }
            // The values as written (a YAML error names its node), then checked as `--notify`'s are.
            let text = kind == "mail" ? "" : try nonEmptyString(value, label: kind)
            let addresses = kind == "mail" ? try strings(value, label: kind).map(\.text) : []
            let secret = try fields.value("secret_env").map { node throws(PatchError) in try nonEmptyString(node, label: "secret_env") }
            let sendmail = try fields.value("sendmail").map { node throws(PatchError) in try nonEmptyString(node, label: "sendmail") }
            if let sendmail, !sendmail.hasPrefix("/") {
                throw failure(at: fields.value("sendmail"), "'sendmail' must be an absolute path, found '\(sendmail)'")
            }
            let target: Notifier.Target
            do throws(NotifierError) {
                switch kind {
                case "webhook": target = .webhook(url: try Notifier.url(text), secretEnv: try secret.map(Notifier.variableName))
                case "slack": target = .slack(url: try Notifier.url(text))
                case "mail": target = .mail(to: try Notifier.addresses(addresses), sendmail: sendmail ?? Notifier.defaultSendmail)
                default: target = .command(try Notifier.commandLine(text))
                }
            } catch {
                throw failure(at: value, "\(owner): \(error.description)")
            }
            notifiers.append(Notifier(target: target, on: conditions))
        }
        return notifiers
    }
}
