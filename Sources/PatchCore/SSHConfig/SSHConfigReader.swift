import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The built-in ssh_config reader, for machines without an OpenSSH client: readconf.c's
/// semantics in Swift. `Host` (patterns, `!` negation), `Match` (all, canonical, final, host,
/// originalhost, user, localuser, exec), `Include` (globs, relative to ~/.ssh, inside a block
/// too), first value wins, and OpenSSH's second pass when a `Match final` (or
/// CanonicalizeHostname) asks for one, with `Host` then matching the final host name. DNS
/// canonicalisation is not done. Files are read once per run and bounded (size, lines, Include
/// depth and count); `Match exec` runs through the user's shell as OpenSSH does, bounded in time.
public final class SSHConfigReader: @unchecked Sendable {
    /// The local facts OpenSSH uses: home (`~`, `%d`, relative Includes), user (`%u`, `Match
    /// localuser`, default login), shell (`Match exec`).
    public struct Local: Sendable {
        public var home: String
        public var user: String
        public var uid: UInt32
        public var hostName: String
        public var shell: String
        public var execTimeout: Double

        public init(home: String, user: String, uid: UInt32 = getuid(), hostName: String = ProcessInfo.processInfo.hostName,
                    shell: String = "/bin/sh", execTimeout: Double = 10) {
            self.home = home
            self.user = user
            self.uid = uid
            self.hostName = hostName
            self.shell = shell
            self.execTimeout = execTimeout
        }

        /// As OpenSSH: the password database's home and name for our uid (HOME only if it has none).
        public static func current(environment: [String: String]) -> Local {
            var home = environment["HOME"] ?? NSHomeDirectory()
            var user = environment["USER"] ?? "root"
            if let entry = getpwuid(getuid()) {
                home = String(cString: entry.pointee.pw_dir)
                user = String(cString: entry.pointee.pw_name)
            }
            let shell = environment["SHELL"].flatMap { $0.isEmpty ? nil : $0 } ?? "/bin/sh"
            return Local(home: home, user: user, shell: shell)
        }
    }

    /// OpenSSH's READCONF_MAX_DEPTH.
    static let maxIncludeDepth = 16
    /// Files one evaluation may open (Includes of Includes…).
    static let maxFilesPerHost = 512

    public let path: String
    public let local: Local
    private let lock = NSLock()
    private var cache: [String: Result<[SSHConfigLine]?, SSHConfigError>] = [:]

    public init(path: String, local: Local) {
        self.path = path
        self.local = local
    }

    /// Every keyword in force for `query`, with where it was written.
    public func entries(for query: SSHConfigQuery) throws(SSHConfigError) -> SSHConfigEntries {
        var state = State(host: query.host, original: query.host, final: false)
        if let user = query.user { state.entries.record("user", [user], origin: nil) }
        if let port = query.port { state.entries.record("port", [String(port)], origin: nil) }
        if let hostName = query.hostName { state.entries.record("hostname", [hostName], origin: nil) }
        guard let lines = try load(path) else { throw SSHConfigError(path, "no such file") }
        var active = true
        try process(lines, state: &state, active: &active, neverMatch: false, depth: 0)
        let canonicalize = state.entries.first("canonicalizehostname")?.arguments.first?.lowercased()
        let hostName = try finalHostName(state)
        if state.wantFinal || (canonicalize != nil && canonicalize != "no" && canonicalize != "false") {
            // ssh.c: options.hostname becomes the expanded, lowercased name; the whole file is read
            // again with it as the host that `Host` patterns see.
            var second = State(host: hostName, original: query.host, final: true)
            second.entries = state.entries
            second.entries.values["hostname"] = [Entry(arguments: [hostName], origin: state.entries.first("hostname")?.origin)]
            var active = true
            try process(lines, state: &second, active: &active, neverMatch: false, depth: 0)
            state = second
        } else {
            state.entries.values["hostname"] = [Entry(arguments: [hostName], origin: state.entries.first("hostname")?.origin)]
        }
        return state.entries
    }

