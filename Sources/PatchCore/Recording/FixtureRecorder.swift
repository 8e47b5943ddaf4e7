import Foundation
import PatchSSH

/// `make record-fixtures`: runs a scan's own command on one real host (`ScanRunner.runScanCommand`,
/// the command a scan sends, not a copy), asks the host its names, scrubs them, the login user and
/// the addresses from the output (`FixtureScrubber`) and writes the output as fixture files with a
/// SOURCE.md, so a contributor with a machine the lab cannot have can turn a "constructed" fixture
/// into a "recorded" one.
public struct FixtureRecorder: Sendable {
    public let engine: HostFanOut
    /// patchctl's version, written into SOURCE.md.
    public let version: String

    public init(engine: HostFanOut, version: String) {
        self.engine = engine
        self.version = version
    }

    public struct Recording: Sendable {
        /// The folder written (`OUT/<os id>-<version>-<date>`).
        public var directory: String
        /// Paths of the files written, SOURCE.md last.
        public var files: [String]
        public var os: OSInfo
        /// What patchctl reads from the scrubbed output: equal to what it read from the raw one,
        /// or the recording fails.
        public var findings: ScanFindings
        public var report: FixtureScrubber.Report
        public var exitStatus: Int32
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// What the host says its names and login user are. Run as the login user (never through sudo).
    static func identityCommand(_ script: ScanScript) -> String {
        switch script {
        case .posix:
            #"printf '%s\n' "$(hostname 2>/dev/null || uname -n)" "$(hostname -f 2>/dev/null)" "$(id -un 2>/dev/null)""#
        case .powershell:
            PowerShell.encodedCommand("""
                $fqdn = try { [System.Net.Dns]::GetHostEntry('').HostName } catch { '' }
                $env:COMPUTERNAME; $fqdn; $env:USERNAME; $env:USERDOMAIN
                """)
        }
    }

    /// Everything gathered on the host in one connection.
    struct Captured: Sendable {
        var host: Host
        var loginUser: String
        var script: ScanScript
        var command: String
        var output: CommandResult
        var identity: [String]
    }

    /// Records `host` into a new folder under `parent`. Throws when the host cannot be reached or
    /// scanned, or when scrubbing would change what patchctl reads from the output.
    public func record(_ host: Host, into parent: String, now: Date = Date()) async throws -> Recording {
        let outcomes: [Result<Captured, Failure>] = await engine.run(
            hosts: [host], forks: 1,
            work: { connection in
                let (script, command, output) = try await ScanRunner.runScanCommand(connection, refresh: false)
                let identity = try await connection.run(Self.identityCommand(script), escalate: false)
                let lines = identity.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n").map(String.init)
                return .success(Captured(host: connection.host, loginUser: connection.session.loginUser, script: script,
                                         command: command, output: output, identity: lines))
            },
            failed: { _, failure, _ in .failure(Failure(description: failure.message)) },
            onFinished: { _ in })
        guard let outcome = outcomes.first else { throw Failure(description: "\(host.name): not started") }
        let captured = try outcome.get()
        do {
            return try await write(captured, into: parent, now: now)
        } catch let failure as HostFanOut.Failure {
            // An output the scan cannot read (a Windows shell type for a POSIX host…): said as a scan says it.
            throw Failure(description: failure.message)
        }
    }

