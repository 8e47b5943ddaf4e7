import Foundation

/// What ssh_config sets for one host among the keywords patchctl honours, with OpenSSH's
/// defaults left out (nil: ssh_config says nothing that differs from OpenSSH's default), and the
/// settings patchctl refuses. Both readers (`ssh -G` and the built-in one) produce this, so the
/// tests compare them on it.
public struct SSHConfigSettings: Sendable, Equatable {
    public enum StrictHostKeyChecking: String, Sendable, Equatable {
        case yes, acceptNew = "accept-new", no
    }

    public struct Refused: Sendable, Equatable, CustomStringConvertible {
        public var keyword: String
        public var value: String
        public var reason: String
        public var origin: SSHConfigOrigin?
        public var description: String {
            "\(keyword) \(value) (\(origin.map { "ssh_config \($0)" } ?? "ssh_config")): \(reason)"
        }
    }

    /// The host name to connect to, when ssh_config names another than the inventory's.
    public var hostName: String?
    public var user: String?
    public var port: Int?
    /// As written: `~` and `%` tokens are expanded when applied.
    public var identityFiles: [String]?
    public var identitiesOnly: Bool?
    /// A socket path (expanded), `SSH_AUTH_SOCK`, `$VAR`, or `none`.
    public var identityAgent: String?
    public var proxyJump: String?
    /// Expanded, first file first.
    public var userKnownHostsFiles: [String]?
    public var strictHostKeyChecking: StrictHostKeyChecking?
    public var hostKeyAlgorithms: String?
    public var connectTimeout: Int?
    public var serverAliveInterval: Int?
    public var serverAliveCountMax: Int?
    public var refused: [Refused] = []
    /// Where each honoured keyword was written (built-in reader only); not compared.
    public var origins: [String: SSHConfigOrigin] = [:]
    /// OpenSSH's `%` tokens for this host, and the home `~` means (not compared).
    var tokens: [Character: String] = [:]
    var home = ""

    /// `~` and `%` tokens in a path, as ssh expands IdentityFile, UserKnownHostsFile and IdentityAgent.
    func expand(_ path: String) -> Result<String, SSHConfigMessage> {
        SSHConfigTokens.expandTilde(path, home: home).flatMap { SSHConfigTokens.expand($0, tokens) }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        var left = lhs, right = rhs
        left.origins = [:]
        right.origins = [:]
        left.tokens = [:]
        right.tokens = [:]
        for index in left.refused.indices { left.refused[index].origin = nil }
        for index in right.refused.indices { right.refused[index].origin = nil }
        return left.fields == right.fields
    }

    private var fields: [String] {
        [hostName ?? "-", user ?? "-", port.map(String.init) ?? "-", identityFiles?.joined(separator: "|") ?? "-",
         identitiesOnly.map { "\($0)" } ?? "-", identityAgent ?? "-", proxyJump ?? "-",
         userKnownHostsFiles?.joined(separator: "|") ?? "-", strictHostKeyChecking?.rawValue ?? "-", hostKeyAlgorithms ?? "-",
         connectTimeout.map(String.init) ?? "-", serverAliveInterval.map(String.init) ?? "-",
         serverAliveCountMax.map(String.init) ?? "-", refused.map { "\($0.keyword)=\($0.value)" }.sorted().joined(separator: "|")]
    }

    public init() {}

