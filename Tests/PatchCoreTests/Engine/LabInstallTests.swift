import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// The package library's distribution against real endpoints: files pushed over the lab's sshd
/// (SFTP), verified there, installed by apt, checked with dpkg in the tree.
@Suite("Install from the package library on the lab", .serialized, .enabled(if: Lab.enabled))
struct LabInstallTests {
    static func library() throws -> (PackageRepository, URL) {
        let folder = try Lab.temporaryDirectory()
        return (PackageRepository(store: try HistoryStore(path: folder.appendingPathComponent("history.db").path)), folder)
    }

    static func installer(_ repository: PackageRepository) throws -> PackageInstaller {
        PackageInstaller(engine: HostFanOut(options: try Lab.options()), repository: repository)
    }

    static func dpkg(_ root: String, _ name: String) throws -> String {
        try Lab.inChroot(root, ["dpkg-query", "-W", "-f=${Version} ${db:Status-Abbrev}", name]).trimmingCharacters(in: .whitespaces)
    }

    @Test func pushVerifyInstallCleanUpThenSkipWhenAtVersion() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(5)
            let root = try Lab.slotRoot(5)
            let (repository, folder) = try Self.library()
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder)), by: "t", at: Date())
            let result = try #require(await Self.installer(repository).install([record], on: [host], forks: 1).first)
            #expect(result.status == .ok, "\(result.error ?? "")")
            #expect(result.installed == [InstalledPackage(name: "acme-agent", fromVersion: "", toVersion: "2.4.1")])
            #expect(try Self.dpkg(root, "acme-agent") == "2.4.1 ii")
            #expect(result.steps.contains { $0.phase == "upload" })
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").filter { $0.hasPrefix("patchctl-install.") }
            #expect(leftovers.isEmpty, "temporary folder removed: \(leftovers)")

            let again = try #require(await Self.installer(repository).install([record], on: [host], forks: 1).first)
            #expect(again.status == .ok && again.installed.isEmpty)
            #expect(again.skipped.first?.reason == "already installed at this version")
        }
    }

    @Test func wrongPlatformMissingDependencyAndCorruptUploadAreClearPerHostErrors() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(5)
            let root = try Lab.slotRoot(5)
            let (repository, folder) = try Self.library()
            let installer = try Self.installer(repository)

            let (rpm, _) = try await repository.add(.init(path: try await TestPackages.rpm("acme-agent", version: "2.4.1", in: folder)), by: "t", at: Date())
            let wrong = try #require(await installer.install([rpm], on: [host], forks: 1).first)
            #expect(wrong.status == .error)
            #expect(wrong.error?.contains("is a rhel package; this host runs Debian GNU/Linux (debian)") == true, "\(wrong.error ?? "")")

            let (needy, _) = try await repository.add(.init(path: try await TestPackages.deb("needy", version: "1.0", in: folder, depends: "patchctl-no-such-lib")),
                                                by: "t", at: Date())
            let missing = try #require(await installer.install([needy], on: [host], forks: 1).first)
            #expect(missing.status == .failed)
            #expect(missing.failed.first?.reason.contains("patchctl-no-such-lib") == true, "\(missing.failed)")
            #expect(try Self.dpkg(root, "needy").isEmpty, "apt refused before dpkg touched anything")
            #expect(missing.repair == nil)

            // The library's copy is damaged after it was added: the endpoint's checksum catches it.
            let (good, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-tool", version: "1.0", in: folder)), by: "t", at: Date())
            let stored = repository.filePath(sha256: try #require(good.sha256))
            let handle = try #require(FileHandle(forUpdatingAtPath: stored))
            try handle.seek(toOffset: 100)
            try handle.write(contentsOf: Data([0xFF, 0x00, 0xFF]))
            try handle.close()
            let corrupt = try #require(await installer.install([good], on: [host], forks: 1).first)
            #expect(corrupt.status == .error)
            #expect(corrupt.error?.contains("checksum mismatch after upload") == true, "\(corrupt.error ?? "")")
            #expect(try Self.dpkg(root, "acme-tool").isEmpty)
            #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/tmp").filter { $0.hasPrefix("patchctl-install.") }.isEmpty)
        }
    }

    @Test func largeUploadStreamsInBoundedMemory() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(6)
            let root = try Lab.slotRoot(6)
            let folder = try Lab.temporaryDirectory()
            let big = folder.appendingPathComponent("big.bin").path
            // 320 MiB of random bytes (nothing may compress it away), made and hashed by coreutils.
            try await TestPackages.run("/bin/sh", ["-c", "head -c 335544320 /dev/urandom > " + Shell.quote(big)])
            let expected = try Lab.inChroot("/", ["sha256sum", big]).split(separator: " ").first.map(String.init)
            defer { try? FileManager.default.removeItem(atPath: big) }
            let before = Self.maxResidentBytes()
            let sent = await Lab.runUpload(big, to: "/tmp/big.bin", on: host, try Lab.options())
            let grown = Self.maxResidentBytes() - before
            #expect(sent == 320 << 20)
            #expect(grown < 96 << 20, "peak memory grew by \(grown >> 20) MiB for a 320 MiB upload")
            let digest = try Lab.inChroot(root, ["sha256sum", "/tmp/big.bin"]).split(separator: " ").first.map(String.init)
            #expect(digest != nil && digest == expected)
            try? FileManager.default.removeItem(atPath: root + "/tmp/big.bin")
        }
    }

    static func maxResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }
}

