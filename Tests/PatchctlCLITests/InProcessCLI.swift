import Foundation
import PatchCore
import PatchctlCLI

/// Runs patchctl's commands in this process, as the binary would (same parsing, same exit
/// codes, same bytes on stdout and stderr), with the output captured per call.
enum InProcessCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `environment`: what patchctl reads its configuration from (default: this process's).
    static func run(_ arguments: [String], environment: [String: String]? = nil) async -> Result {
        let output = OutputSink.capture()
        let status = await Patchctl.invoke(arguments, output: output, environment: environment ?? ProcessInfo.processInfo.environment)
        return Result(status: status, stdout: output.stdout, stderr: output.stderr)
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-inprocess-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func json(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw NotAnObject(text: text)
        }
        return object
    }

    struct NotAnObject: Error { var text: String }

    /// The words of a command line as a POSIX shell splits one that `Shell.join` wrote: bare
    /// words, single-quoted ones and `'\''` for a quote.
    static func words(_ line: String) -> [String] {
        var words: [String] = [], word = "", inWord = false, quoted = false
        var characters = line[...]
        while let c = characters.popFirst() {
            switch (quoted, c) {
            case (true, "'"): quoted = false
            case (true, _): word.append(c)
            case (false, "'"): quoted = true; inWord = true
            case (false, "\\"): if let next = characters.popFirst() { word.append(next); inWord = true }
            case (false, " "): if inWord { words.append(word) }; word = ""; inWord = false
            default: word.append(c); inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }
}

/// A history written through the store's own APIs, the way `patchctl scan` records a run: the
/// fleet the report commands read, without an endpoint.
struct ScannedHistory {
    var folder: URL
    var db: String
    var inventory: String
    var runs: [String]

    static let debian = OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12", codename: "bookworm",
                               kernel: "6.1.0-28-amd64", architecture: "x86_64")

    static func update(_ name: String, _ installed: String, _ available: String) -> PendingUpdate {
        PendingUpdate(name: name, installedVersion: installed, availableVersion: available,
                      source: "Debian-Security:12/bookworm-security", security: true, architecture: "amd64")
    }

    /// web1 and web2 (group web) with the same two pending security updates, apt among them;
    /// down (group db) unreachable; spare (group db) in the inventory, never scanned. Two scans,
    /// a minute apart, ending a minute ago.
    static func make() throws -> ScannedHistory {
        let folder = try InProcessCLI.temporaryDirectory()
        let inventory = folder.appendingPathComponent("inventory.yml").path
        try """
            all:
              children:
                web:
                  hosts:
                    web1: {ansible_host: 127.0.0.1}
                    web2: {ansible_host: 127.0.0.2}
                db:
                  hosts:
                    down: {ansible_host: 127.0.0.1, ansible_port: 1}
                    spare: {ansible_host: 127.0.0.3}

            """.write(toFile: inventory, atomically: true, encoding: .utf8)
        let db = folder.appendingPathComponent("history.db").path
        let store = try HistoryStore(path: db)
        let updates = [update("apt", "2.6.1", "2.6.1+deb12u1"), update("libc6", "2.36-9+deb12u7", "2.36-9+deb12u10")]
        var runs: [String] = []
        for end in [Date().addingTimeInterval(-120), Date().addingTimeInterval(-60)] {
            let id = try store.beginRun(kind: .scan, startedAt: end.addingTimeInterval(-5), inventory: inventory, hostPattern: "all:!spare",
                                        options: "forks=50 refresh=false", version: "test")
            let recorder = RunRecorder<HostScan>(store: store, runId: id)
            for (name, address) in [("web1", "127.0.0.1"), ("web2", "127.0.0.2")] {
                recorder.add(HostScan(name: name, address: address, port: 22, status: .ok, os: debian, rebootRequired: false, installedCount: 300,
                                      updates: updates, startedAt: end.addingTimeInterval(-4), finishedAt: end.addingTimeInterval(-1)))
            }
            recorder.add(HostScan(name: "down", address: "127.0.0.1", port: 1, status: .unreachable, error: "connect: connection refused",
                                  startedAt: end.addingTimeInterval(-4), finishedAt: end.addingTimeInterval(-3)))
            try recorder.finish(at: end)
            runs.append(id)
        }
        return ScannedHistory(folder: folder, db: db, inventory: inventory, runs: runs)
    }
}
