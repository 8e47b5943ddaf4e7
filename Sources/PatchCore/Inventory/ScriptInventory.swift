import Foundation
import Yams

/// Ansible's dynamic inventory protocol: an executable run with `--list` prints
/// `{group: {hosts: [...], vars: {...}, children: [...]}, _meta: {hostvars: {host: {...}}}}`
/// (a group may also be a plain list of hosts); without `_meta`, `--host NAME` prints each
/// host's variables. `ansible-inventory --list` prints the same JSON, so a saved copy loads as
/// a file. Both are turned into the node tree of a YAML inventory for `InventoryParser`.
enum ScriptInventory {
    /// A script that has not answered by then is stopped: a hung cloud API must not hang a run.
    static let timeout: Double = 120
    /// The same byte limit as a YAML inventory file.
    static let maximumOutput = YAMLReader.Limits.standard.maxBytes

    /// A problem and where in the document it is (Yams nodes are not Sendable, errors are).
    struct Failure: Error {
        var line: Int?
        var column: Int?
        var message: String

        init(node: Node?, message: String) {
            line = node?.mark?.line
            column = node?.mark?.column
            self.message = message
        }
    }

    /// Whether a YAML/JSON file holds this format rather than Ansible's YAML inventory shape: it
    /// has `_meta`, as `ansible-inventory --list` prints. (A YAML inventory with `hosts:` written
    /// as a list is a mistake the YAML reader explains, so lists alone do not decide.)
    static func isScriptFormat(_ root: Node) -> Bool {
        guard case let .mapping(top) = root else { return false }
        return top.contains { $0.key.scalar?.string == "_meta" }
    }