extension Lab {
    /// Uploads one file to one host through the engine (as installs do); returns the bytes sent or -1.
    static func runUpload(_ local: String, to remote: String, on host: Host, _ options: ConnectionOptions) async -> Int64 {
        await HostFanOut(options: options).run(
            hosts: [host], forks: 1,
            work: { connection in try await connection.upload(local, to: remote) },
            failed: { _, _, _ in -1 }, onFinished: { _ in }).first ?? -1
    }
}

@Suite("Policy bundles on the lab", .serialized, .enabled(if: Lab.enabled))
struct LabBundleTests {
    /// On both stores: on a PostgreSQL history the bundle's library file comes from the history.
    @Test(arguments: StoreKind.all) func onboardingBundleInstallsInOrderAndTheTestRingMayTakePendingPackages(kind: StoreKind) async throws {
        try await Lab.withDeployEndpoints {
            let test = try Lab.resetSlot(5)
            let production = try Lab.resetSlot(6)
            let folder = try Lab.temporaryDirectory()
            let history = try await TestStore.make(kind)
            let store = history.store
            let repository = PackageRepository(store: store)
            _ = try await repository.add(.init(path: try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder)), by: "t", at: Date())
            let policy = folder.appendingPathComponent("onboarding.yml").path
            try """
                name: onboarding
                targets: fleet
                refresh: false
                select: {updates: security, include: ["nothing-matches-*"]}
                rings:
                  - {name: test, targets: canaries}
                  - {name: production}
                install: [acme-agent, patchlab-tool@2.0]
                test_ring_installs_pending: true
                """.write(toFile: policy, atomically: true, encoding: .utf8)
            let inventory = try LabDeployTests.inventory([test, production], groups: ["canaries": [test.name]])
            let (run, _) = try await LabDeployTests.deploy(policy: policy, inventory: inventory, store: store)
            let first = try #require(run.hosts.first), second = try #require(run.hosts.last)
            #expect(first.status == .ok, "\(first.error ?? "")")
            #expect(first.installed.map(\.name) == ["acme-agent", "patchlab-tool"], "library item then the package manager's, in order")
            #expect(try LabInstallTests.dpkg(try Lab.slotRoot(5), "acme-agent") == "2.4.1 ii")
            #expect(try LabInstallTests.dpkg(try Lab.slotRoot(5), "patchlab-tool") == "2.0 ii")
            // Production takes only approved library packages.
            #expect(second.installed.map(\.name) == ["patchlab-tool"])
            #expect(second.skipped.contains { $0.name == "acme-agent" && $0.awaitingApproval && $0.reason.contains("not approved") })
            #expect(try LabInstallTests.dpkg(try Lab.slotRoot(6), "acme-agent").isEmpty)

            _ = try repository.decide(name: "acme-agent", version: "2.4.1", state: .approved, by: "cab", note: nil, at: Date())
            let (again, _) = try await LabDeployTests.deploy(policy: policy, inventory: inventory, store: store)
            #expect(again.hosts.first?.installed.isEmpty == true, "already at the versions: skipped")
            #expect(again.hosts.last?.installed.map(\.name) == ["acme-agent"])
            #expect(try LabInstallTests.dpkg(try Lab.slotRoot(6), "acme-agent") == "2.4.1 ii")
        }
    }
}

