import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `--log-file` and `--syslog` as a systemd unit or cron uses them: the binary against the lab,
/// the log file read back as JSON lines, and a Unix datagram socket of the test's own standing in
/// for journald's (native protocol) or syslog's /dev/log (RFC 3164), read after the run.
@Suite("patchctl --log-file and --syslog", .serialized, .enabled(if: CLI.labEnabled))
struct LogCommandTests {
    /// A bound datagram socket; `drain` returns what arrived (the kernel queues it meanwhile).
    final class DatagramSocket {
        let path: String
        let fd: Int32

        init(path: String) throws {
            self.path = path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(fd >= 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(path.utf8)
                raw.copyBytes(from: bytes)
                raw[bytes.count] = 0
            }
            let bound = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            try #require(bound == 0, "bind \(path): \(errno)")
            var size: Int32 = 4 << 20
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }

        deinit {
            close(fd)
            unlink(path)
        }

        func drain() -> [[UInt8]] {
            var datagrams: [[UInt8]] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard count > 0 else { break }
                datagrams.append(Array(buffer[0..<count]))
            }
            return datagrams
        }
    }

    /// The lab's host web1 and an unreachable one, dead (the notifications suite's inventory).
    static func inventory(_ folder: URL) throws -> String {
        try NotifyCommandTests.inventory(folder, healthy: false)
    }

    /// journald's fields of one native-protocol datagram (`KEY=value` lines; patchctl's values
    /// here hold no newline).
    static func fields(_ datagram: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for line in String(decoding: datagram, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }

    @Test func aRunLogsItsHostsToTheFileAndJournaldWithTheirRunAndStatus() async throws {
        let folder = try CLI.temporaryDirectory()
        let journal = try DatagramSocket(path: folder.appendingPathComponent("journal.sock").path)
        let logFile = folder.appendingPathComponent("patchctl.log").path
        let result = try await CLI.runWaiting(["scan", "-i", try Self.inventory(folder), "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"),
                                               "--db", folder.appendingPathComponent("h.db").path, "--output", "json", "--log-file", logFile, "--syslog"],
                                              environment: ["PATCHCTL_JOURNAL_SOCKET": journal.path])
        #expect(result.status == 2, "\(result.stderr)")
        // Logs never reach stdout: it is the run's JSON document alone.
        let runId = try #require(try CLI.json(result.stdout)["run_id"] as? String)
        // Below stderr's level: the failure summary is what stderr says.
        #expect(!result.stderr.contains("host finished"), "\(result.stderr)")

        let lines = try String(contentsOfFile: logFile, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
        }
        #expect(lines.allSatisfy { $0["run_id"] == runId && $0["command"] == "scan" && $0["at"] != nil }, "\(lines)")
        let finished = lines.filter { $0["message"] == "host finished" }
        #expect(Set(finished.map { "\($0["host"] ?? "") \($0["status"] ?? "") \($0["level"] ?? "")" }) == ["web1 ok info", "dead unreachable notice"], "\(finished)")
        #expect(finished.first { $0["host"] == "dead" }?["error"]?.contains("cannot connect to 127.0.0.2 port 1") == true)
        #expect(lines.first?["message"] == "run started" && lines.last?["message"] == "run finished" && lines.last?["failed"] == "1", "\(lines)")

        let records = journal.drain().map(Self.fields)
        #expect(records.allSatisfy { $0["SYSLOG_IDENTIFIER"] == "patchctl" && $0["PATCHCTL_RUN_ID"] == runId }, "\(records)")
        let dead = try #require(records.first { $0["MESSAGE"] == "host finished" && $0["PATCHCTL_HOST"] == "dead" }, "\(records)")
        #expect(dead["PATCHCTL_STATUS"] == "unreachable" && dead["PRIORITY"] == "5")
        #expect(records.contains { $0["MESSAGE"] == "host finished" && $0["PATCHCTL_HOST"] == "web1" && $0["PATCHCTL_STATUS"] == "ok" && $0["PRIORITY"] == "6" })

        // A second run appends to the same file.
        let again = try await CLI.runWaiting(["scan", "-i", try Self.inventory(folder), "--limit", "web1", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"),
                                              "--db", folder.appendingPathComponent("h.db").path, "--log-file", logFile])
        #expect(again.status == 0, "\(again.stderr)")
        let runs = Set(try String(contentsOfFile: logFile, encoding: .utf8).split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])?["run_id"]
        })
        #expect(runs.count == 2)
    }

    @Test func withoutJournaldItIsSyslogAndAnUnwritableLogIsAWarning() async throws {
        let folder = try CLI.temporaryDirectory()
        let syslog = try DatagramSocket(path: folder.appendingPathComponent("log.sock").path)
        let result = try await CLI.runWaiting(["scan", "-i", try Self.inventory(folder), "--limit", "dead", "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS"),
                                               "--db", folder.appendingPathComponent("h.db").path, "--syslog", "--log-file", "/nonexistent/dir/p.log"],
                                              environment: ["PATCHCTL_JOURNAL_SOCKET": folder.appendingPathComponent("no-journal").path,
                                                            "PATCHCTL_SYSLOG_SOCKET": syslog.path])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("warning: --log-file /nonexistent/dir/p.log: No such file or directory: logging to stderr only"), "\(result.stderr)")
        #expect(result.stderr.components(separatedBy: "warning: --log-file").count == 2, "said once per run: \(result.stderr)")
        let lines = syslog.drain().map { String(decoding: $0, as: UTF8.self) }
        // <29> is facility daemon (3), severity notice (5).
        let dead = try #require(lines.first { $0.contains("host finished") }, "\(lines)")
        #expect(dead.hasPrefix("<29>") && dead.contains(" patchctl[") && dead.contains("host=dead") && dead.contains("status=unreachable"), "\(dead)")
        #expect(lines.allSatisfy { $0.contains("run_id=") && !$0.contains("\n") }, "\(lines)")
    }
}
