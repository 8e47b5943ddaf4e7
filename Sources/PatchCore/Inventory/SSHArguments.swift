/// `ansible_ssh_common_args` / `ansible_ssh_extra_args`, read as ssh's own command line (split
/// like a shell, as Ansible does): the options patchctl can honour become host settings, any
/// other option is an error that names it, because ignoring it could bypass a bastion or a
/// known_hosts file the user relies on.
///
/// Honoured: `-o ProxyJump=…` / `-J …`, `-o Port=` / `-p`, `-o User=` / `-l`,
/// `-o IdentityFile=` / `-i`, `-o UserKnownHostsFile=`, `-o StrictHostKeyChecking=`.
/// As in ssh, the first value given for an option wins.
public struct SSHArguments: Sendable, Hashable {
    public var proxyJump: [JumpHop]?
    public var port: Int?
    public var user: String?
    public var identityFile: String?
    public var knownHostsFile: String?
    public var hostKeyChecking: Host.HostKeyChecking?

    public init() {}

    /// Options are case-insensitive, as in ssh_config.
    static let optionNames = ["proxyjump", "port", "user", "identityfile", "userknownhostsfile", "stricthostkeychecking"]

    static func parse(_ text: String, name: String, context: ValueContext) -> Result<SSHArguments, InventoryProblem> {
        let words: [String]
        do {
            words = try ShellWords.split(text).map(\.text)
        } catch {
            return .failure(InventoryProblem("'\(name)' cannot be split like a command line: \(error.message)"))
        }
        var result = SSHArguments()
        var index = 0
        func fail(_ message: String) -> Result<SSHArguments, InventoryProblem> {
            .failure(InventoryProblem("'\(name)': \(message)"))
        }
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("-"), word.count >= 2 else {
                return fail("unexpected '\(word)': only ssh options (-o Name=value, -J, -p, -l, -i) are allowed here")
            }
            let flag = word.dropFirst().first!
            // `-p 22` or `-p22`, as ssh's getopt reads them.
            var value: String
            if word.count > 2 {
                value = String(word.dropFirst(2))
            } else {
                guard "oJpli".contains(flag) else {
                    return fail("ssh option '\(word)' is not supported by patchctl (supported: -o ProxyJump/Port/User/IdentityFile/UserKnownHostsFile/StrictHostKeyChecking, -J, -p, -l, -i)")
                }
                guard index < words.count else { return fail("'\(word)' needs a value") }
                value = words[index]
                index += 1
            }
            var option: String
            switch flag {
            case "o":
                // `-o Name=value` or `-o "Name value"`.
                let separator = value.firstIndex { $0 == "=" || $0 == " " || $0 == "\t" }
                guard let separator else { return fail("'-o \(value)' has no value (write -o Name=value)") }
                let written = String(value[..<separator])
                option = written.lowercased()
                value = value[value.index(after: separator)...].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("=") { value = value.dropFirst().trimmingCharacters(in: .whitespaces) }
                guard optionNames.contains(option) else {
                    return fail("ssh option '-o \(written)' is not supported by patchctl; it honours ProxyJump, Port, User, IdentityFile, UserKnownHostsFile and StrictHostKeyChecking (use connection: openssh for others if your patchctl has it)")
                }
            case "J": option = "proxyjump"
            case "p": option = "port"
            case "l": option = "user"
            case "i": option = "identityfile"
            default:
                return fail("ssh option '-\(flag)' is not supported by patchctl (supported: -o ProxyJump/Port/User/IdentityFile/UserKnownHostsFile/StrictHostKeyChecking, -J, -p, -l, -i)")
            }
            guard !value.isEmpty else { return fail("option \(option) has an empty value") }
            switch option {
            case "proxyjump":
                guard result.proxyJump == nil else { continue }
                do {
                    result.proxyJump = try JumpHop.parseList(value)
                } catch {
                    return fail(error.description)
                }
            case "port":
                guard result.port == nil else { continue }
                guard let port = Int(value), (1...65_535).contains(port) else { return fail("port '\(value)' must be from 1 to 65535") }
                result.port = port
            case "user":
                if result.user == nil { result.user = value }
            case "identityfile":
                guard result.identityFile == nil else { continue }
                switch ConnectionKey.resolvePath(value, name: name, context: context) {
                case let .success(path): result.identityFile = path
                case let .failure(problem): return .failure(problem)
                }
            case "userknownhostsfile":
                guard result.knownHostsFile == nil else { continue }
                let files = value.split(separator: " ")
                guard files.count == 1 else { return fail("UserKnownHostsFile with several files is not supported; give one file") }
                switch ConnectionKey.resolvePath(value, name: name, context: context) {
                case let .success(path): result.knownHostsFile = path
                case let .failure(problem): return .failure(problem)
                }
            default:  // stricthostkeychecking
                guard result.hostKeyChecking == nil else { continue }
                guard let checking = Host.HostKeyChecking(sshValue: value) else {
                    return fail("StrictHostKeyChecking must be yes, accept-new, no or ask, found '\(value)'")
                }
                result.hostKeyChecking = checking
            }
        }
        return .success(result)
    }

    /// `first` wins where both set an option (ssh's first-value-wins across its command line).
    func merged(before later: SSHArguments) -> SSHArguments {
        var result = self
        result.proxyJump = proxyJump ?? later.proxyJump
        result.port = port ?? later.port
        result.user = user ?? later.user
        result.identityFile = identityFile ?? later.identityFile
        result.knownHostsFile = knownHostsFile ?? later.knownHostsFile
        result.hostKeyChecking = hostKeyChecking ?? later.hostKeyChecking
        return result
    }
}
