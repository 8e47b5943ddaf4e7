import Foundation
import Testing
@testable import PatchCore

/// The ssh_config corpus (Fixtures/ssh_config, see its SOURCE.md) copied to a temporary folder,
/// `@DIR@` replaced by that folder so Includes work from anywhere.
enum SSHConfigCorpus {
    static func copy() throws -> URL {
        let source = try #require(Bundle.module.url(forResource: "Fixtures/ssh_config", withExtension: nil))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-sshcfg-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: folder)
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files where ["conf", "config"].contains(file.pathExtension) {
            let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(of: "@DIR@", with: folder.path)
            try text.write(to: file, atomically: true, encoding: .utf8)
            // OpenSSH refuses included files others may write, whatever the umask made them.
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)
        }
        return folder
    }

    struct Case: CustomStringConvertible {
        var config: String
        var query: SSHConfigQuery
        var description: String {
            "\(config) \(query.host)" + (query.user.map { " user=\($0)" } ?? "") + (query.port.map { " port=\($0)" } ?? "")
                + (query.hostName.map { " hostname=\($0)" } ?? "")
        }
    }

    static func cases(in folder: URL) throws -> [Case] {
        let text = try String(contentsOf: folder.appendingPathComponent("cases.txt"), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let words = line.split(separator: " ").map(String.init)
            var query = SSHConfigQuery(host: words[1])
            for word in words.dropFirst(2) {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                switch parts[0] {
                case "user": query.user = parts[1]
                case "port": query.port = Int(parts[1])
                case "hostname": query.hostName = parts[1]
                default: break
                }
            }
            return Case(config: words[0], query: query)
        }
    }
}

/// The built-in reader against OpenSSH's own answer (`ssh -G`) on every lookup of the corpus:
/// what each sets among the honoured keywords, what each refuses, and the host it yields.
@Suite("ssh_config: built-in reader vs ssh -G")
struct SSHConfigCorpusTests {
    let environment = ProcessInfo.processInfo.environment

    @Test func builtinReaderAgreesWithSSHG() throws {
        // CI installs openssh-client (lab/deps.sh, scripts/build-deps.sh): without it this comparison cannot run.
        _ = try #require(OpenSSHConfigQuery.findSSH(environment: environment), "no ssh on PATH: install openssh-client")
        let folder = try SSHConfigCorpus.copy()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases = try SSHConfigCorpus.cases(in: folder)
        #expect(cases.count >= 40)
        var configured = 0
        var readers: [String: (SSHClientConfig, SSHClientConfig)] = [:]
        for item in cases {
            let path = folder.appendingPathComponent(item.config).path
            if readers[path] == nil {
                readers[path] = (SSHClientConfig(path: path, environment: environment, reader: .openssh),
                                 SSHClientConfig(path: path, environment: environment, reader: .builtin))
            }
            let (openssh, builtin) = readers[path]!
            #expect(openssh.reader == .openssh && builtin.reader == .builtin)
            let expected = try openssh.settings(for: item.query)
            let actual = try builtin.settings(for: item.query)
            #expect(actual == expected, "\(item): built-in \(actual) but ssh -G \(expected)")
            if expected != SSHConfigSettings() { configured += 1 }

            // The host each yields, or the same refusal, at the same file and line.
            var host = Host(name: item.query.host, address: item.query.hostName, port: item.query.port ?? 22, user: item.query.user)
            if item.query.hostName != nil { host.fromInventory.insert("address") }
            #expect(describe { try openssh.apply(to: host, flagUser: nil, flagPrivateKey: nil) }
                    == describe { try builtin.apply(to: host, flagUser: nil, flagPrivateKey: nil) }, "\(item)")
        }
        // Most lookups must find something, or the comparison proves nothing.
        #expect(configured >= cases.count * 3 / 4, "only \(configured) of \(cases.count) lookups set anything")
    }

    private func describe(_ body: () throws -> Host) -> String {
        do { return "\(try body())" } catch { return "error: \(error)" }
    }
}
