import Foundation
import PatchSSH

/// Distribution points: a host whose inventory names a `relay` gets library files from that
/// relay over its office network instead of from the controller, so the WAN carries each file
/// once per office. The controller stages the file once in the relay's cache (SFTP, checksum
/// verified there; kept for later runs), then has the relay push it to each host with `scp`,
/// using the key the inventory names (`relay_key`, a path on the relay, authorized on its
/// group's hosts) and checking each host's key against the one the controller itself verified.
extension PackageInstaller {
    /// Where a relay keeps files: `relay_cache`, default `/var/tmp/patchctl-relay`.
    static func relayCache(_ relay: Host) -> String {
        if case let .string(path)? = relay.vars["relay_cache"], path.hasPrefix("/") { return path }
        return "/var/tmp/patchctl-relay"
    }

    /// The relay a host gets files through, if its inventory names one.
    func relay(for host: Host) throws -> Host? {
        guard case let .string(name)? = host.vars["relay"] else { return nil }
        guard let relay = relays[name] else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): relay '\(name)' is not a host of the inventory")
        }
        return relay
    }

    /// Puts the file in the relay's cache unless it is already there; once per relay and file
    /// however many hosts wait for it. Returns a line for the record.
    func stage(_ package: PackageRecord, digest: String, on relay: Host) async throws -> String {
        try await relayStages.stage(key: relay.name + "\u{0}" + digest) {
            let local = try await OffReactor.run { [repository] in try repository.localFile(package) }
            let cache = Self.relayCache(relay)
            let cached = "\(cache)/\(digest)"
            let outcomes: [Result<String, HostFanOut.Failure>] = await engine.run(
                hosts: [relay], forks: 1,
                work: { connection in
                    let check = "mkdir -p \(Shell.quote(cache)) && chmod 700 \(Shell.quote(cache)) && { sha256sum -- \(Shell.quote(cached)) 2>/dev/null || true; }"
                    let present = try await connection.run(check, escalate: false)
                    guard present.exitStatus == 0 else {
                        return .failure(HostFanOut.Failure(status: .error, message: "relay \(relay.name): cannot use \(cache): \(present.stderr.trimmed)"))
                    }
                    if present.stdout.split(separator: " ").first.map(String.init) == digest {
                        return .success("already in relay \(relay.name)'s cache")
                    }
                    let sent = try await send(local, to: cached + ".part", on: connection)
                    let moved = try await connection.run("mv -f -- \(Shell.quote(cached + ".part")) \(Shell.quote(cached)) && sha256sum -- \(Shell.quote(cached))", escalate: false)
                    guard moved.exitStatus == 0, moved.stdout.split(separator: " ").first.map(String.init) == digest else {
                        _ = try? await connection.run("rm -f -- \(Shell.quote(cached)) \(Shell.quote(cached + ".part"))", escalate: false)
                        return .failure(HostFanOut.Failure(status: .error, message: "relay \(relay.name): checksum mismatch after upload; nothing cached"))
                    }
                    return .success("sent \(sent.bytes) bytes once to relay \(relay.name)" + (sent.method == .sftp ? "" : " (\(sent.method.label))"))
                },
                failed: { _, failure, _ in .failure(HostFanOut.Failure(status: failure.status, message: "relay \(relay.name): \(failure.message)")) },
                onFinished: { _ in })
            guard let outcome = outcomes.first else { throw HostFanOut.Failure(status: .error, message: "relay \(relay.name): not contacted") }
            return try outcome.get()
        }
    }

    /// Has the relay copy its cached file to `remotePath` on the connected host.
    func pushViaRelay(_ package: PackageRecord, digest: String, relay: Host, to remotePath: String, on connection: HostConnection,
                      record: inout DeployHostRecord) async throws {
        let host = connection.host
        guard case let .string(key)? = relay.vars["relay_key"] else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): relay \(relay.name) has no relay_key (the key, on the relay, that \(host.name) accepts)")
        }
        guard let entry = (connection.session as? SSHSession)?.hostKeyEntry, !entry.isEmpty else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): relays push over SSH; this host is not reached over SSH")
        }
        let staged = try await stage(package, digest: digest, on: relay)
        let started = Date()
        // The relay trusts exactly the key the controller verified for this host.
        let hostPattern = host.port == 22 ? host.address : "[\(host.address)]:\(host.port)"
        let cached = "\(Self.relayCache(relay))/\(digest)"
        let address = host.address
        let target = "\(connection.session.loginUser)@\(address.contains(":") ? "[\(address)]" : address):\(remotePath)"
        let trust = ["-i", key, "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=KNOWN"]
        // OpenSSH >= 9.0's scp speaks SFTP: a host that refuses the subsystem gets the file on
        // `cat`'s stdin instead (ssh prints "subsystem request failed"), and is verified the same.
        let scp = Shell.join(["scp", "-B"] + trust + ["-P", String(host.port), cached, target])
        let ssh = Shell.join(["ssh"] + trust + ["-p", String(host.port), "-l", connection.session.loginUser, "--", address,
                                                "umask 077 && cat > " + Shell.quote(remotePath)])
        let script = """
            known=$(mktemp) || exit 1
            err=$(mktemp) || { rm -f "$known"; exit 1; }
            printf '%s\\n' \(Shell.quote(hostPattern + " " + entry)) >"$known"
            \(scp) 2>"$err"
            rc=$?
            if [ $rc -ne 0 ] && grep -q 'subsystem request failed' "$err"; then
                echo \(Self.relayStreamMarker)
                \(ssh) <\(Shell.quote(cached)) 2>"$err"
                rc=$?
            fi
            cat "$err" >&2
            rm -f "$known" "$err"
            exit $rc
            """.replacingOccurrences(of: "UserKnownHostsFile=KNOWN", with: "UserKnownHostsFile=\"$known\"")
        let outcomes: [Result<CommandResult, HostFanOut.Failure>] = await engine.run(
            hosts: [relay], forks: 1,
            work: { relayConnection in .success(try await relayConnection.run(script, timeout: installTimeout, escalate: false)) },
            failed: { _, failure, _ in .failure(failure) },
            onFinished: { _ in })
        let result = try (outcomes.first ?? .failure(HostFanOut.Failure(status: .error, message: "not contacted"))).mapError { failure in
            HostFanOut.Failure(status: .error, message: "\(host.name): relay \(relay.name): \(failure.message)")
        }.get()
        let streamed = result.stdout.contains(Self.relayStreamMarker)
        if streamed {
            engine.options.logger.info("SFTP subsystem refused: relay streamed the file over ssh, checksum verified next", metadata: [
                "host": "\(host.name)", "relay": "\(relay.name)", "path": "\(remotePath)",
            ])
        }
        record.steps.append(DeployStep(phase: "relay", command: "\(streamed ? "ssh cat (SFTP refused)" : "scp") from relay \(relay.name) (\(staged))",
                                       exitCode: Int(result.exitStatus),
                                       output: DeployRunner.tail(result.stdout + result.stderr), durationMs: Int(Date().timeIntervalSince(started) * 1000)))
        guard result.exitStatus == 0 else {
            throw HostFanOut.Failure(status: .error, message: "\(host.name): relay \(relay.name) could not push the file (\(streamed ? "ssh cat" : "scp") exit \(result.exitStatus)): \(result.stderr.trimmed)")
        }
    }
}

extension PackageInstaller {
    /// What the relay's script prints when it streamed the file instead of using scp.
    static let relayStreamMarker = "patchctl-relay-streamed-without-sftp"
}

/// One staging per relay and file, shared by every host waiting for it.
actor RelayStages {
    private var tasks: [String: Task<String, any Error>] = [:]

    func stage(key: String, _ work: @escaping @Sendable () async throws -> String) async throws -> String {
        if let running = tasks[key] { return try await running.value }
        let task = Task { try await work() }
        tasks[key] = task
        return try await task.value
    }
}
