import Foundation
import Testing

/// The configuration layers as a sysadmin writes them: /etc/patchctl/config.yml, the user's
/// file, PATCHCTL_* variables and flags, each overriding the one before, run in-process with
/// files and an environment of the test's own.
@Suite("patchctl config")
struct ConfigCommandTests {
    struct Layout {
        var folder: URL
        var system: URL
        var user: URL
        /// No machine or user file of the test host's applies; HOME is the test's folder.
        var environment: [String: String] {
            ["HOME": folder.path, "PATCHCTL_SYSTEM_CONFIG": system.path, "XDG_CONFIG_HOME": folder.appendingPathComponent("xdg").path,
             "PATH": "/usr/bin:/bin"]
        }
    }

    static func layout(system systemText: String?, user userText: String?) throws -> Layout {
        let folder = try InProcessCLI.temporaryDirectory()
        let layout = Layout(folder: folder, system: folder.appendingPathComponent("etc/patchctl/config.yml"),
                            user: folder.appendingPathComponent("xdg/patchctl/config.yml"))
        for (url, text) in [(layout.system, systemText), (layout.user, userText)] {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if let text { try text.write(to: url, atomically: true, encoding: .utf8) }
        }
        return layout
    }

    static func settings(_ result: InProcessCLI.Result) throws -> [String: [String: Any]] {
        let document = try InProcessCLI.json(result.stdout)
        let entries = try #require(document["settings"] as? [[String: Any]])
        return Dictionary(uniqueKeysWithValues: entries.map { ($0["key"] as? String ?? "?", $0) })
    }

    @Test func eachLayerOverridesTheOneBeforeAndShowSaysWhere() async throws {
        let layout = try Self.layout(
            system: "inventory: [inv/prod.yml, /srv/dmz.yml]\nforks: 20\ncommand_timeout: 5m\nnotify:\n  - {webhook: \"https://hooks.example.com/p?token=1\"}\n",
            user: "forks: 30\nknown_hosts: ~/kh\n")
        var environment = layout.environment
        environment["PATCHCTL_MAX_CONNECTING"] = "7"
        environment["PATCHCTL_COMMAND_TIMEOUT"] = "90s"
        let shown = await InProcessCLI.run(["config", "show", "--format", "json"], environment: environment)
        #expect(shown.status == 0, "\(shown.stderr)")
        let settings = try Self.settings(shown)
        func value(_ key: String) -> String? { settings[key]?["value"] as? String }
        func source(_ key: String) -> String? { settings[key]?["source"] as? String }
        // A relative path is the file's folder's; ~ is HOME.
        #expect(value("inventory") == layout.system.deletingLastPathComponent().path + "/inv/prod.yml, /srv/dmz.yml")
        #expect(source("inventory") == layout.system.path + ":1")
        #expect(value("forks") == "30" && source("forks") == layout.user.path + ":1")
        #expect(value("known_hosts") == layout.folder.path + "/kh")
        #expect(value("max_connecting") == "7" && source("max_connecting") == "$PATCHCTL_MAX_CONNECTING")
        #expect(value("command_timeout") == "90" && settings["command_timeout"]?["origin"] as? String == "environment")
        #expect(value("output") == "table" && source("output") == "default")
        // A webhook's path and query (its secret, often) are not shown.
        #expect(value("notify") == "webhook https://hooks.example.com/…" && !shown.stdout.contains("token=1"))
        let files = try #require(try InProcessCLI.json(shown.stdout)["files"] as? [[String: Any]])
        #expect(files.map { $0["path"] as? String } == [layout.system.path, layout.user.path] && files.allSatisfy { $0["found"] as? Bool == true })

        let table = await InProcessCLI.run(["config", "show"], environment: environment)
        #expect(table.status == 0 && table.stdout.contains("forks ") && table.stdout.contains(layout.user.path + ":1"), "\(table.stdout)")
    }

    @Test func theConfiguredInventoryIsUsedUntilAFlagNamesAnother() async throws {
        let layout = try Self.layout(system: "inventory: fleet.yml\n", user: nil)
        let folder = layout.system.deletingLastPathComponent()
        try "all:\n  hosts:\n    from-config: {ansible_host: 127.0.0.9}\n".write(to: folder.appendingPathComponent("fleet.yml"), atomically: true, encoding: .utf8)
        let other = layout.folder.appendingPathComponent("other.yml")
        try "all:\n  hosts:\n    from-flag: {ansible_host: 127.0.0.10}\n".write(to: other, atomically: true, encoding: .utf8)
        let configured = await InProcessCLI.run(["scan", "--list-hosts", "--output", "json"], environment: layout.environment)
        #expect(configured.status == 0 && configured.stdout.contains("from-config") && !configured.stdout.contains("from-flag"), "\(configured.stderr)")
        let flagged = await InProcessCLI.run(["scan", "--list-hosts", "-i", other.path, "--output", "json"], environment: layout.environment)
        #expect(flagged.status == 0 && flagged.stdout.contains("from-flag") && !flagged.stdout.contains("from-config"))
        // The variable is between the two.
        var environment = layout.environment
        environment["PATCHCTL_INVENTORY"] = other.path
        let variable = await InProcessCLI.run(["scan", "--list-hosts", "--output", "json"], environment: environment)
        #expect(variable.stdout.contains("from-flag") && !variable.stdout.contains("from-config"))
        // output: json from the file, without the flag.
        try "inventory: fleet.yml\noutput: json\n".write(to: layout.system, atomically: true, encoding: .utf8)
        let json = await InProcessCLI.run(["scan", "--list-hosts"], environment: layout.environment)
        #expect((try? InProcessCLI.json(json.stdout))?["hosts"] != nil, "\(json.stdout)")
    }