    /// The inventory tree for `root`; `hostVars` is asked for hosts when there is no `_meta`
    /// (nil for files: then hosts have no variables of their own).
    static func tree(from root: Node, hostVars: ((String) throws(PatchError) -> Node?)?) throws(PatchError) -> Result<Node, Failure> {
        guard case let .mapping(top) = root else {
            return .failure(Failure(node: root, message: "expected a JSON object of groups, found \(YAMLNodes.kind(of: root))"))
        }
        var meta: Node.Mapping?
        var groups: [(key: Node, hosts: [Node], vars: Node?, children: [Node])] = []
        for (key, body) in top {
            guard let name = key.scalar?.string else {
                return .failure(Failure(node: key, message: "expected a group name, found \(YAMLNodes.kind(of: key))"))
            }
            if name == "_meta" {
                guard case let .mapping(mapping) = body else {
                    return .failure(Failure(node: body, message: "'_meta' must be an object with 'hostvars'"))
                }
                for (metaKey, _) in mapping where !["hostvars", "profile"].contains(metaKey.scalar?.string ?? "") {
                    return .failure(Failure(node: metaKey, message: "unknown key '\(metaKey.scalar?.string ?? "?")' in '_meta': only 'hostvars' is read"))
                }
                meta = mapping
                continue
            }
            switch body {
            case let .sequence(hosts):
                groups.append((key, Array(hosts), nil, []))
            case let .mapping(mapping):
                var entry: (key: Node, hosts: [Node], vars: Node?, children: [Node]) = (key, [], nil, [])
                if mapping.isEmpty {
                    // Ansible would make an empty group a host of the same name; say so instead.
                    return .failure(Failure(node: key, message: "group '\(name)' is empty: give it 'hosts', 'vars' or 'children' (or leave it out)"))
                }
                for (sectionKey, value) in mapping {
                    switch sectionKey.scalar?.string {
                    case "hosts":
                        guard case let .sequence(list) = value else {
                            return .failure(Failure(node: value, message: "'hosts' of group '\(name)' must be a list of host names, found \(YAMLNodes.kind(of: value))"))
                        }
                        entry.hosts = Array(list)
                    case "children":
                        guard case let .sequence(list) = value else {
                            return .failure(Failure(node: value, message: "'children' of group '\(name)' must be a list of group names, found \(YAMLNodes.kind(of: value))"))
                        }
                        entry.children = Array(list)
                    case "vars":
                        entry.vars = value
                    default:
                        return .failure(Failure(node: sectionKey, message: "unknown key '\(sectionKey.scalar?.string ?? "?")' in group '\(name)': only hosts, vars and children are allowed"))
                    }
                }
                groups.append(entry)
            default:
                return .failure(Failure(node: body, message: "group '\(name)' must be an object or a list of hosts, found \(YAMLNodes.kind(of: body))"))
            }
        }

        var hostVarsByName: [String: Node] = [:]
        var metaHosts: [(String, Node)] = []
        let hostvarsGiven = meta?.contains(where: { $0.key.scalar?.string == "hostvars" }) ?? false
        if let meta, let hostvars = meta.first(where: { $0.key.scalar?.string == "hostvars" })?.value {
            guard case let .mapping(mapping) = hostvars else {
                return .failure(Failure(node: hostvars, message: "'_meta.hostvars' must be an object of host: variables"))
            }
            for (host, vars) in mapping {
                guard let name = host.scalar?.string else { continue }
                hostVarsByName[name] = vars
                metaHosts.append((name, host))
            }
        }

        var attached = Set<String>()
        var sections: [(Node, Node)] = []
        for group in groups {
            var pairs: [(Node, Node)] = []
            var hostPairs: [(Node, Node)] = []
            for host in group.hosts {
                guard case let .scalar(scalar) = host, YAMLNodes.tag(of: host) == .str || YAMLNodes.tag(of: host) == .int else {
                    return .failure(Failure(node: host, message: "host names must be strings, found \(YAMLNodes.kind(of: host))"))
                }
                let name = scalar.string
                // Ansible takes these names literally; the YAML reader would read ranges and ports.
                if name.contains("[") || name.filter({ $0 == ":" }).count == 1 {
                    return .failure(Failure(node: host, message: "host name '\(name)' has '[' or a ':port', which this format does not read: give the port as ansible_port"))
                }
                var vars: Node?
                if attached.insert(name).inserted {
                    if let hostVars, !hostvarsGiven {
                        vars = try hostVars(name)
                    } else {
                        vars = hostVarsByName[name]
                    }
                }
                hostPairs.append((YAMLNodes.string(name, at: host.mark), vars ?? YAMLNodes.null(at: host.mark)))
            }
            let mark = group.key.mark
            if !hostPairs.isEmpty { pairs.append((YAMLNodes.string("hosts", at: mark), YAMLNodes.map(hostPairs, at: mark))) }
            if let vars = group.vars { pairs.append((YAMLNodes.string("vars", at: mark), vars)) }
            if !group.children.isEmpty {
                var childPairs: [(Node, Node)] = []
                for child in group.children {
                    guard case let .scalar(scalar) = child else {
                        return .failure(Failure(node: child, message: "group names must be strings, found \(YAMLNodes.kind(of: child))"))
                    }
                    childPairs.append((YAMLNodes.string(scalar.string, at: child.mark), YAMLNodes.null(at: child.mark)))
                }
                pairs.append((YAMLNodes.string("children", at: mark), YAMLNodes.map(childPairs, at: mark)))
            }
            sections.append((group.key, pairs.isEmpty ? YAMLNodes.null(at: mark) : YAMLNodes.map(pairs, at: mark)))
        }
        // Ansible drops them; a host with variables but no group is more likely a mistake.
        if let stray = metaHosts.first(where: { !attached.contains($0.0) }) {
            return .failure(Failure(node: stray.1, message: "host '\(stray.0)' has variables in '_meta.hostvars' but is in no group: list it under a group's 'hosts'"))
        }
        return .success(YAMLNodes.map(sections, at: root.mark))
    }

    // MARK: Running the script

