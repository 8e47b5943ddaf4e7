import Foundation
import PatchSSH
#if canImport(Glibc)
import Glibc
#endif

/// What `patchctl discover` is asked to do.
public struct DiscoveryRequest: Sendable {
    public var targets: DiscoveryTargets
    /// 5985 is WinRM over HTTP, 5986 over HTTPS; every other port is taken for SSH.
    public var ports: [Int]
    /// Connection attempts in flight at most.
    public var rate: Int
    /// Seconds for each connection attempt, and for each key exchange or HTTP probe on it.
    public var timeout: Double
    public var reverseDNS: Bool
    /// Log in to each SSH host found and run the detection part of a scan. Host keys are checked
    /// against the ones this sweep just collected.
    public var login: ConnectionOptions?
    public var forks: Int
    /// Only say which ports accept a connection (nmap -sT's answer): no banner, no key exchange,
    /// no WS-Management request.
    public var portsOnly: Bool

    public init(targets: DiscoveryTargets, ports: [Int] = [22, 5985, 5986], rate: Int = 100, timeout: Double = 3,
                reverseDNS: Bool = true, login: ConnectionOptions? = nil, forks: Int = 50, portsOnly: Bool = false) {
        self.portsOnly = portsOnly
        self.targets = targets
        self.ports = ports
        self.rate = rate
        self.timeout = timeout
        self.reverseDNS = reverseDNS
        self.login = login
        self.forks = forks
    }

    public static func isWinRM(_ port: Int) -> Bool { port == 5985 || port == 5986 }
}

/// Sweeps the request's addresses with TCP connects on the reactor (no raw sockets, no root),
/// collects SSH banners and host keys as ssh-keyscan does, asks WinRM ports whether they speak
/// WS-Management, then resolves names and (with a login) detects each SSH host's OS.
public struct DiscoveryRunner: Sendable {
    public let request: DiscoveryRequest

    public init(request: DiscoveryRequest) {
        self.request = request
    }

    /// Progress: addresses finished so far and hosts found among them.
    public typealias ProgressObserver = @Sendable (_ swept: Int, _ found: Int) -> Void

    /// The hosts found, and the probes that failed on this machine (descriptors, buffers): a sweep
    /// with such failures is incomplete, and says so.
    public struct Outcome: Sendable {
        public var hosts: [DiscoveredHost]
        public var localErrors: Int
        public var firstLocalError: String?
    }

    public func run(onProgress: @escaping ProgressObserver = { _, _ in }) async -> Outcome {
        var (hosts, localErrors, firstLocalError) = await sweep(onProgress: onProgress)
        if request.reverseDNS {
            let names = await Self.reverseNames(hosts.map(\.address), inFlight: min(request.rate, 32))
            for index in hosts.indices { hosts[index].name = names[hosts[index].address] }
        }
        if let login = request.login { hosts = await detect(hosts, options: login) }
        return Outcome(hosts: hosts, localErrors: localErrors, firstLocalError: firstLocalError)
    }

    // MARK: - Sweep

    private enum Probe: Sendable {
        case ssh(SSHServiceRecord)
        case winrm(WinRMServiceRecord)
        case open
        case closed
        /// The connect failed here, not at the other end (EMFILE, ENOBUFS…): nothing is known.
        case localError(String)
    }

