import Foundation
import LabSupport
import PatchCore
@testable import PatchctlCLI
import Testing

/// `patchctl metrics` and `--metrics-file`, in-process on histories written through the store: the
/// exact exposition for a known history, read back strictly (MetricsExposition) and by promtool,
/// the file replaced atomically, a failed host counted, and a file that cannot be written a warning.
@Suite("patchctl metrics and --metrics-file")
struct MetricsCommandTests {
    typealias CLI = InProcessCLI

    /// A host name with a quote, a backslash and a newline: each must be escaped in label values.
    static let hostile = "evil\"\\host\nnext"

    /// One scan, ending `base + 5` (whole seconds, as history stores them to the millisecond):
    /// web1 (Debian) with an apt security update (unrated) and a non-security one; the hostile
    /// name (Rocky) with an `Important` security update (high); down unreachable.
    struct History {
        var folder: URL
        var db: String
        var run: String
        var base: Double

        static func make() throws -> History {
            let folder = try CLI.temporaryDirectory()
            let db = folder.appendingPathComponent("history.db").path
            let base = (Date().timeIntervalSince1970 - 120).rounded(.down)
            let at = { (offset: Double) in Date(timeIntervalSince1970: base + offset) }
            let store = try HistoryStore(path: db)
            let run = try store.beginRun(kind: .scan, startedAt: at(0), inventory: nil, hostPattern: nil, options: "forks=50 refresh=false", version: "test")
            let recorder = RunRecorder<HostScan>(store: store, runId: run)
            let rocky = OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.4", codename: nil, kernel: "5.14.0", architecture: "x86_64")
            recorder.add(HostScan(
                name: "web1", address: "127.0.0.1", port: 22, status: .ok, os: ScannedHistory.debian, rebootRequired: false, installedCount: 300,
                updates: [ScannedHistory.update("apt", "2.6.1", "2.6.1+deb12u1"),
                          PendingUpdate(name: "vim", installedVersion: "2:9.0.1378-2", availableVersion: "2:9.0.1378-2+deb12u1",
                                        source: "Debian:12/bookworm", security: false, architecture: "amd64")],
                startedAt: at(1), finishedAt: at(3)))
            recorder.add(HostScan(
                name: hostile, address: "127.0.0.9", port: 22, status: .ok, os: rocky, rebootRequired: false, installedCount: 500,
                updates: [PendingUpdate(name: "openssl", installedVersion: "3.0.7-27.el9", availableVersion: "3.0.7-28.el9", source: "baseos",
                                        security: true, architecture: "x86_64", severity: "Important")],
                startedAt: at(1), finishedAt: at(4)))
            recorder.add(HostScan(name: "down", address: "127.0.0.1", port: 1, status: .unreachable, error: "connect: connection refused",
                                  startedAt: at(1), finishedAt: at(2)))
            try recorder.finish(at: at(5))
            return History(folder: folder, db: db, run: run, base: base)
        }
    }