    /// Runs `path` with `arguments` (no shell), in the script's folder, and returns its standard
    /// output; a non-zero exit, a timeout or too much output is an error naming the script.
    static func run(_ path: String, arguments: [String], timeout: Double = timeout) throws(PatchError) -> String {
        let command = ([path] + arguments).joined(separator: " ")
        func failure(_ message: String) -> PatchError {
            .inventory(file: path, line: nil, column: nil, message: "dynamic inventory '\(command)' \(message)")
        }
        let output = Pipe(), errors = Pipe()
        let start = {
            spawn(path, arguments, directory: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                  stdout: output.fileHandleForWriting.fileDescriptor, stderr: errors.fileHandleForWriting.fileDescriptor)
        }
        var started = start()
        // ETXTBSY: the script is still open for writing somewhere, typically in a process forked while
        // it was being written, until that child execs. That lasts moments: retried for up to a second.
        for _ in 0..<50 where started.1 == ETXTBSY {
            usleep(20_000)
            started = start()
        }
        let (pid, code) = started
        guard code == 0 else { throw failure("could not be started: \(String(cString: strerror(code)))") }
        // Our copies of the script's ends: the pipes end when the script (and what it started) does.
        try? output.fileHandleForWriting.close()
        try? errors.fileHandleForWriting.close()
        let reading = OutputCollector(limit: maximumOutput)
        let errorText = OutputCollector(limit: 4096)
        let group = DispatchGroup()
        for (pipe, collector) in [(output, reading), (errors, errorText)] {
            group.enter()
            DispatchQueue.global().async {
                collector.drain(pipe.fileHandleForReading) {
                    // Past the limit nothing more is read: stop the script instead of waiting (it is
                    // reaped only below, so the pid is still its own).
                    kill(pid, SIGKILL)
                }
                group.leave()
            }
        }
        let deadline = DispatchTime.now() + timeout
        var timedOut = false
        if group.wait(timeout: deadline) == .timedOut {
            timedOut = true
            kill(pid, SIGKILL)
            group.wait()
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        if timedOut { throw failure("did not finish within \(Int(timeout)) s") }
        if reading.overflowed { throw failure("printed more than \(maximumOutput >> 20) MiB") }
        let stderr = String(decoding: errorText.data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard signal == 0, (status >> 8) & 0xff == 0 else {
            let ended = signal == 0 ? "exited \((status >> 8) & 0xff)" : "was killed by signal \(signal)"
            throw failure(ended + (stderr.isEmpty ? "" : ": \(stderr.split(separator: "\n").last ?? "")"))
        }
        guard let text = String(data: reading.data, encoding: .utf8) else { throw failure("printed output that is not UTF-8") }
        return text
    }

    /// Starts the script in `directory` with stdin from /dev/null, with posix_spawn rather than
    /// Foundation's `Process`, whose `run()` (Swift 6.3.1) reads past glibc's readdir buffer when
    /// 1363 or more descriptors are open (the test process loads inventories too). Nothing of
    /// ours but the two pipes reaches the script. Returns its pid, and posix_spawn's error (0
    /// when it started).
    private static func spawn(_ path: String, _ arguments: [String], directory: String,
                              stdout: Int32, stderr: Int32) -> (pid: pid_t, code: Int32) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, stdout, 1)
        posix_spawn_file_actions_adddup2(&actions, stderr, 2)
        guard let closeFrom = addCloseFrom, let changeDirectory = addChdir else { return (0, ENOSYS) }
        _ = closeFrom(&actions, 3)
        _ = changeDirectory(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's `Process` did; not the caller's blocked signals.
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        return (pid, code)
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34) and _addchdir_np (2.29), declared
    /// only under _GNU_SOURCE, so looked up at run time.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// Reads a pipe to its end, keeping at most `limit` bytes.
    private final class OutputCollector: @unchecked Sendable {
        let limit: Int
        private(set) var data = Data()
        private(set) var overflowed = false

        init(limit: Int) { self.limit = limit }

        func drain(_ handle: FileHandle, onOverflow: () -> Void) {
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                if data.count + chunk.count > limit {
                    data.append(chunk.prefix(limit - data.count))
                    if !overflowed { overflowed = true; onOverflow() }
                    continue  // keep draining so the killed script's pipe closes
                }
                data.append(chunk)
            }
        }
    }
}