    private func sweep(onProgress: @escaping ProgressObserver) async -> ([DiscoveredHost], Int, String?) {
        let targets = request.targets
        let ports = request.ports
        let timeout = request.timeout
        let portsOnly = request.portsOnly
        let window = max(1, request.rate)
        return await withTaskExecutorPreference(Reactor.shared) {
            await withTaskGroup(of: (Int, Int, Int, Probe).self) { group in
                var found: [Int: DiscoveredHost] = [:]
                var pending: [Int: Int] = [:]
                var swept = 0
                var inFlight = 0
                var localErrors = 0
                var firstLocalError: String?
                func collect(_ result: (Int, Int, Int, Probe)) {
                    let (key, segment, port, probe) = result
                    inFlight -= 1
                    func answered(_ add: (inout DiscoveredHost) -> Void) {
                        var host = found[key] ?? DiscoveredHost(address: targets.segments[segment].address(at: Self.offset(key)),
                                                               network: targets.segments[segment].label)
                        add(&host)
                        found[key] = host
                    }
                    switch probe {
                    case .closed: break
                    case let .localError(why):
                        localErrors += 1
                        if firstLocalError == nil { firstLocalError = why }
                    case let .ssh(record): answered { $0.ssh.append(record) }
                    case let .winrm(record): answered { $0.winrm.append(record) }
                    case .open: answered { $0.openPorts.append(port) }
                    }
                    pending[key, default: ports.count] -= 1
                    if pending[key] == 0 {
                        pending[key] = nil
                        swept += 1
                        onProgress(swept, found.count)
                    }
                }
                for (segmentIndex, segment) in targets.segments.enumerated() {
                    for offset in 0..<segment.count {
                        let key = Self.key(segment: segmentIndex, offset: offset)
                        let address = segment.address(at: offset)
                        for port in ports {
                            while inFlight >= window, let result = await group.next() { collect(result) }
                            inFlight += 1
                            group.addTask {
                                (key, segmentIndex, port, await Self.probe(address: address, port: port, timeout: timeout, portsOnly: portsOnly))
                            }
                        }
                    }
                }
                while let result = await group.next() { collect(result) }
                let hosts = found.sorted { $0.key < $1.key }.map { entry in
                    var host = entry.value
                    host.ssh.sort { $0.port < $1.port }
                    host.winrm.sort { $0.port < $1.port }
                    host.openPorts.sort()
                    return host
                }
                return (hosts, localErrors, firstLocalError)
            }
        }
    }

    /// Segment and offset in one sortable number: argument order, then address order.
    private static func key(segment: Int, offset: Int) -> Int { segment << 32 | offset }
    private static func offset(_ key: Int) -> Int { key & 0xFFFF_FFFF }

    private static func probe(address: String, port: Int, timeout: Double, portsOnly: Bool) async -> Probe {
        switch await PortProbe.connect(address: address, port: port, timeout: timeout) {
        case let .open(socket) where portsOnly:
            Reactor.shared.forget(fd: socket)
            close(socket)
            return .open
        case let .open(socket):
            if DiscoveryRequest.isWinRM(port) {
                Reactor.shared.forget(fd: socket)
                close(socket)
                return .winrm(await WSManProbe.probe(address: address, port: port, https: port == 5986, timeout: timeout))
            }
            let scan = await HostKeyScanner.scan(address: address, port: port, socket: socket, timeout: timeout)
            return .ssh(SSHServiceRecord(port: port, banner: scan.banner.map { TerminalText.neutralised($0) }, keys: scan.keys, error: scan.error))
        case let .failed(why):
            return .localError("\(address) port \(port): \(why)")
        case .refused, .unreachable, .timeout:
            return .closed
        }
    }