@Suite("Relay hosts on the lab", .serialized, .enabled(if: Lab.enabled))
struct LabRelayTests {
    @Test func officeHostsGetTheFileFromTheirRelayWhichGetsItOnce() async throws {
        try await Lab.withDeployEndpoints {
            var relay = try Lab.resetSlot(1)
            let relayRoot = try Lab.slotRoot(1)
            // The office's relay key: on the relay, and accepted by the office's hosts (lab/start.sh authorizes it).
            try FileManager.default.createDirectory(atPath: relayRoot + "/root/.ssh", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: try Lab.value("LAB_RELAY_KEY"), toPath: relayRoot + "/root/.ssh/relay_ed25519")
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: relayRoot + "/root/.ssh/relay_ed25519")
            relay.vars["relay_key"] = .string("/root/.ssh/relay_ed25519")
            var office: [Host] = []
            for slot in [2, 3] {
                var host = try Lab.resetSlot(slot)
                host.vars["relay"] = .string(relay.name)
                office.append(host)
            }
            let (repository, folder) = try LabInstallTests.library()
            let (record, _) = try await repository.add(.init(path: try await TestPackages.deb("acme-agent", version: "2.4.1", in: folder, payload: String(repeating: "x", count: 200_000))),
                                                 by: "t", at: Date())
            let digest = try #require(record.sha256)
            let installer = PackageInstaller(engine: HostFanOut(options: try Lab.options()), repository: repository, relays: [relay.name: relay])
            let results = await installer.install([record], on: office, forks: 2)
            for result in results {
                #expect(result.status == .ok, "\(result.name): \(result.error ?? "")")
                #expect(result.installed.map(\.toVersion) == ["2.4.1"])
                #expect(!result.steps.contains { $0.phase == "upload" }, "the controller sent nothing to \(result.name)")
                #expect(result.steps.contains { $0.phase == "relay" && $0.command.contains("sent \(record.size ?? 0) bytes once to relay slot1") }, "\(result.steps.map(\.command))")
            }
            for slot in [2, 3] { #expect(try LabInstallTests.dpkg(try Lab.slotRoot(slot), "acme-agent") == "2.4.1 ii") }
            let cached = relayRoot + "/var/tmp/patchctl-relay/" + digest
            #expect(FileManager.default.contentsEqual(atPath: cached, andPath: repository.filePath(sha256: digest)))

            // A later run finds the file in the relay's cache: the WAN carries nothing.
            _ = try Lab.resetSlot(2)
            let later = PackageInstaller(engine: HostFanOut(options: try Lab.options()), repository: repository, relays: [relay.name: relay])
            let again = try #require(await later.install([record], on: [office[0]], forks: 1).first)
            #expect(again.status == .ok, "\(again.error ?? "")")
            #expect(again.steps.contains { $0.command.contains("already in relay slot1's cache") })

            // A relay without its key is a clear error for the hosts behind it.
            var keyless = relay
            keyless.vars["relay_key"] = nil
            _ = try Lab.resetSlot(3)
            let broken = PackageInstaller(engine: HostFanOut(options: try Lab.options()), repository: repository, relays: [relay.name: keyless])
            let failed = try #require(await broken.install([record], on: [office[1]], forks: 1).first)
            #expect(failed.status == .error && failed.error?.contains("relay slot1 has no relay_key") == true, "\(failed.error ?? "")")
        }
    }
}

@Suite("A full disk on the endpoint", .serialized, .enabled(if: Lab.enabled))
struct LabFullDiskTests {
    @Test func uploadIntoAFullFileSystemIsAClearErrorAndNothingIsInstalled() async throws {
        try await Lab.withDeployEndpoints {
            let host = try Lab.resetSlot(4)
            let root = try Lab.slotRoot(4)
            // A 1 MiB file system at the slot's /tmp, where installs put their files.
            let mount = try await TestProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=1777", "tmpfs", root + "/tmp"])
            try #require(mount.status == 0, "cannot mount a tmpfs here: \(mount.stderr)")
            defer { _ = try? Lab.resetSlot(4) }  // reset unmounts what is below the slot
            let (repository, folder) = try LabInstallTests.library()
            // Random bytes (base64) do not compress: the package stays larger than the file system.
            var generator = SystemRandomNumberGenerator()
            let noise = Data((0..<(2 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
            let big = try await TestPackages.deb("acme-big", version: "1.0", in: folder, payload: noise)
            let (record, _) = try await repository.add(.init(path: big), by: "t", at: Date())
            try #require((record.size ?? 0) > 1 << 20, "the package must not fit: \(record.size ?? 0) bytes")
            let result = try #require(await LabInstallTests.installer(repository).install([record], on: [host], forks: 1).first)
            #expect(result.status == .error)
            #expect(result.error?.contains("write failed") == true && result.error?.contains("SFTP status 4") == true, "\(result.error ?? "")")
            #expect(result.installed.isEmpty)
            #expect(try LabInstallTests.dpkg(root, "acme-big").isEmpty)
        }
    }
}