    @Test func theConfiguredDatabaseAndNotifiersServeEveryCommand() async throws {
        let history = try ScannedHistory.make()
        let marker = history.folder.appendingPathComponent("notified.json")
        let layout = try Self.layout(system: """
            db: \(history.db)
            notify:
              - {command: "cat > '\(marker.path)'", on: [failure]}
            """, user: nil)
        let listed = await InProcessCLI.run(["history", "--output", "json"], environment: layout.environment)
        #expect(listed.status == 0 && history.runs.allSatisfy { listed.stdout.contains($0) }, "\(listed.stderr)")
        // A failed run (a closed port) notifies the configuration's command, and records into its db.
        let inventory = layout.folder.appendingPathComponent("dead.yml")
        try "all:\n  hosts:\n    dead: {ansible_host: 127.0.0.1, ansible_port: 1}\n".write(to: inventory, atomically: true, encoding: .utf8)
        let scan = await InProcessCLI.run(["scan", "-i", inventory.path, "--output", "json", "--known-hosts", layout.folder.path + "/kh"],
                                          environment: layout.environment)
        #expect(scan.status == 2, "\(scan.stderr)")
        let runId = try #require(try InProcessCLI.json(scan.stdout)["run_id"] as? String)
        let piped = try InProcessCLI.json(try String(contentsOf: marker, encoding: .utf8))
        #expect(piped["run_id"] as? String == runId)
        let again = await InProcessCLI.run(["history", "--output", "json"], environment: layout.environment)
        #expect(again.stdout.contains(runId))
    }

    @Test(arguments: [
        ("forsk: 3\n", ":1:1: unknown key 'forsk' in the configuration (did you mean 'forks'?)"),
        ("forks: many\n", ":1:8: 'forks' must be"),
        ("forks: 0\n", ":1:8: 'forks' must be a whole number from 1 to 10000, not '0'"),
        ("command_timeout: forever\n", "'command_timeout' must be a duration above 0"),
        ("output: xml\n", "'output' must be one of table, json, ndjson"),
        ("- forks\n", "a configuration file is a map of settings"),
        ("notify: [{pager: 1}]\n", "unknown key 'pager'"),
        ("db: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n", "'!vault' values cannot be used here"),
    ])
    func aWrongFileStopsEveryCommandButHelp(text: String, message: String) async throws {
        let layout = try Self.layout(system: nil, user: text)
        let result = await InProcessCLI.run(["history"], environment: layout.environment)
        #expect(result.status == 78 && result.stderr.contains(layout.user.path + (message.hasPrefix(":") ? "" : ":")) && result.stderr.contains(message),
                "\(result.stderr)")
        #expect(await InProcessCLI.run(["--version"], environment: layout.environment).status == 0)
    }

    @Test func theShippedExampleIsValid() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("packaging/config.yml")
        var environment = try Self.layout(system: nil, user: nil).environment
        environment["PATCHCTL_SYSTEM_CONFIG"] = example.path
        let shown = await InProcessCLI.run(["config", "show", "--format", "json"], environment: environment)
        #expect(shown.status == 0, "\(shown.stderr)")
        let settings = try Self.settings(shown)
        #expect(settings["inventory"]?["value"] as? String == "/etc/patchctl/inventory.yml" && settings["forks"]?["source"] as? String == example.path + ":17")
    }

    @Test func aPostgreSQLHistoryIsAURLNotAPath() async throws {
        let layout = try Self.layout(system: "db: postgres://ops@db.example.net:6432/history?sslmode=verify-ca\n", user: nil)
        let shown = await InProcessCLI.run(["config", "show", "--format", "json"], environment: layout.environment)
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(try Self.settings(shown)["db"]?["value"] as? String == "postgres://ops@db.example.net:6432/history?sslmode=verify-ca")
        // A password in it is refused where it is written, without being repeated.
        let secret = try Self.layout(system: "db: postgres://ops:hunter2@db.example.net/history\n", user: nil)
        let refused = await InProcessCLI.run(["config", "show"], environment: secret.environment)
        #expect(refused.status != 0 && refused.stderr.contains("config.yml:1") && !refused.stderr.contains("hunter2"), "\(refused.stderr)")
    }

    @Test func aWrongVariableIsNamed() async throws {
        let layout = try Self.layout(system: nil, user: nil)
        var environment = layout.environment
        environment["PATCHCTL_FORKS"] = "lots"
        let result = await InProcessCLI.run(["config", "show"], environment: environment)
        #expect(result.status == 78 && result.stderr == "patchctl: $PATCHCTL_FORKS: must be a whole number from 1 to 10000, not 'lots'\n", "\(result.stderr)")
    }
}
