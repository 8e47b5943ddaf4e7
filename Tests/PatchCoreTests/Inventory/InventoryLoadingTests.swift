import Foundation
import Testing
@testable import PatchCore

@Suite("Inventory loading")
struct InventoryLoadingTests {
    // MARK: A realistic Ansible inventory

    @Test func ansibleDocsInventoryLoadsHostsInFileOrder() throws {
        let inventory = try InventoryFixtures.load("ansible-docs.yml")
        #expect(inventory.hosts.map(\.name) == [
            "mail.example.com", "foo.example.com", "bar.example.com", "one.example.com",
            "two.example.com", "three.example.com", "host1", "host2", "host3", "jumphost",
            "www01.example.com", "www02.example.com", "www03.example.com",
            "db-a.example.com", "db-b.example.com", "db-c.example.com",
        ])
    }

    @Test func groupsListDirectHostsChildrenAndOwnVars() throws {
        let inventory = try InventoryFixtures.load("ansible-docs.yml")
        let groups = inventory.groups
        #expect(Set(groups.keys) == [
            "all", "ungrouped", "webservers", "dbservers", "east", "west", "prod", "test", "usa",
            "southeast", "atlanta", "raleigh", "northeast", "northwest", "southwest", "jumper", "webfarm",
        ])
        #expect(groups["prod"]?.children == ["east"])
        #expect(groups["prod"]?.hosts == [])
        #expect(groups["southeast"]?.children == ["atlanta", "raleigh"])
        #expect(groups["raleigh"]?.hosts == ["host2", "host3"])
        #expect(groups["webservers"]?.vars == ["http_port": .int(80)])
        #expect(groups["all"]?.hosts == ["mail.example.com"])
        // Top-level groups and the implicit `ungrouped` are children of `all`.
        #expect(groups["all"]?.children == [
            "webservers", "dbservers", "east", "west", "prod", "test", "usa", "jumper", "webfarm", "ungrouped",
        ])
        #expect(groups["ungrouped"]?.hosts == ["mail.example.com"])
        #expect(groups["northeast"] == Inventory.Group(name: "northeast"))
    }

    @Test func hostGroupsIncludeAncestorsAndAll() throws {
        let inventory = try InventoryFixtures.load("ansible-docs.yml")
        #expect(inventory.host(named: "foo.example.com")?.groups == ["all", "east", "prod", "webservers"])
        #expect(inventory.host(named: "host2")?.groups == ["all", "atlanta", "raleigh", "southeast", "usa"])
        #expect(inventory.host(named: "mail.example.com")?.groups == ["all", "ungrouped"])
        #expect(inventory.host(named: "www02.example.com")?.groups == ["all", "webfarm"])
    }

    @Test func childGroupVarsOverrideParentsWhateverTheirNames() throws {
        let inventory = try InventoryFixtures.load("ansible-docs.yml")
        let foo = try #require(inventory.host(named: "foo.example.com"))
        // east (depth 2, child of prod) beats prod (depth 1) although "east" < "prod".
        #expect(foo.vars["datacenter"] == .string("east"))
        #expect(foo.vars["environment_name"] == .string("production"))
        #expect(foo.vars["ntp_server"] == .string("ntp.east.example.com"))
        #expect(foo.vars["proxy"] == .string("proxy.example.com"))  // from all
        #expect(foo.vars["http_port"] == .int(80))

        let bar = try #require(inventory.host(named: "bar.example.com"))
        #expect(bar.vars["datacenter"] == .string("west"))
        #expect(bar.vars["environment_name"] == .string("test"))
        #expect(bar.vars["ntp_server"] == .string("ntp.example.com"))
    }

    @Test func sameDepthGroupsMergeAlphabeticallyAndHostVarsWin() throws {
        let inventory = try InventoryFixtures.load("ansible-docs.yml")
        let host2 = try #require(inventory.host(named: "host2"))
        #expect(host2.vars["proxy"] == .string("proxy.raleigh.example.com"))  // raleigh after atlanta
        #expect(host2.vars["ntp_server"] == .string("ntp.atlanta.example.com"))
        #expect(host2.vars["some_server"] == .string("foo.southeast.example.com"))
        #expect(host2.vars["halon_system_timeout"] == .int(30))

        let host1 = try #require(inventory.host(named: "host1"))
        #expect(host1.vars["http_port"] == .int(8080))
        #expect(host1.vars["proxy"] == .string("proxy.atlanta.example.com"))
    }

    @Test func connectionSettingsComeFromAnsibleVariables() throws {
        let inventory = try InventoryFixtures.load("ansible-docs.yml")
        let jump = try #require(inventory.host(named: "jumphost"))
        #expect(jump.address == "192.0.2.50")
        #expect(jump.port == 5555)
        #expect(jump.user == "deploy")
        #expect(jump.vars["ansible_host"] == .string("192.0.2.50"))

        let three = try #require(inventory.host(named: "three.example.com"))
        #expect(three.port == 2222)
        #expect(three.address == "three.example.com")

        let mail = try #require(inventory.host(named: "mail.example.com"))
        var expected = PatchCore.Host(name: "mail.example.com", user: "deploy", groups: ["all", "ungrouped"], vars: [
            "ntp_server": .string("ntp.example.com"), "proxy": .string("proxy.example.com"),
            "ansible_user": .string("deploy"),
        ])
        expected.fromInventory = ["user"]
        #expect(mail == expected)
    }

    @Test func groupPriorityReordersSameDepthGroups() throws {
        let yaml = """
            all:
              children:
                alpha:
                  hosts: {web1: }
                  vars: {role: alpha, ansible_group_priority: 10}
                beta:
                  hosts: {web1: }
                  vars: {role: beta}
            """
        let inventory = try parseInventory(yaml)
        let web1 = try #require(inventory.host(named: "web1"))
        #expect(web1.vars["role"] == .string("alpha"))
        #expect(web1.vars["ansible_group_priority"] == nil)
        #expect(inventory.groups["alpha"]?.priority == 10)
    }

    @Test func hostListedInSeveralPlacesMergesItsVarsInFileOrder() throws {
        let yaml = """
            web:
              hosts:
                app1: {role: web, tier: 1}
            db:
              hosts:
                app1: {role: db}
            """
        let app1 = try #require(try parseInventory(yaml).host(named: "app1"))
        #expect(app1.vars == ["role": .string("db"), "tier": .int(1)])
        #expect(app1.groups == ["all", "db", "web"])
    }

    // MARK: Empty and minimal files

    @Test func theSmallestInventoryIsOneHost() throws {
        let inventory = try parseInventory("all:\n  hosts:\n    web1:\n")
        #expect(inventory.hosts.map(\.name) == ["web1"])
        #expect(Set(inventory.groups.keys) == ["all", "ungrouped"])
    }

    @Test func hostsMayBeGivenAsASingleName() throws {
        // Ansible turns a string under hosts into a one-entry map.
        let inventory = try parseInventory("""
            web:
              hosts: web1
            prod:
              children:
                web:
            """)
        #expect(inventory.host(named: "web1")?.groups == ["all", "prod", "web"])
    }

    @Test func yamlAnchorsAndMergeKeysWork() throws {
        let inventory = try parseInventory("""
            all:
              hosts:
                web1: &defaults
                  ansible_user: ops
                  ansible_port: 2200
                web2:
                  <<: *defaults
                  ansible_port: 2201
            """)
        #expect(inventory.host(named: "web2")?.user == "ops")
        #expect(inventory.host(named: "web2")?.port == 2201)
        #expect(inventory.host(named: "web1")?.port == 2200)
    }

    // MARK: Host keys

    @Test func hostRangesExpandLikeAnsible() throws {
        let inventory = try parseInventory("""
            all:
              hosts:
                web[08:10].example.com:
                  ansible_user: web
                db-[a:c]:
                node[1:5:2]:
                r[1:2]-[a:b]:
            """)
        #expect(inventory.hosts.map(\.name) == [
            "web08.example.com", "web09.example.com", "web10.example.com", "db-a", "db-b", "db-c",
            "node1", "node3", "node5", "r1-a", "r1-b", "r2-a", "r2-b",
        ])
        #expect(inventory.host(named: "web09.example.com")?.user == "web")
    }

    @Test func hostKeyPortSuffixSetsAnsiblePort() throws {
        let inventory = try parseInventory("""
            all:
              hosts:
                db1.example.com:2222:
                "[2001:db8::10]:2200":
                "2001:db8::11":
                app[1:2]:2201:
            """)
        #expect(inventory.hosts.map(\.name) == ["db1.example.com", "2001:db8::10", "2001:db8::11", "app1", "app2"])
        #expect(inventory.hosts.map(\.port) == [2222, 2200, 22, 2201, 2201])
        #expect(inventory.host(named: "db1.example.com")?.vars["ansible_port"] == .int(2222))
    }

    // MARK: Connection keys and aliases

    @Test(arguments: [
        ("address", "10.0.0.5"), ("ansible_host", "10.0.0.5"), ("ansible_ssh_host", "10.0.0.5"),
    ])
    func addressAliases(key: String, value: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): \(value)\n").hosts.first)
        #expect(host.address == value)
        #expect(host.vars[key] == .string(value))
    }

    @Test(arguments: ["port", "ansible_port", "ansible_ssh_port"])
    func portAliases(key: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): 2022\n").hosts.first)
        #expect(host.port == 2022)
    }

    @Test(arguments: ["user", "ansible_user", "ansible_ssh_user"])
    func userAliases(key: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): ops\n").hosts.first)
        #expect(host.user == "ops")
    }

    @Test(arguments: ["private_key_file", "ansible_ssh_private_key_file", "ansible_private_key_file"])
    func privateKeyAliases(key: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): /keys/id\n").hosts.first)
        #expect(host.privateKeyFile == "/keys/id")
    }

    @Test(arguments: ["become", "ansible_become"])
    func becomeAliases(key: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): true\n").hosts.first)
        #expect(host.become)
    }

    @Test(arguments: ["become_user", "ansible_become_user"])
    func becomeUserAliases(key: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): postgres\n").hosts.first)
        #expect(host.becomeUser == "postgres")
    }

    @Test(arguments: [
        ("connection", "winrm", PatchCore.Host.Connection.winrm), ("ansible_connection", "ssh", .ssh),
        ("ansible_connection", "local", .local), ("ansible_connection", "paramiko", .ssh),
        ("ansible_connection", "smart", .ssh), ("ansible_connection", "psrp", .winrm),
    ])
    func connectionAliasesAndAnsiblePlugins(key: String, value: String, expected: PatchCore.Host.Connection) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): \(value)\n").hosts.first)
        #expect(host.connection == expected)
    }

    @Test(arguments: [
        ("shell_type", "cmd", PatchCore.Host.ShellType.cmd), ("ansible_shell_type", "powershell", .powershell),
        ("ansible_shell_type", "sh", .sh), ("ansible_shell_type", "bash", .sh), ("shell_type", "zsh", .sh),
    ])
    func shellTypeAliases(key: String, value: String, expected: PatchCore.Host.ShellType) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(key): \(value)\n").hosts.first)
        #expect(host.shellType == expected)
    }

    @Test func patchctlOnlySecretReferences() throws {
        let host = try #require(try parseInventory("""
            all:
              hosts:
                web1:
                  password_env: WEB1_PASSWORD
                  password_command: pass show fleet/web1
                  become_password_env: WEB1_SUDO
                  become_password_command: pass show fleet/web1-sudo
            """).hosts.first)
        #expect(host.passwordEnv == "WEB1_PASSWORD")
        #expect(host.passwordCommand == "pass show fleet/web1")
        #expect(host.becomePasswordEnv == "WEB1_SUDO")
        #expect(host.becomePasswordCommand == "pass show fleet/web1-sudo")
    }

    @Test func defaultsWithoutConnectionKeys() throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n").hosts.first)
        #expect(host == PatchCore.Host(name: "web1", groups: ["all", "ungrouped"]))
        #expect(host.address == "web1")
        #expect(host.port == 22)
        #expect(host.becomeUser == "root")
    }

    @Test func winrmDefaultsToPowerShellOnTheHTTPSPort() throws {
        let inventory = try parseInventory("""
            windows:
              vars: {ansible_connection: winrm}
              hosts:
                win1:
                win2: {ansible_winrm_scheme: http}
                win3: {ansible_port: 5000, ansible_shell_type: cmd}
            """)
        #expect(inventory.hosts.map(\.port) == [5986, 5985, 5000])
        #expect(inventory.hosts.map(\.shellType) == [.powershell, .powershell, .cmd])
    }

    @Test(arguments: [("yes", true), ("no", false), ("on", true), ("off", false), ("'true'", true), ("'False'", false), ("\"yes\"", true)])
    func becomeAcceptsAnsibleBooleanSpellings(written: String, expected: Bool) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      ansible_become: \(written)\n").hosts.first)
        #expect(host.become == expected)
    }

    @Test func portAcceptsANumericString() throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      ansible_port: \"2222\"\n").hosts.first)
        #expect(host.port == 2222)
    }

    @Test func ownKeyBeatsAliasAtTheSameLevel() throws {
        let host = try #require(try parseInventory("""
            all:
              hosts:
                web1:
                  ansible_host: 10.0.0.1
                  address: 10.0.0.2
                  ansible_ssh_host: 10.0.0.3
                  ansible_user: alias-user
                  user: own-user
            """).hosts.first)
        #expect(host.address == "10.0.0.2")
        #expect(host.user == "own-user")
        // Both spellings stay in vars as written.
        #expect(host.vars["ansible_host"] == .string("10.0.0.1"))
    }

    @Test func aMoreSpecificLevelBeatsTheOwnKeyOfALessSpecificOne() throws {
        let inventory = try parseInventory("""
            all:
              vars:
                user: from-all
                port: 2200
              children:
                web:
                  vars:
                    ansible_user: from-web
                  hosts:
                    web1:
                      ansible_port: 2201
                    web2:
                      port: ~
            """)
        #expect(inventory.host(named: "web1")?.user == "from-web")
        #expect(inventory.host(named: "web1")?.port == 2201)
        // An explicit null resets to the default instead of inheriting.
        #expect(inventory.host(named: "web2")?.port == 22)
    }

    // MARK: Key paths

    @Test func privateKeyPathsResolveAgainstTheInventoryFolderAndHome() throws {
        let inventory = try InventoryFixtures.load("with-keys.yml", environment: ["HOME": "/home/tester"])
        let folder = InventoryFixtures.folder
        let parent = URL(fileURLWithPath: folder).deletingLastPathComponent().path
        #expect(inventory.host(named: "relative")?.privateKeyFile == folder + "/keys/fleet_ed25519")
        #expect(inventory.host(named: "parent-folder")?.privateKeyFile == parent + "/shared/id_rsa")
        #expect(inventory.host(named: "home")?.privateKeyFile == "/home/tester/.ssh/id_ed25519")
        #expect(inventory.host(named: "absolute")?.privateKeyFile == "/etc/patchctl/id_ed25519")
        // vars keep what was written.
        #expect(inventory.host(named: "relative")?.vars["private_key_file"] == .string("keys/fleet_ed25519"))
    }

    @Test func aRelativeInventoryPathIsTakenFromTheWorkingDirectory() throws {
        let inventory = try Inventory.parse(
            yaml: "all:\n  hosts:\n    web1:\n      private_key_file: ./keys/../id_web\n",
            file: "site/inventory.yml", environment: [:])
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL.path
        #expect(inventory.host(named: "web1")?.privateKeyFile == cwd + "/site/id_web")
    }

    @Test func homeMustBeSetForTildePaths() {
        do {
            _ = try parseInventory("all:\n  hosts:\n    web1:\n      private_key_file: ~/.ssh/id\n", environment: [:])
            Issue.record("expected an error")
        } catch {
            #expect(error == .inventory(file: "inventory.yml", line: 4, column: 25,
                                        message: "'private_key_file' starts with '~' but HOME is not set"))
        }
    }

    // MARK: Ordinary variables

    @Test func ordinaryVariablesPassThroughWithTheirTypes() throws {
        let host = try #require(try parseInventory("""
            all:
              hosts:
                web1:
                  http_port: 80
                  users: [alice, bob]
                  ports: [80, 443]
                  host: web1.internal
                  ratio: 0.5
                  enabled: yes
                  nothing:
                  limits: {cpu: 2, label: "x"}
                  ansible_python_interpreter: /usr/bin/python3
                  raw: !unsafe "{{ not templated }}"
            """).hosts.first)
        #expect(host.vars["http_port"] == .int(80))
        #expect(host.vars["users"] == .list([.string("alice"), .string("bob")]))
        #expect(host.vars["ports"] == .list([.int(80), .int(443)]))
        #expect(host.vars["host"] == .string("web1.internal"))
        #expect(host.vars["ratio"] == .double(0.5))
        #expect(host.vars["enabled"] == .bool(true))
        #expect(host.vars["nothing"] == .null)
        #expect(host.vars["limits"] == .map(["cpu": .int(2), "label": .string("x")]))
        #expect(host.vars["ansible_python_interpreter"] == .string("/usr/bin/python3"))
        #expect(host.vars["raw"] == .string("{{ not templated }}"))
    }

    // MARK: Reading files

    @Test func missingFileIsAnInventoryError() {
        #expect(throws: PatchError.inventory(file: "/nonexistent/inventory.yml", line: nil, column: nil,
                                             message: "inventory file not found")) {
            try Inventory.load(path: "/nonexistent/inventory.yml")
        }
    }
}
