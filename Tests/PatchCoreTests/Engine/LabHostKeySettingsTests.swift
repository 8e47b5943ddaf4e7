import Foundation
import Testing
@testable import PatchCore

/// A host's own known_hosts file and StrictHostKeyChecking (from the inventory's
/// `known_hosts_file`, `host_key_checking` or ssh arguments) against the lab's real sshd.
@Suite("Per-host host key settings (lab)", .enabled(if: Lab.enabled))
struct LabHostKeySettingsTests {
    /// An empty known_hosts file of the test's own.
    func emptyKnownHosts() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-kh-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        return path
    }

    @Test func aHostsOwnKnownHostsFileIsUsedUnlessTheFlagNamesOne() async throws {
        var host = try Lab.host()
        host.knownHostsFile = try Lab.value("LAB_KNOWN_HOSTS")
        var options = try Lab.options(knownHosts: try emptyKnownHosts())
        #expect(try await Lab.run("true", on: host, options).result?.exitStatus == 0)

        // --known-hosts given: it wins over the inventory (flag > inventory), and it knows no key.
        options.knownHostsPathIsExplicit = true
        let refused = try await Lab.run("true", on: host, options)
        #expect(refused.status == .hostKeyUnknown, "\(refused.message)")
    }

    @Test func offAcceptsAnUnknownKeyWithoutRecordingItButNotAChangedOne() async throws {
        let empty = try emptyKnownHosts()
        var host = try Lab.host()
        let strict = try await Lab.run("true", on: host, try Lab.options(knownHosts: empty))
        #expect(strict.status == .hostKeyUnknown, "\(strict.message)")

        host.hostKeyChecking = .off
        #expect(try await Lab.run("true", on: host, try Lab.options(knownHosts: empty)).result?.exitStatus == 0)
        #expect(try String(contentsOfFile: empty, encoding: .utf8).isEmpty)

        let changed = try await Lab.run("true", on: host, try Lab.options(knownHosts: try Lab.value("LAB_WRONG_KNOWN_HOSTS")))
        #expect(changed.status == .hostKeyMismatch, "\(changed.message)")
    }

    @Test func acceptNewFromTheInventoryRecordsTheKey() async throws {
        let empty = try emptyKnownHosts()
        var host = try Lab.host()
        host.hostKeyChecking = .acceptNew
        #expect(try await Lab.run("true", on: host, try Lab.options(knownHosts: empty)).result?.exitStatus == 0)
        #expect(try String(contentsOfFile: empty, encoding: .utf8).contains("ssh-ed25519"))
    }
}
