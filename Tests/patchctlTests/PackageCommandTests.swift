import Foundation
import LabSupport
import Testing

@Suite("patchctl package and install CLI", .serialized, .enabled(if: CLI.labEnabled))
struct PackageCommandTests {
    static func deb(_ name: String, _ version: String, in folder: URL) throws -> String {
        let root = folder.appendingPathComponent("\(name)-\(version)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("DEBIAN"), withIntermediateDirectories: true)
        try "Package: \(name)\nVersion: \(version)\nArchitecture: all\nMaintainer: t <t@example.invalid>\nDescription: test\n"
            .write(to: root.appendingPathComponent("DEBIAN/control"), atomically: true, encoding: .utf8)
        let output = folder.appendingPathComponent("\(name)_\(version)_all.deb").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-deb")
        process.arguments = ["--build", "--root-owner-group", root.path, output]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitForExit()
        return output
    }

    /// Lab slot 4, reset, as an inventory: the arguments that target it.
    static func slot4(in folder: URL) throws -> [String] {
        try DeployCommandTests.slotScript(["reset", "4"])
        let inventory = folder.appendingPathComponent("inv.yml")
        try """
            all:
              hosts:
                slot4: {ansible_host: \(try CLI.lab("LAB_SLOT_ADDRESS_PREFIX"))4, ansible_port: \(try CLI.lab("LAB_DEPLOY_PORT")), ansible_user: root,
                        ansible_ssh_private_key_file: \(try CLI.lab("LAB_KEY"))}
            """.write(to: inventory, atomically: true, encoding: .utf8)
        return ["-i", inventory.path, "--known-hosts", try CLI.lab("LAB_KNOWN_HOSTS")]
    }

    @Test func addApproveInstallListAndPrune() async throws {
        try await CLI.withDeployEndpoints {
            let folder = try CLI.temporaryDirectory()
            let db = ["--db", folder.appendingPathComponent("h.db").path]
            let target = try Self.slot4(in: folder) + db

            let add = try CLI.run(["package", "add", try Self.deb("acme-agent", "2.4.1", in: folder), "--notes", "CHG-77"] + db)
            #expect(add.status == 0 && add.stdout.hasPrefix("added acme-agent@2.4.1 (debian, all, deb, sha256 "), "\(add.stdout)\(add.stderr)")
            let refused = try CLI.run(["install", "acme-agent@2.4.1"] + target)
            #expect(refused.status == 1 && refused.stderr.contains("acme-agent@2.4.1 is pending: only approved packages install"), "\(refused.stderr)")
            #expect(try CLI.run(["package", "approve", "acme-agent@2.4.1", "--note", "CAB"] + db).status == 0)

            let plan = try CLI.run(["install", "acme-agent@2.4.1", "--dry-run", "--output", "json"] + target)
            #expect(plan.status == 0 && plan.stdout.contains("sftp put acme-agent_2.4.1_all.deb"), "\(plan.stdout)\(plan.stderr)")
            let done = try CLI.run(["install", "acme-agent@2.4.1", "--output", "json"] + target)
            #expect(done.status == 0, "\(done.stderr)")
            let document = try CLI.json(done.stdout)
            let host = try #require((document["hosts"] as? [[String: Any]])?.first)
            #expect((host["installed"] as? [[String: Any]])?.first?["to_version"] as? String == "2.4.1")
            let runId = try #require(document["run_id"] as? String)
            let shown = try CLI.run(["history", "show", runId, "--output", "json"] + db)
            #expect(shown.status == 0 && shown.stdout.contains("\"to_version\" : \"2.4.1\""), "\(shown.stderr)")

            let list = try CLI.run(["package", "list", "--output", "json"] + db)
            #expect(list.stdout.contains("\"state\" : \"approved\"") && list.stdout.contains("\"decided_by\""))
            _ = try CLI.run(["package", "add", try Self.deb("acme-agent", "2.5.0", in: folder)] + db)
            _ = try CLI.run(["package", "approve", "acme-agent@2.5.0"] + db)
            let prune = try CLI.run(["package", "prune", "--keep", "1", "--dry-run"] + db, currentDirectory: folder)
            #expect(prune.status == 0)
            #expect(prune.stdout.contains("would remove acme-agent@2.4.1: outdated: 1 newer version(s) kept"), "\(prune.stdout)\(prune.stderr)")
            let events = try CLI.run(["history", "events", "--output", "json"] + db)
            for action in ["package-add", "package-approve"] { #expect(events.stdout.contains("\"action\" : \"\(action)\"")) }
        }
    }

    /// A shared PostgreSQL history: one controller adds and approves a package, another (a state
    /// folder of its own, so none of the first's files) installs it on a lab endpoint from the
    /// history's copy of the file, and a prune there removes the history's bytes with the entry.
    @Test(.enabled(if: PostgresServer.enabled)) func aPackageAddedOnOneControllerInstallsFromAnotherThroughTheSharedHistory() async throws {
        try await CLI.withDeployEndpoints {
            let server = try await PostgresServer()
            try await server.createDatabase("fleet")
            let folder = try CLI.temporaryDirectory()
            let db = ["--db", server.url(database: "fleet")]
            let password = try server.passwordFile()
            let (office, dmz) = (["PGPASSFILE": password, "STATE_DIRECTORY": folder.appendingPathComponent("office").path],
                                 ["PGPASSFILE": password, "STATE_DIRECTORY": folder.appendingPathComponent("dmz").path])
            let target = try Self.slot4(in: folder) + db

            let add = try CLI.run(["package", "add", try Self.deb("acme-agent", "2.4.1", in: folder)] + db, environment: office)
            #expect(add.status == 0, "\(add.stdout)\(add.stderr)")
            let digest = try #require(add.stdout.split(separator: " ").firstIndex(of: "sha256").map { String(add.stdout.split(separator: " ")[$0 + 1].prefix(64)) })
            #expect(try CLI.run(["package", "approve", "acme-agent@2.4.1"] + db, environment: office).status == 0)

            let done = try CLI.run(["install", "acme-agent@2.4.1", "--output", "json"] + target, environment: dmz)
            #expect(done.status == 0, "\(done.stderr)")
            let host = try #require((try CLI.json(done.stdout)["hosts"] as? [[String: Any]])?.first)
            #expect((host["installed"] as? [[String: Any]])?.first?["to_version"] as? String == "2.4.1", "\(done.stdout)")
            let fetched = try FileManager.default.subpathsOfDirectory(atPath: folder.appendingPathComponent("dmz/packages").path).filter { $0.hasSuffix(digest) }
            #expect(fetched.count == 1, "the installing controller keeps the copy it pushed: \(fetched)")
            let list = try CLI.run(["package", "list", "--output", "json"] + db, environment: dmz)
            #expect(list.status == 0 && list.stdout.contains("\"state\" : \"approved\""), "\(list.stdout)\(list.stderr)")

            // A newer version from the office; the DMZ prunes the older one: the entry, the history's bytes and its own copy go.
            _ = try CLI.run(["package", "add", try Self.deb("acme-agent", "2.5.0", in: folder)] + db, environment: office)
            _ = try CLI.run(["package", "approve", "acme-agent@2.5.0"] + db, environment: office)
            let prune = try CLI.run(["package", "prune", "--keep", "1"] + db, environment: dmz, currentDirectory: folder)
            #expect(prune.status == 0 && prune.stdout.contains("removed acme-agent@2.4.1: outdated"), "\(prune.stdout)\(prune.stderr)")
            let held = try await server.admin("SELECT COUNT(*) FROM package_files WHERE sha256 = '\(digest)'", database: "fleet")
            #expect(held.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            #expect(try FileManager.default.subpathsOfDirectory(atPath: folder.appendingPathComponent("dmz/packages").path).filter { $0.hasSuffix(digest) }.isEmpty)
        }
    }
}