    typealias Entry = SSHConfigEntries.Entry

    private struct State {
        var host: String
        let original: String
        let final: Bool
        var wantFinal = false
        var files = 0
        var entries = SSHConfigEntries()
    }

    private func finalHostName(_ state: State) throws(SSHConfigError) -> String {
        guard let entry = state.entries.first("hostname"), let value = entry.arguments.first else { return state.original.lowercased() }
        switch SSHConfigTokens.expand(value, ["h": state.original]) {
        case let .success(name): return name.lowercased()
        case let .failure(message): throw entry.origin.map { SSHConfigError($0, "HostName: \(message)") } ?? SSHConfigError(path, "HostName: \(message)")
        }
    }

    private func load(_ file: String) throws(SSHConfigError) -> [SSHConfigLine]? {
        lock.lock()
        defer { lock.unlock() }
        if let known = cache[file] { return try known.get() }
        let result: Result<[SSHConfigLine]?, SSHConfigError>
        do { result = .success(try SSHConfigFile.read(file)) } catch { result = .failure(error) }
        cache[file] = result
        return try result.get()
    }

    private func process(_ lines: [SSHConfigLine], state: inout State, active: inout Bool, neverMatch: Bool, depth: Int) throws(SSHConfigError) {
        for line in lines {
            switch line.keyword {
            case "host":
                active = false
                if neverMatch { continue }
                for pattern in line.arguments {
                    guard !pattern.isEmpty else { throw SSHConfigError(line.origin, "Host: empty argument") }
                    let negated = pattern.hasPrefix("!")
                    if SSHPattern.matches(state.host, negated ? String(pattern.dropFirst()) : pattern) {
                        if negated { active = false; break }
                        active = true
                    }
                }
            case "match":
                let matched = try match(line, state: &state)
                active = neverMatch ? false : matched
            case "include":
                try include(line, state: &state, active: &active, neverMatch: neverMatch, depth: depth)
            default:
                guard SSHConfigKeywords.known.contains(line.keyword) else {
                    if let ignored = state.entries.first("ignoreunknown")?.arguments.first,
                       SSHPattern.matchList(line.keyword, ignored, lowercase: true) == 1 { continue }
                    throw SSHConfigError(line.origin, "Bad configuration option: \(line.keyword)")
                }
                if active { state.entries.record(line.keyword, line.arguments, origin: line.origin) }
            }
        }
    }

    private func include(_ line: SSHConfigLine, state: inout State, active: inout Bool, neverMatch: Bool, depth: Int) throws(SSHConfigError) {
        guard depth < Self.maxIncludeDepth else { throw SSHConfigError(line.origin, "too many nested Includes (more than \(Self.maxIncludeDepth))") }
        let wasActive = active
        for argument in line.arguments {
            var pattern = argument
            if pattern.hasPrefix("~") {
                switch SSHConfigTokens.expandTilde(pattern, home: local.home) {
                case let .success(path): pattern = path
                case let .failure(message): throw SSHConfigError(line.origin, "Include: \(message)")
                }
            } else if !pattern.hasPrefix("/") {
                pattern = local.home + "/.ssh/" + pattern  // user configurations: relative to ~/.ssh
            }
            for file in Self.glob(pattern) {
                state.files += 1
                guard state.files <= Self.maxFilesPerHost else {
                    throw SSHConfigError(line.origin, "Include: more than \(Self.maxFilesPerHost) files")
                }
                try Self.checkPermissions(file, origin: line.origin, uid: local.uid)
                guard let lines = try load(file) else { continue }
                try process(lines, state: &state, active: &active, neverMatch: neverMatch || !wasActive, depth: depth + 1)
                active = wasActive  // a Match in an included file does not change the including block
            }
        }
    }

    /// Sorted paths matching `pattern` (glob(3)); none when nothing matches.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }

