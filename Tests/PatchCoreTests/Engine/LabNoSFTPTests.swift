import Foundation
import Testing
@testable import PatchCore
import PatchSSH

/// Hosts whose sshd has no `Subsystem sftp` line (a real sshd started by the test, chrooted into
/// deploy slots): uploads fall back to an exec channel, and library installs and relay pushes
/// still arrive verified.
@Suite("Transfers to hosts without SFTP on the lab", .serialized, .enabled(if: Lab.enabled))
struct LabNoSFTPTests {
    static func sha256(_ path: String) throws -> String? {
        try Lab.inChroot("/", ["sha256sum", path]).split(separator: " ").first.map(String.init)
    }

    @Test func uploadsStreamOverAnExecChannelAndALibraryInstallIsVerified() async throws {
        try await Lab.withDeployEndpoints {
            _ = try Lab.resetSlot(5)
            let root = try Lab.slotRoot(5)
            let endpoint = try NoSFTPEndpoint(slots: [5])
            let host = try endpoint.host(slot: 5)
            let options = try Lab.options(knownHosts: endpoint.knownHostsPath)
            let folder = try Lab.temporaryDirectory()
            // Several chunks and an odd tail, random so nothing compresses it away.
            let local = folder.appendingPathComponent("payload.bin").path
            try await TestPackages.run("/bin/sh", ["-c", "head -c 3145851 /dev/urandom > " + Shell.quote(local)])

            let outcomes: [String] = await HostFanOut(options: options).run(
                hosts: [host], forks: 1,
                work: { connection in
                    // The server really refuses SFTP: this is what made installs fail before.
                    var refused = "sftp accepted"
                    do {
                        _ = try await connection.upload(local, to: "/tmp/probe", progress: nil)
                        let direct = try #require(connection.session as? SSHSession)
                        _ = try await direct.upload(localPath: local, remotePath: "/tmp/probe-sftp")
                    } catch {
                        refused = SSHSession.isSFTPRefused(error) ? "refused: \(error)" : "other: \(error)"
                    }
                    let sent = try await connection.send(local, to: "/tmp/nosftp payload.bin")
                    var failure = ""
                    do {
                        _ = try await connection.send(local, to: "/no-such-folder/x")
                    } catch {
                        failure = "\(error)"
                    }
                    return ["\(sent.method.rawValue) \(sent.bytes)", refused, failure]
                },
                failed: { _, failure, _ in ["failed: \(failure.message)"] }, onFinished: { _ in }).first ?? []
            try #require(outcomes.count == 3, "\(outcomes)")
            #expect(outcomes[0] == "exec 3145851", "\(outcomes)")
            #expect(outcomes[1].hasPrefix("refused: ") && outcomes[1].contains("Unable to request SFTP subsystem"), "\(outcomes[1])")
            #expect(outcomes[2].contains("streaming over exec (SFTP refused or not used) failed") && outcomes[2].contains("No such file or directory"), "\(outcomes[2])")
            let remote = root + "/tmp/nosftp payload.bin"
            #expect(try Self.sha256(remote) == Self.sha256(local))
            let mode = try FileManager.default.attributesOfItem(atPath: remote)[.posixPermissions] as? Int
            #expect(mode == 0o600)
            #expect(FileManager.default.fileExists(atPath: root + "/tmp/probe"), "the plain upload went through the fallback")

            let (repository, _) = try LabInstallTests.library()
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder,
                                                                                      payload: String(repeating: "y", count: 300_000))), by: "t", at: Date())
            let installer = PackageInstaller(engine: HostFanOut(options: options), repository: repository)
            let result = try #require(await installer.install([record], on: [host], forks: 1).first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(result.installed == [InstalledPackage(name: "acme-agent", fromVersion: "", toVersion: "2.4.1")])
            #expect(result.steps.contains { $0.phase == "upload" && $0.command.hasPrefix("exec cat (SFTP refused) /tmp/patchctl-install.") },
                    "\(result.steps.map(\.command))")
            #expect(try LabInstallTests.dpkg(root, "acme-agent") == "2.4.1 ii")
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").filter { $0.hasPrefix("patchctl-install.") }.isEmpty)
        }
    }

    @Test func aCorruptStreamedUploadIsCaughtByTheEndpointsChecksum() async throws {
        try await Lab.withDeployEndpoints {
            _ = try Lab.resetSlot(5)
            let root = try Lab.slotRoot(5)
            let endpoint = try NoSFTPEndpoint(slots: [5])
            let (repository, folder) = try LabInstallTests.library()
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-tool", version: "1.0", in: folder)), by: "t", at: Date())
            let stored = repository.filePath(sha256: try #require(record.sha256))
            let handle = try #require(FileHandle(forUpdatingAtPath: stored))
            try handle.seek(toOffset: 100)
            try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
            try handle.close()
            let installer = PackageInstaller(engine: HostFanOut(options: try Lab.options(knownHosts: endpoint.knownHostsPath)), repository: repository)
            let result = try #require(await installer.install([record], on: [try endpoint.host(slot: 5)], forks: 1).first)
            #expect(result.status == .error)
            #expect(result.error?.contains("checksum mismatch after upload") == true, "\(result.error ?? "")")
            #expect(try LabInstallTests.dpkg(root, "acme-tool").isEmpty)
        }
    }

    @Test func aRelayWithoutSFTPGetsTheFileAndPushesItToAHostWithoutSFTP() async throws {
        try await Lab.withDeployEndpoints {
            _ = try Lab.resetSlot(1)
            _ = try Lab.resetSlot(2)
            let relayRoot = try Lab.slotRoot(1)
            try FileManager.default.createDirectory(atPath: relayRoot + "/root/.ssh", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: try Lab.value("LAB_RELAY_KEY"), toPath: relayRoot + "/root/.ssh/relay_ed25519")
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: relayRoot + "/root/.ssh/relay_ed25519")
            let endpoint = try NoSFTPEndpoint(slots: [1, 2])
            var relay = try endpoint.host(slot: 1)
            relay.vars["relay_key"] = .string("/root/.ssh/relay_ed25519")
            var office = try endpoint.host(slot: 2)
            office.vars["relay"] = .string(relay.name)
            let (repository, folder) = try LabInstallTests.library()
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder,
                                                                                      payload: String(repeating: "x", count: 200_000))), by: "t", at: Date())
            let digest = try #require(record.sha256)
            let installer = PackageInstaller(engine: HostFanOut(options: try Lab.options(knownHosts: endpoint.knownHostsPath)), repository: repository,
                                             relays: [relay.name: relay])
            let result = try #require(await installer.install([record], on: [office], forks: 1).first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(result.installed.map(\.toVersion) == ["2.4.1"])
            #expect(!result.steps.contains { $0.phase == "upload" }, "the controller sent nothing to the office host")
            let relayStep = result.steps.first { $0.phase == "relay" }
            #expect(relayStep?.command.hasPrefix("ssh cat (SFTP refused) from relay nosftp1") == true, "\(result.steps.map(\.command))")
            #expect(relayStep?.command.contains("sent \(record.size ?? 0) bytes once to relay nosftp1 (exec cat (SFTP refused))") == true,
                    "\(result.steps.map(\.command))")
            // The relay's cache holds the library's bytes; the office host installed them (after its own SHA-256 check).
            #expect(try Self.sha256(relayRoot + "/var/tmp/patchctl-relay/" + digest) == digest)
            #expect(try LabInstallTests.dpkg(try Lab.slotRoot(2), "acme-agent") == "2.4.1 ii")
        }
    }

    @Test func aRelayWithSFTPPushesToAnOfficeHostWithoutIt() async throws {
        try await Lab.withDeployEndpoints {
            var relay = try Lab.resetSlot(1)
            _ = try Lab.resetSlot(2)
            let relayRoot = try Lab.slotRoot(1)
            try FileManager.default.createDirectory(atPath: relayRoot + "/root/.ssh", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: try Lab.value("LAB_RELAY_KEY"), toPath: relayRoot + "/root/.ssh/relay_ed25519")
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: relayRoot + "/root/.ssh/relay_ed25519")
            relay.vars["relay_key"] = .string("/root/.ssh/relay_ed25519")
            let endpoint = try NoSFTPEndpoint(slots: [2])
            var office = try endpoint.host(slot: 2)
            office.vars["relay"] = .string(relay.name)
            let (repository, folder) = try LabInstallTests.library()
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder)), by: "t", at: Date())
            let installer = PackageInstaller(engine: HostFanOut(options: try Lab.options(knownHosts: endpoint.knownHostsPath)), repository: repository,
                                             relays: [relay.name: relay])
            let result = try #require(await installer.install([record], on: [office], forks: 1).first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            // The relay's own sshd speaks SFTP (staged as always); only the office host's refuses it.
            #expect(result.steps.contains { $0.phase == "relay" && $0.command == "ssh cat (SFTP refused) from relay slot1 (sent \(record.size ?? 0) bytes once to relay slot1)" },
                    "\(result.steps.map(\.command))")
            #expect(try LabInstallTests.dpkg(try Lab.slotRoot(2), "acme-agent") == "2.4.1 ii")
        }
    }
}
