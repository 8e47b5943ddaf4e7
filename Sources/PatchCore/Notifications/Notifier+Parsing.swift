import Foundation

extension Notifier {
    /// `--notify KIND=TARGET`: `webhook=URL`, `slack=URL`, `mail=ADDRESS[,ADDRESS…]` or
    /// `command=LINE`. The flags' `--notify-on` applies to all of them, `--notify-secret-env` to the webhooks;
    /// `sendmail` is the program mail goes through (`PATCHCTL_SENDMAIL`, else /usr/sbin/sendmail).
    public init(argument: String, on: Set<Condition>, secretEnv: String?, sendmail: String = Notifier.defaultSendmail) throws(NotifierError) {
        guard let equals = argument.firstIndex(of: "=") else {
            throw NotifierError("'\(argument)' is not KIND=TARGET (webhook=URL, slack=URL, mail=ADDRESS, command=LINE)")
        }
        let kind = String(argument[..<equals]).lowercased(), value = String(argument[argument.index(after: equals)...])
        let target: Target
        switch kind {
        case "webhook": target = .webhook(url: try Self.url(value), secretEnv: try secretEnv.map(Self.variableName))
        case "slack": target = .slack(url: try Self.url(value))
        case "mail", "email": target = .mail(to: try Self.addresses(value.split(separator: ",").map(String.init)), sendmail: sendmail)
        case "command": target = .command(try Self.commandLine(value))
        default:
            throw NotifierError("unknown notification kind '\(kind)': expected webhook, slack, mail or command")
        }
        self.init(target: target, on: on)
    }

    /// The conditions from `--notify-on failure,changes`.
    public static func conditions(_ text: String) throws(NotifierError) -> Set<Condition> {
        var conditions: Set<Condition> = []
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let condition = Condition(rawValue: word) else {
                throw NotifierError("unknown condition '\(word)': expected failure, changes or always")
            }
            conditions.insert(condition)
        }
        guard !conditions.isEmpty else { throw NotifierError("no condition given: expected failure, changes or always") }
        return conditions
    }

    /// An http(s) URL with a host, and no credentials in it (they would be printed and stored).
    static func url(_ text: String) throws(NotifierError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let parts = URLComponents(string: trimmed), let scheme = parts.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = parts.host, !host.isEmpty else {
            throw NotifierError("'\(trimmed)' is not an http:// or https:// URL")
        }
        guard parts.user == nil, parts.password == nil else {
            throw NotifierError("\(Notifier.redacted(trimmed)): no user or password in the URL; webhooks are signed with a secret from the environment instead")
        }
        return trimmed
    }

    /// Plain addresses only: nothing that could add a header or a recipient (no spaces, commas,
    /// angle brackets, quotes or control characters), and never an option for sendmail.
    static func addresses(_ list: [String]) throws(NotifierError) -> [String] {
        let addresses = list.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !addresses.isEmpty else { throw NotifierError("mail needs at least one address") }
        for address in addresses {
            let parts = address.split(separator: "@", omittingEmptySubsequences: false)
            let allowed = address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && !"<>()[],;:\"\\".unicodeScalars.contains($0) }
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
                  !address.hasPrefix("-"), allowed else {
                throw NotifierError("'\(address)' is not a mail address patchctl sends to (user@example.com)")
            }
        }
        return addresses
    }

    /// `PATCHCTL_SENDMAIL`: another sendmail-compatible program, by absolute path.
    public static func sendmail(_ text: String?) throws(NotifierError) -> String {
        guard let text, !text.isEmpty else { return defaultSendmail }
        guard text.hasPrefix("/") else { throw NotifierError("PATCHCTL_SENDMAIL must be an absolute path, found '\(text)'") }
        return text
    }

    static func commandLine(_ text: String) throws(NotifierError) -> String {
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { throw NotifierError("command needs a command line") }
        guard !text.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
            throw NotifierError("the command must be one line")
        }
        return text
    }

    static func variableName(_ text: String) throws(NotifierError) -> String {
        func letter(_ c: Unicode.Scalar) -> Bool { c == "_" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        guard let first = text.unicodeScalars.first, letter(first),
              text.unicodeScalars.allSatisfy({ letter($0) || ("0"..."9").contains($0) }) else {
            throw NotifierError("'\(text)' is not an environment variable name")
        }
        return text
    }
}

/// A notification target that cannot be used as given.
public struct NotifierError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