    /// OpenSSH refuses included files that others may write (secure_permissions).
    static func checkPermissions(_ file: String, origin: SSHConfigOrigin, uid: UInt32) throws(SSHConfigError) {
        var info = stat()
        guard stat(file, &info) == 0 else { return }
        if (info.st_uid != 0 && info.st_uid != uid) || (info.st_mode & 0o022) != 0 {
            throw SSHConfigError(origin, "Include \(file): bad owner or permissions (OpenSSH refuses it too)")
        }
    }

    /// readconf.c's match_cfg_line.
    private func match(_ line: SSHConfigLine, state: inout State) throws(SSHConfigError) -> Bool {
        let entries = state.entries
        let port = entries.first("port")?.arguments.first.flatMap { Int($0) } ?? 22
        let remoteUser = entries.first("user")?.arguments.first ?? local.user
        var host = state.original
        if state.final {
            host = entries.first("hostname")?.arguments.first ?? state.host
        } else if let hostName = entries.first("hostname")?.arguments.first {
            switch SSHConfigTokens.expand(hostName, ["h": state.original]) {
            case let .success(name): host = name
            case let .failure(message): throw SSHConfigError(line.origin, "HostName: \(message)")
            }
        }
        var arguments = line.arguments[...]
        var result = true
        var attributes = 0
        while let first = arguments.popFirst() {
            let negate = first.hasPrefix("!")
            let attribute = (negate ? String(first.dropFirst()) : first).lowercased()
            if attribute == "all" {
                guard attributes <= 1, arguments.isEmpty else {
                    throw SSHConfigError(line.origin, "Match: 'all' cannot be combined with other Match attributes")
                }
                return result && !negate
            }
            attributes += 1
            if attribute == "canonical" || attribute == "final" {
                if attribute == "final" { state.wantFinal = true }
                if state.final == negate { result = false }
                continue
            }
            guard let criteria = arguments.popFirst(), !criteria.isEmpty else {
                throw SSHConfigError(line.origin, "Match: missing criteria for \(attribute)")
            }
            let matched: Bool
            switch attribute {
            case "host": matched = SSHPattern.matchHostname(host, criteria)
            case "originalhost": matched = SSHPattern.matchHostname(state.original, criteria)
            case "user": matched = SSHPattern.matchList(remoteUser, criteria, lowercase: false) == 1
            case "localuser": matched = SSHPattern.matchList(local.user, criteria, lowercase: false) == 1
            case "exec":
                // Not run once an earlier criterion failed (as OpenSSH).
                guard result else { continue }
                let short = String(local.hostName.prefix { $0 != "." })
                let tokens: [Character: String] = [
                    "h": host, "n": state.original, "p": String(port), "r": remoteUser, "u": local.user, "d": local.home,
                    "l": local.hostName, "L": short, "i": String(local.uid), "k": entries.first("hostkeyalias")?.arguments.first ?? host,
                ]
                switch SSHConfigTokens.expand(criteria, tokens) {
                case let .success(command): matched = try run(command, origin: line.origin)
                case let .failure(message): throw SSHConfigError(line.origin, "Match exec: \(message)")
                }
            default:
                throw SSHConfigError(line.origin, "Match \(attribute) is not supported by patchctl's built-in ssh_config reader (install openssh-client so `ssh -G` reads it)")
            }
            if matched == negate { result = false }
        }
        guard attributes > 0 else { throw SSHConfigError(line.origin, "Match: one or more attributes required") }
        return result
    }

    /// `Match exec`: the user's shell, stdin and stdout on /dev/null, true on exit status 0.
    private func run(_ command: String, origin: SSHConfigOrigin) throws(SSHConfigError) -> Bool {
        switch BoundedProcess.run(local.shell, ["-c", command], timeout: local.execTimeout, maxOutput: 0) {
        case let .success(output): return output.status == 0
        case let .failure(message): throw SSHConfigError(origin, "Match exec '\(command)': \(message)")
        }
    }
}