    /// Raises this process's descriptor limit to its hard limit and returns how many connection
    /// attempts fit in it (each holds one socket, the WinRM probe's HTTP client one more), so a
    /// large `--rate` never turns into "Too many open files" counted as closed ports.
    public static func descriptorBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 100 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let available = limit.rlim_cur == rlim_t.max ? 1 << 20 : Int(min(limit.rlim_cur, 1 << 20))
        return max(1, (available - 128) / 2)
    }

    // MARK: - Names

    /// Reverse DNS of each address (PTR through the system's resolver, as `getent hosts` does), a
    /// few at a time; a name that is not a valid host name is dropped rather than printed.
    static func reverseNames(_ addresses: [String], inFlight: Int) async -> [String: String] {
        await withTaskGroup(of: (String, String?).self) { group in
            var names: [String: String] = [:]
            var running = 0
            for address in addresses {
                if running >= inFlight, let (done, name) = await group.next() {
                    running -= 1
                    names[done] = name
                }
                running += 1
                group.addTask { (address, await reverseName(address)) }
            }
            for await (done, name) in group { names[done] = name }
            return names
        }
    }

    static func reverseName(_ address: String) async -> String? {
        await withCheckedContinuation { continuation in
            // getnameinfo blocks: a Dispatch thread, never the reactor.
            DispatchQueue.global().async {
                continuation.resume(returning: lookupName(address))
            }
        }
    }

    private static func lookupName(_ address: String) -> String? {
        guard let resolved = PortProbe.socketAddress(address) else { return nil }
        var (storage, length, _) = resolved
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getnameinfo($0, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NAMEREQD) }
        }
        guard rc == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return isHostName(name) ? name : nil
    }

    /// RFC 1123 labels (letters, digits, hyphens; underscores as some zones have them).
    static func isHostName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }
        }
    }

    // MARK: - Login

    /// The detection part of a scan on every host with an SSH port, checked against the keys this
    /// sweep collected (a key swapped between sweep and login is refused, as a changed key is).
    private func detect(_ hosts: [DiscoveredHost], options: ConnectionOptions) async -> [DiscoveredHost] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-discover-\(UUID().uuidString)")
        let knownHosts = directory.appendingPathComponent("known_hosts").path
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try KnownHostsExport.lines(for: hosts, hashed: false).joined().write(toFile: knownHosts, atomically: true, encoding: .utf8)
        } catch {
            return hosts.map { host in
                var copy = host
                if !copy.ssh.isEmpty { copy.loginError = "cannot write the sweep's known_hosts: \(error)" }
                return copy
            }
        }
        defer { try? FileManager.default.removeItem(at: directory) }
        var options = options
        options.knownHostsPath = knownHosts
        options.knownHostsPathIsExplicit = true
        options.acceptNewHostKeys = false
        var targets: [Host] = []
        for host in hosts {
            guard let service = host.ssh.first(where: { !$0.keys.isEmpty }) else { continue }
            var target = Host(name: host.address, address: host.address, port: service.port,
                              shellType: service.looksLikeWindows ? .powershell : .sh)
            target.knownHostsFile = knownHosts
            target.hostKeyChecking = .strict
            targets.append(target)
        }
        let defaultUser = options.defaultUser ?? ""
        let results = await HostFanOut(options: options).run(
            hosts: targets, forks: request.forks,
            work: { connection -> (String, String, Result<OSInfo, HostFanOut.Failure>) in
                connection.entering(.scanning)
                let script = ScanScript(for: connection.host)
                let output = try await connection.run(script.detectionCommand, escalate: false)
                do {
                    return (connection.host.address, connection.session.loginUser, .success(try script.detect(from: output)))
                } catch {
                    return (connection.host.address, connection.session.loginUser,
                            .failure(HostFanOut.Failure(status: .error, message: "\(connection.host.name): \(error)")))
                }
            },
            failed: { host, failure, _ in (host.address, host.user ?? defaultUser, .failure(failure)) },
            onFinished: { _ in })
        var byAddress: [String: (String, Result<OSInfo, HostFanOut.Failure>)] = [:]
        for (address, user, outcome) in results { byAddress[address] = (user, outcome) }
        return hosts.map { host in
            var copy = host
            guard let (user, outcome) = byAddress[host.address] else { return copy }
            copy.loginUser = user.isEmpty ? nil : user
            switch outcome {
            case let .success(os): copy.os = os
            case let .failure(failure): copy.loginError = failure.message
            }
            return copy
        }
    }

    /// Numeric order for IPv4, text order otherwise.
    public static func addressOrder(_ left: String, _ right: String) -> Bool {
        switch (DiscoveryTargets.parseV4(left), DiscoveryTargets.parseV4(right)) {
        case let (l?, r?): l < r
        case (.some, nil): true
        case (nil, .some): false
        default: left < right
        }
    }
}