    /// The whole text for `History`, but the generation time (checked apart): HELP and TYPE of
    /// each family, samples sorted, label values escaped.
    static func expected(_ h: History) -> String {
        let evil = #"evil\"\\host\nnext"#
        let t = { (offset: Double) in "\(h.base + offset)" }
        let severities = ["critical", "high", "low", "medium", "none", "unrated"]
        let pending = ["down": nil, evil: ["high": 1], "web1": ["none": 1, "unrated": 1]] as [String: [String: Int]?]
        let security = ["down": nil, evil: ["high": 1], "web1": ["unrated": 1]] as [String: [String: Int]?]
        var text = """
            # HELP patchctl_pending_updates Pending updates per host and severity (critical, high, medium, low, unrated, none), from the host's latest successful scan.
            # TYPE patchctl_pending_updates gauge

            """
        for host in [evil, "web1"] {
            for severity in severities { text += "patchctl_pending_updates{host=\"\(host)\",severity=\"\(severity)\"} \(Double(pending[host]!![severity] ?? 0))\n" }
        }
        text += """
            # HELP patchctl_pending_security_updates Pending security updates per host and severity (critical, high, medium, low, unrated), from the host's latest successful scan.
            # TYPE patchctl_pending_security_updates gauge

            """
        for host in [evil, "web1"] {
            for severity in severities where severity != "none" {
                text += "patchctl_pending_security_updates{host=\"\(host)\",severity=\"\(severity)\"} \(Double(security[host]!![severity] ?? 0))\n"
            }
        }
        text += """
            # HELP patchctl_last_scan_timestamp_seconds When the host's latest scan attempt (a scan, or a deployment's own scan) finished, successful or not (unix seconds).
            # TYPE patchctl_last_scan_timestamp_seconds gauge
            patchctl_last_scan_timestamp_seconds{host="down"} \(t(2))
            patchctl_last_scan_timestamp_seconds{host="\(evil)"} \(t(4))
            patchctl_last_scan_timestamp_seconds{host="web1"} \(t(3))
            # HELP patchctl_last_successful_scan_timestamp_seconds When the host's latest successful scan finished (unix seconds).
            # TYPE patchctl_last_successful_scan_timestamp_seconds gauge
            patchctl_last_successful_scan_timestamp_seconds{host="\(evil)"} \(t(4))
            patchctl_last_successful_scan_timestamp_seconds{host="web1"} \(t(3))
            # HELP patchctl_host_compliant 1 when the host complies with the standard, else 0 (never scanned, stale, overdue updates).
            # TYPE patchctl_host_compliant gauge
            patchctl_host_compliant{host="down",standard="pci-dss"} 0.0
            patchctl_host_compliant{host="\(evil)",standard="pci-dss"} 1.0
            patchctl_host_compliant{host="web1",standard="pci-dss"} 1.0
            # HELP patchctl_compliance_ratio Share of the fleet's hosts that comply with the standard (0-1): `patchctl report compliance`'s percent_compliant / 100.
            # TYPE patchctl_compliance_ratio gauge
            patchctl_compliance_ratio{standard="pci-dss"} 0.667
            # HELP patchctl_last_run_info The latest recorded run of each kind: its id (`patchctl history show RUN`).
            # TYPE patchctl_last_run_info gauge
            patchctl_last_run_info{kind="scan",run_id="\(h.run)"} 1.0
            # HELP patchctl_last_run_timestamp_seconds When the latest run of each kind finished (unix seconds).
            # TYPE patchctl_last_run_timestamp_seconds gauge
            patchctl_last_run_timestamp_seconds{kind="scan"} \(t(5))
            # HELP patchctl_last_run_duration_seconds How long the latest run of each kind took.
            # TYPE patchctl_last_run_duration_seconds gauge
            patchctl_last_run_duration_seconds{kind="scan"} 5.0
            # HELP patchctl_last_run_hosts Hosts of the latest run of each kind, by the status they ended in.
            # TYPE patchctl_last_run_hosts gauge

            """
        let statuses = ["auth_failed", "deferred", "error", "failed", "host_key_mismatch", "host_key_revoked", "host_key_unknown",
                        "interrupted", "not_started", "ok", "skipped", "timeout", "unreachable"]
        for status in statuses {
            text += "patchctl_last_run_hosts{kind=\"scan\",status=\"\(status)\"} \(status == "ok" ? 2.0 : status == "unreachable" ? 1.0 : 0.0)\n"
        }
        text += """
            # HELP patchctl_last_run_failed_hosts Hosts that failed in the latest run of each kind (unreachable, auth_failed, host_key_*, timeout, failed, error).
            # TYPE patchctl_last_run_failed_hosts gauge
            patchctl_last_run_failed_hosts{kind="scan"} 1.0
            # HELP patchctl_metrics_generated_timestamp_seconds When patchctl wrote these metrics (unix seconds).
            # TYPE patchctl_metrics_generated_timestamp_seconds gauge

            """
        return text
    }