    private func write(_ captured: Captured, into parent: String, now: Date) async throws -> Recording {
        let host = captured.host
        let (platform, raw) = try await ScanRunner.read(captured.output, of: captured.script, host: host)
        var users = [captured.loginUser]
        if let user = host.user { users.append(user) }
        if captured.identity.count > 2 { users.append(captured.identity[2]) }
        let names = [host.name, host.address] + captured.identity.prefix(2) + captured.identity.dropFirst(3)
        let scrubber = FixtureScrubber(names: names, users: users, keep: Self.kept(raw))
        let (texts, report) = scrubber.scrub([captured.output.stdout, captured.output.stderr])
        let scrubbed = CommandResult(exitStatus: captured.output.exitStatus, stdout: texts[0], stderr: texts[1])
        let (_, findings) = try await ScanRunner.read(scrubbed, of: captured.script, host: host)
        guard findings == raw else {
            throw Failure(description: "\(host.name): scrubbing changed what patchctl reads from the output (\(raw.updates.count) updates before, "
                + "\(findings.updates.count) after); nothing written")
        }

        let os = platform.os
        let day = Self.day(now)
        let slug = [os.id, os.version, day].map { $0.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" } }.joined(separator: "-")
        let fm = FileManager.default
        var directory = (parent as NSString).appendingPathComponent(slug)
        var suffix = 2
        while fm.fileExists(atPath: directory) {
            directory = (parent as NSString).appendingPathComponent("\(slug)-\(suffix)")
            suffix += 1
        }
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [(String, String)] = [("scan-command.txt", captured.command + "\n"), ("scan-output.txt", scrubbed.stdout)]
        if !scrubbed.stderr.isEmpty { files.append(("scan-stderr.txt", scrubbed.stderr)) }
        files.append(("SOURCE.md", Self.source(captured, os: os, findings: findings, report: report, version: version, now: now,
                                               files: files.map(\.0))))
        var written: [String] = []
        for (name, content) in files {
            let path = (directory as NSString).appendingPathComponent(name)
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        return Recording(directory: directory, files: written, os: os, findings: findings, report: report, exitStatus: captured.output.exitStatus)
    }

    /// What patchctl read from the output stays as it was: a dotted version or a title can hold
    /// an address's shape (`JBL Driver Update (2.0.0.6)`).
    static func kept(_ findings: ScanFindings) -> Set<String> {
        var keep = Set<String>()
        for update in findings.updates {
            keep.formUnion([update.name, update.installedVersion, update.availableVersion, update.source] + update.advisories)
        }
        for binary in findings.installedBinaries { keep.formUnion([binary.version, binary.sourceVersion]) }
        return keep
    }

    static func day(_ date: Date) -> String {
        String(ISO8601DateFormatter.string(from: date, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate]))
    }

    /// SOURCE.md in the fixtures' house form: what, when, from where, how, and what was changed.
    static func source(_ captured: Captured, os: OSInfo, findings: ScanFindings, report: FixtureScrubber.Report, version: String,
                       now: Date, files: [String]) -> String {
        let time = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!,
                                               formatOptions: [.withFullDate, .withSpaceBetweenDateAndTime, .withTime, .withColonSeparatorInTime])
        let host = captured.host
        let shell = captured.script == .powershell ? "PowerShell (`ScanScript.powershell`, inventory `shell_type: powershell`)" : "POSIX sh (`ScanScript.posix`)"
        let login = FixtureScrubber.systemAccounts.contains(captured.loginUser.lowercased()) ? "`\(captured.loginUser)`" : "a named account (scrubbed)"
        let escalated = host.become && !host.isWindows ? ", escalated with sudo (`become`)" : ""
        let kernel = [os.kernel, os.architecture].compactMap { $0 }.joined(separator: " ")
        let security = findings.updates.filter(\.security).count
        let listed = files.filter { $0 != "SOURCE.md" }.map { "`\($0)`" }.joined(separator: ", ")
        return """
            # \(os.name) \(os.version): recorded with `make record-fixtures`

            Level: **recorded** (a real host's output, captured by the command below; nothing written by hand).

            - Recorded \(String(time.prefix(16))) UTC (the recording machine's clock) by patchctl \(version)
              (`patchctl record-fixtures`, what `make record-fixtures` runs), over SSH.
            - OS as patchctl detected it from the output's facts: \(os.name) \(os.version)\(os.codename.map { " (\($0))" } ?? "")\
            \(kernel.isEmpty ? "" : ", kernel \(kernel)"), platform `\(os.family.rawValue)`.
            - Shell: \(shell). Login: \(login)\(escalated).
            - Command: the scan's own command (`ScanRunner.runScanCommand`), byte for byte in `scan-command.txt`,
              run once; exit status \(captured.output.exitStatus). Files: \(listed) (stdout, and stderr when
              there was any), line ends as the host sent them.
            - What patchctl reads from the scrubbed output, the same as from the raw one (checked when recording):
              \(findings.updates.count) pending updates (\(security) security), \
            \(findings.installedCount.map { "\($0) installed packages" } ?? "installed packages not counted"), \
            reboot required: \(findings.rebootRequired ? "yes" : "no").
            - Scrubbed before writing: the host's names and domain as it gives them (`hostname`, `hostname -f`,
              or `$env:COMPUTERNAME` and its DNS name) and the name or address it was reached by, as
              `host-N`/`host-N.example.com`/`example.com` (\(report.names) occurrences); the login user as `user`
              (\(report.users); `root`, `Administrator` and `SYSTEM` are kept); IPv4 addresses as 192.0.2.x
              (\(report.ipv4) occurrences) and IPv6 as 2001:db8::x (\(report.ipv6)), \(report.distinctAddresses) distinct,
              each mapped the same way throughout, loopback kept; MAC addresses as 00:00:5e:00:53:xx (\(report.macs)).
              Nothing else was changed. Read the files before committing them: anything else a host
              prints about itself (a repository URL with a token, a serial number) is not scrubbed.

            """
    }
}