    /// From keyword → values (each value its arguments joined by one space, as `ssh -G` prints
    /// them). `defaults`: what OpenSSH prints for a host without configuration, for the keywords
    /// it always prints (`ssh -G`); nil for the built-in reader, whose map holds only what was written.
    init(values: [String: [String]], origins: [String: SSHConfigOrigin], query: SSHConfigQuery,
         local: SSHConfigReader.Local, defaults: [String: [String]]?) throws(SSHConfigError) {
        func written(_ keyword: String) -> [String]? {
            guard let value = values[keyword] else { return nil }
            if let defaults, defaults[keyword] == value { return nil }
            return value
        }
        func one(_ keyword: String) -> String? { written(keyword)?.first }
        func problem(_ keyword: String, _ message: String) -> SSHConfigError {
            if let origin = origins[keyword] { return SSHConfigError(origin, message) }
            return SSHConfigError(query.host, message)
        }
        func number(_ keyword: String, _ name: String, allowNone: Bool = false) throws(SSHConfigError) -> Int? {
            guard let text = one(keyword) else { return nil }
            if allowNone, text.lowercased() == "none" { return nil }
            guard let value = Int(text), value >= 0 else { throw problem(keyword, "\(name) must be a number, not '\(text)'") }
            return value
        }
        self.origins = origins

        if query.hostName == nil, let name = values["hostname"]?.first, name != query.host.lowercased() { hostName = name }
        if query.user == nil, let user = values["user"]?.first, user != local.user { self.user = user }
        if query.port == nil, let text = values["port"]?.first {
            guard let port = Int(text), (0...65535).contains(port) else { throw problem("port", "Port must be 1-65535, not '\(text)'") }
            if port != 22, port != 0 { self.port = port }
        }
        let finalHost = values["hostname"]?.first ?? query.hostName?.lowercased() ?? query.host.lowercased()
        let remoteUser = query.user ?? values["user"]?.first ?? local.user
        let short = String(local.hostName.prefix { $0 != "." })
        home = local.home
        tokens = ["h": finalHost, "p": String(query.port ?? port ?? 22), "r": remoteUser, "n": query.host, "d": local.home,
                  "u": local.user, "l": local.hostName, "L": short, "i": String(local.uid),
                  "k": values["hostkeyalias"]?.first ?? finalHost]
        func expanded(_ keyword: String, _ path: String) throws(SSHConfigError) -> String {
            switch expand(path) {
            case let .success(value): return value
            case let .failure(message): throw problem(keyword, message.description)
            }
        }
        if let files = written("identityfile"), !files.isEmpty { identityFiles = files }
        if let text = one("identitiesonly") {
            let yes = SSHConfigKeywords.isYes(text)
            if yes { identitiesOnly = true }
        }
        if let agent = one("identityagent") {
            identityAgent = agent == "SSH_AUTH_SOCK" || agent.hasPrefix("$") || agent.lowercased() == "none" ? agent : try expanded("identityagent", agent)
        }
        if let jump = one("proxyjump"), jump.lowercased() != "none" { proxyJump = jump }
        if let text = written("userknownhostsfile")?.first {
            var files: [String] = []
            for file in text.split(separator: " ") { files.append(try expanded("userknownhostsfile", String(file))) }
            let defaultFiles = [local.home + "/.ssh/known_hosts", local.home + "/.ssh/known_hosts2"]
            if files != defaultFiles, files.first?.lowercased() != "none" { userKnownHostsFiles = files }
        }
        if let text = one("stricthostkeychecking")?.lowercased() {
            switch text {
            case "yes", "true": strictHostKeyChecking = .yes
            case "accept-new": strictHostKeyChecking = .acceptNew
            case "no", "false", "off": strictHostKeyChecking = .no
            case "ask": break  // OpenSSH's default; patchctl cannot ask, so it refuses unknown keys (= yes)
            default: throw problem("stricthostkeychecking", "StrictHostKeyChecking must be yes, accept-new, no or ask, not '\(text)'")
            }
        }
        hostKeyAlgorithms = one("hostkeyalgorithms")
        connectTimeout = try number("connecttimeout", "ConnectTimeout", allowNone: true)
        if connectTimeout == 0 { connectTimeout = nil }
        serverAliveInterval = try number("serveraliveinterval", "ServerAliveInterval")
        if serverAliveInterval == 0 { serverAliveInterval = nil }
        serverAliveCountMax = try number("serveralivecountmax", "ServerAliveCountMax")
        if serverAliveCountMax == 3 { serverAliveCountMax = nil }

        for rule in SSHConfigKeywords.refusals {
            for value in values[rule.keyword] ?? [] where rule.applies(value) {
                if let defaults, defaults[rule.keyword]?.contains(value) == true { continue }
                refused.append(Refused(keyword: rule.name, value: value, reason: rule.reason, origin: origins[rule.keyword]))
                break
            }
        }
        // LocalCommand runs only with PermitLocalCommand yes; a ControlPath with ControlMaster no
        // means "use the master connection ssh opened" (often after Kerberos or 2FA).
        if let command = values["localcommand"]?.first, SSHConfigKeywords.isSet(command),
           let permit = values["permitlocalcommand"]?.first, SSHConfigKeywords.isYes(permit) {
            refused.append(Refused(keyword: "LocalCommand", value: command, reason: "patchctl does not run local commands",
                                   origin: origins["localcommand"]))
        }
        if let path = values["controlpath"]?.first, SSHConfigKeywords.isSet(path),
           ["no", "false"].contains((values["controlmaster"]?.first ?? "no").lowercased()) {
            refused.append(Refused(keyword: "ControlPath", value: path,
                                   reason: "this host relies on a master connection opened by ssh (ControlMaster no), which patchctl cannot use",
                                   origin: origins["controlpath"]))
        }
    }
}