    /// The generation line ends the text; its value lies between `from` and `to`.
    static func splitGenerated(_ text: String, from: Date, to: Date) throws -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let last = try #require(lines.dropLast().last)
        let prefix = "patchctl_metrics_generated_timestamp_seconds "
        #expect(last.hasPrefix(prefix), "\(last)")
        let value = try #require(Double(last.dropFirst(prefix.count)))
        #expect(value >= from.timeIntervalSince1970.rounded(.down) && value <= to.timeIntervalSince1970 + 1, "\(value)")
        return lines.dropLast(2).joined(separator: "\n") + "\n"
    }

    @Test func metricsPrintsTheExactExpositionOfAKnownHistory() async throws {
        let h = try History.make()
        let before = Date()
        let result = await CLI.run(["metrics", "--db", h.db])
        let after = Date()
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        #expect(try Self.splitGenerated(result.stdout, from: before, to: after) == Self.expected(h))

        // Read back strictly: the hostile name is one label value again, byte for byte.
        let parsed = try MetricsExposition.parse(result.stdout)
        #expect(Set(parsed.types.values) == ["gauge"] && Set(parsed.help.keys) == Set(parsed.families))
        #expect(parsed.value("patchctl_pending_updates", ["host": Self.hostile, "severity": "high"]) == 1)
        #expect(parsed.value("patchctl_pending_security_updates", ["host": "web1", "severity": "unrated"]) == 1)
        #expect(parsed.value("patchctl_last_run_failed_hosts", ["kind": "scan"]) == 1)
        #expect(Set(parsed.samples("patchctl_host_compliant").compactMap { $0.labels["host"] }) == ["down", Self.hostile, "web1"])
    }

    /// The compliance figures are `report compliance`'s own, host by host.
    @Test func complianceIsTheReportsOwn() async throws {
        let h = try History.make()
        let metrics = try MetricsExposition.parse(await CLI.run(["metrics", "--db", h.db, "--standard", "hipaa"]).stdout)
        let report = await CLI.run(["report", "compliance", "--db", h.db, "--standard", "hipaa", "--format", "json"])
        let json = try CLI.json(report.stdout)
        let percent = try #require((json["summary"] as? [String: Any])?["percent_compliant"] as? Double)
        #expect(metrics.value("patchctl_compliance_ratio", ["standard": "hipaa"]) == (percent * 10).rounded() / 1000)
        let hosts = try #require(json["hosts"] as? [[String: Any]])
        #expect(hosts.count == 3)
        for host in hosts {
            let name = try #require(host["name"] as? String)
            let compliant = try #require(host["compliant"] as? Bool)
            #expect(metrics.value("patchctl_host_compliant", ["host": name, "standard": "hipaa"]) == (compliant ? 1 : 0), "\(name)")
        }
    }

    /// Prometheus's own validator: parses and lints (HELP present, names, types, units).
    @Test func promtoolAcceptsTheOutput() async throws {
        let promtool = try #require(["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "promtool is not installed: run scripts/build-deps.sh (Debian's prometheus package)")
        let h = try History.make()
        let result = await CLI.run(["metrics", "--db", h.db])
        #expect(result.status == 0)
        let text = result.stdout
        let checked = try await offPool { () -> (Int32, String) in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: promtool)
            process.arguments = ["check", "metrics"]
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data(text.utf8))
            try input.fileHandleForWriting.close()
            let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.waitForExit(), said)
        }
        #expect(checked.0 == 0 && checked.1.isEmpty, "promtool check metrics exited \(checked.0): \(checked.1)")
    }

    /// A scan whose only host fails: exit 2 as ever, and the file has the failure and the fleet's
    /// state from history (hosts this run did not touch included).
    @Test func aFailedHostStillWritesTheFileAndExitsTwo() async throws {
        let s = try ScannedHistory.make()
        let file = s.folder.appendingPathComponent("textfile").appendingPathComponent("patchctl.prom")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let result = await CLI.run(["scan", "-i", s.inventory, "-l", "down", "--db", s.db, "--ssh-config", "none",
                                    "--known-hosts", s.folder.appendingPathComponent("known_hosts").path, "--metrics-file", file.path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("down (127.0.0.1): unreachable"), "\(result.stderr)")
        #expect(!result.stderr.contains("warning"), "\(result.stderr)")
        let metrics = try MetricsExposition.parse(try String(contentsOf: file, encoding: .utf8))
        #expect(metrics.value("patchctl_last_run_failed_hosts", ["kind": "scan"]) == 1)
        #expect(metrics.value("patchctl_last_run_hosts", ["kind": "scan", "status": "unreachable"]) == 1)
        #expect(metrics.value("patchctl_last_run_hosts", ["kind": "scan", "status": "ok"]) == 0)
        let run = try #require(metrics.samples("patchctl_last_run_info").first?.labels["run_id"])
        #expect(!s.runs.contains(run))
        // The fleet is the inventory's, from history: web1 was not scanned by this run; spare never was.
        #expect(metrics.value("patchctl_pending_security_updates", ["host": "web1", "severity": "unrated"]) == 2)
        #expect(metrics.value("patchctl_host_compliant", ["host": "spare", "standard": "pci-dss"]) == 0)
        #expect(metrics.value("patchctl_last_successful_scan_timestamp_seconds", ["host": "spare"]) == nil)
        #expect(metrics.value("patchctl_compliance_ratio", ["standard": "pci-dss"]) == 0.5)
        // Renamed into place: no temporary file left beside it; readable by node_exporter's user.
        #expect(try FileManager.default.contentsOfDirectory(atPath: file.deletingLastPathComponent().path) == ["patchctl.prom"])
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int)
        #expect(mode == 0o644)
    }

    /// deploy writes its run under the kind history records (`plan` for a dry run), whatever its
    /// exit code: 2 for the dry run's failed host, 3 for the deployment its one failure halted.
    @Test(arguments: [(["--dry-run"], "plan", 2), (["--now"], "deploy", 3)] as [([String], String, Int32)])
    func deployWritesItsRunUnderItsRecordedKind(_ flags: [String], _ kind: String, _ status: Int32) async throws {
        let s = try ScannedHistory.make()
        let policy = s.folder.appendingPathComponent("nightly.yml").path
        try "name: nightly\ntargets: all\nselect: security\napproval: auto\nreboot: never\n".write(toFile: policy, atomically: true, encoding: .utf8)
        let file = s.folder.appendingPathComponent("patchctl.prom")
        let result = await CLI.run(["deploy", "--policy", policy, "-i", s.inventory, "-l", "down", "--db", s.db, "--ssh-config", "none",
                                    "--known-hosts", s.folder.appendingPathComponent("known_hosts").path, "--metrics-file", file.path] + flags)
        #expect(result.status == status, "\(result.stderr)")
        let metrics = try MetricsExposition.parse(try String(contentsOf: file, encoding: .utf8))
        #expect(metrics.value("patchctl_last_run_failed_hosts", ["kind": kind]) == 1)
        #expect(metrics.value("patchctl_last_run_hosts", ["kind": kind, "status": "unreachable"]) == 1)
        // The scans before it are still the latest of their kind.
        let runs = Dictionary(uniqueKeysWithValues: metrics.samples("patchctl_last_run_info").map { ($0.labels["kind"] ?? "", $0.labels["run_id"] ?? "") })
        #expect(Set(runs.keys) == ["scan", kind] && runs["scan"] == s.runs[1] && !s.runs.contains(runs[kind] ?? ""), "\(runs)")
        #expect(metrics.value("patchctl_pending_security_updates", ["host": "web2", "severity": "unrated"]) == 2)
    }

    /// A metrics file that cannot be written is a warning: the exit code and the failure summary stay.
    @Test func anUnwritableFileWarnsAndKeepsTheExitCode() async throws {
        let s = try ScannedHistory.make()
        let notAFolder = s.folder.appendingPathComponent("plain-file")
        try "x".write(to: notAFolder, atomically: true, encoding: .utf8)
        let file = notAFolder.appendingPathComponent("patchctl.prom").path
        let result = await CLI.run(["exec", "-i", s.inventory, "-l", "down", "--db", s.db, "--ssh-config", "none",
                                    "--known-hosts", s.folder.appendingPathComponent("known_hosts").path, "--metrics-file", file, "--", "true"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("patchctl: warning: cannot write metrics file \(file): cannot create "), "\(result.stderr)")
        #expect(result.stderr.contains("Not a directory"), "\(result.stderr)")
        #expect(result.stderr.contains("1 of 1 host failed:"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: file))
        // `patchctl metrics --metrics-file` has nothing else to do: there it is the command's error.
        let direct = await CLI.run(["metrics", "--db", s.db, "--metrics-file", file])
        #expect(direct.status == 1 && direct.stderr.hasPrefix("patchctl: cannot write metrics file \(file)"), "\(direct.stderr)")
    }

    /// The old file is replaced, not rewritten: a reader that opened it before still reads the whole
    /// old content (a truncate-and-write would show it cut or mixed), the path has the whole new one.
    @Test func theFileIsReplacedAtomically() async throws {
        let h = try History.make()
        let file = h.folder.appendingPathComponent("patchctl.prom")
        let old = String(repeating: "# old content\n", count: 20_000)
        try old.write(to: file, atomically: false, encoding: .utf8)
        let reader = try FileHandle(forReadingFrom: file)
        defer { try? reader.close() }
        let before = Date()
        let result = await CLI.run(["metrics", "--db", h.db, "--metrics-file", file.path])
        #expect(result.status == 0 && result.stdout.isEmpty && result.stderr.isEmpty, "\(result.stderr)")
        #expect(String(decoding: try reader.readToEnd() ?? Data(), as: UTF8.self) == old)
        let new = try String(contentsOf: file, encoding: .utf8)
        #expect(try Self.splitGenerated(new, from: before, to: Date()) == Self.expected(h))
        // history.db's own files aside, nothing but the metrics file: the temporary one was renamed.
        #expect(try FileManager.default.contentsOfDirectory(atPath: h.folder.path).filter { !$0.hasPrefix("history.db") } == ["patchctl.prom"])
    }

    /// History unreadable after the run (here: no database at all): the run's own failures are still
    /// written, with a warning that the fleet's gauges are missing.
    @Test func unreadableHistoryStillWritesTheRun() throws {
        let folder = try CLI.temporaryDirectory()
        let file = folder.appendingPathComponent("patchctl.prom").path
        let run = MetricsReport.Run(kind: .exec, runId: "20261201T000000Z-abcdef", startedAt: Date(timeIntervalSince1970: 1_000),
                                    finishedAt: Date(timeIntervalSince1970: 1_004.5), hosts: [.ok: 1, .unreachable: 2])
        let options = try MetricsOptions.parse(["--metrics-file", file])
        let output = OutputSink.capture()
        let target = try InventoryOptions.parse(["-i", folder.appendingPathComponent("inventory.yml").path])
        let database = try OutputOptions.parse(["--db", folder.appendingPathComponent("missing.db").path])
        Terminal.$sink.withValue(output) { options.write(run, target: target, output: database) }
        #expect(output.stderr.hasPrefix("patchctl: warning: metrics: the fleet's state could not be read from history: "), "\(output.stderr)")
        #expect(output.stdout.isEmpty)
        let metrics = try MetricsExposition.parse(try String(contentsOfFile: file, encoding: .utf8))
        #expect(metrics.value("patchctl_last_run_failed_hosts", ["kind": "exec"]) == 2)
        #expect(metrics.value("patchctl_last_run_duration_seconds", ["kind": "exec"]) == 4.5)
        #expect(metrics.value("patchctl_last_run_info", ["kind": "exec", "run_id": run.runId]) == 1)
        #expect(metrics.families == ["patchctl_last_run_info", "patchctl_last_run_timestamp_seconds", "patchctl_last_run_duration_seconds",
                                     "patchctl_last_run_hosts", "patchctl_last_run_failed_hosts", "patchctl_metrics_generated_timestamp_seconds"])
    }

    @Test func metricsWithoutHistoryIsAnError() async throws {
        let folder = try CLI.temporaryDirectory()
        let result = await CLI.run(["metrics", "--db", folder.appendingPathComponent("none.db").path])
        #expect(result.status == 1 && result.stdout.isEmpty && result.stderr.contains("no history database here"), "\(result.stderr)")
    }
}
