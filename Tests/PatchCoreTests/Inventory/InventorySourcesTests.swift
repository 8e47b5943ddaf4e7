import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// A fresh folder of files for one test; `write` makes parents, `mode` sets permissions.
struct InventoryFolder {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-inv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String, mode: Int = 0o644) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        return file
    }

    func load(_ names: String..., environment: [String: String] = ["HOME": "/home/tester"]) throws -> Inventory {
        try Inventory.load(paths: names.map { $0.isEmpty ? path : path + "/" + $0 }, environment: environment)
    }
}

@Suite("Inventory sources: folders, group_vars, host_vars, several -i, dynamic scripts")
struct InventorySourcesTests {
    @Test func groupVarsBesideAYAMLInventoryAreRead() throws {
        // The issue's example: group_vars/ beside a YAML inventory was silently ignored (every host on port 22).
        let folder = try InventoryFolder()
        try folder.write("inventory.yml", "all:\n  children:\n    web:\n      hosts:\n        web1:\n")
        try folder.write("group_vars/web.yml", "ansible_port: 2222\nansible_user: deploy\n")
        try folder.write("host_vars/web1/main.yml", "role: front\n")
        let host = try #require(try folder.load("inventory.yml").host(named: "web1"))
        #expect(host.port == 2222)
        #expect(host.user == "deploy")
        #expect(host.vars["role"] == .string("front"))
        #expect(host.fromInventory.isSuperset(of: ["port", "user"]))
    }

    @Test func varsFilesComeAfterEveryInlineGroupVariableAndHostVarsFilesLast() throws {
        let folder = try InventoryFolder()
        try folder.write("hosts.ini", "[web]\nweb1 level=host-inline\n[web:vars]\nshared=web-inline\nlevel=web-inline\n")
        try folder.write("group_vars/all.yml", "shared: all-file\n")
        try folder.write("host_vars/web1.yaml", "level: host-file\n")
        let host = try #require(try folder.load("hosts.ini").host(named: "web1"))
        // Ansible: group_vars/all (a file) beats an inline variable of a deeper group.
        #expect(host.vars["shared"] == .string("all-file"))
        #expect(host.vars["level"] == .string("host-file"))
    }

    @Test func onlyTheFirstOfNameAndItsExtensionsIsRead() throws {
        let folder = try InventoryFolder()
        try folder.write("hosts", "web1\n")
        try folder.write("group_vars/ungrouped", "from: bare\n")
        try folder.write("group_vars/ungrouped.yml", "from: yml\nextra: 1\n")
        let host = try #require(try folder.load("hosts").host(named: "web1"))
        #expect(host.vars["from"] == .string("bare"))
        #expect(host.vars["extra"] == nil)
    }

    @Test func aFolderLoadsEveryInventoryFileAndSkipsAnsiblesIgnoredOnes() throws {
        let folder = try InventoryFolder()
        try folder.write("01-web.ini", "[web]\nweb1\n")
        try folder.write("02-db.yml", "all:\n  children:\n    db:\n      hosts:\n        db1:\n")
        try folder.write("sub/more", "[web]\nweb2\n")
        try folder.write("old.retry", "this is not an inventory [[[")
        try folder.write("notes.txt", "nor this: [[[")
        try folder.write(".hidden.yml", "nor: [[[")
        try folder.write("group_vars/web.yml", "ansible_user: www\n")
        let inventory = try folder.load("")
        #expect(inventory.hosts.map(\.name) == ["web1", "db1", "web2"])
        #expect(inventory.host(named: "web2")?.user == "www")
    }

    @Test func severalSourcesMerge() throws {
        let folder = try InventoryFolder()
        try folder.write("a/hosts.yml", "all:\n  children:\n    web:\n      hosts:\n        web1:\n          x: 1\n")
        try folder.write("b/hosts.ini", "[web]\nweb1 y=2\nweb2\n[db]\ndb1\n")
        let inventory = try folder.load("a/hosts.yml", "b/hosts.ini")
        #expect(inventory.hosts.map(\.name) == ["web1", "web2", "db1"])
        #expect(inventory.host(named: "web1")?.vars == ["x": .int(1), "y": .int(2)])
        #expect(inventory.groups["web"]?.hosts == ["web1", "web2"])
    }

    @Test func anErrorNamesTheFileItIsIn() throws {
        let folder = try InventoryFolder()
        try folder.write("a.yml", "all:\n  hosts:\n    web1:\n")
        let bad = try folder.write("group_vars/all.yml", "ansible_port: many\n")
        #expect(throws: PatchError.inventory(file: bad, line: 1, column: 15, message: "'ansible_port' must be an integer from 1 to 65535, found 'many'")) {
            try folder.load("a.yml")
        }
    }

    @Test func dynamicScriptWithoutMetaIsAskedPerHost() throws {
        let folder = try InventoryFolder()
        try folder.write("inv.sh", """
            #!/bin/sh
            case "$1" in
            --list) echo '{"web": {"hosts": ["web1", "web2"], "vars": {"ansible_user": "cloud"}, "children": ["gpu"]}, "gpu": ["g1"]}' ;;
            --host) if [ "$2" = web1 ]; then echo '{"ansible_port": 2200}'; else echo '{}'; fi ;;
            *) exit 2 ;;
            esac
            """, mode: 0o755)
        let inventory = try folder.load("inv.sh")
        #expect(inventory.hosts.map(\.name) == ["web1", "web2", "g1"])
        #expect(inventory.host(named: "web1")?.port == 2200)
        #expect(inventory.host(named: "g1")?.user == "cloud")
        #expect(inventory.host(named: "g1")?.groups == ["all", "gpu", "web"])
    }

    @Test func dynamicScriptWithMetaIsRunOnce() throws {
        let folder = try InventoryFolder()
        let calls = folder.path + "/calls"
        try folder.write("inv.sh", """
            #!/bin/sh
            echo "$@" >> '\(calls)'
            echo '{"_meta": {"hostvars": {"web1": {"ansible_host": "192.0.2.1"}}}, "web": {"hosts": ["web1"]}}'
            """, mode: 0o755)
        #expect(try folder.load("inv.sh").host(named: "web1")?.address == "192.0.2.1")
        #expect(try String(contentsOfFile: calls, encoding: .utf8) == "--list\n")
    }

    @Test func aFailingOrHangingScriptIsAnErrorNamingIt() throws {
        let folder = try InventoryFolder()
        let failing = try folder.write("fail.sh", "#!/bin/sh\necho 'cloud API down' >&2\nexit 3\n", mode: 0o755)
        #expect(throws: PatchError.inventory(file: failing, line: nil, column: nil,
                                             message: "dynamic inventory '\(failing) --list' exited 3: cloud API down")) {
            try folder.load("fail.sh")
        }
        let hanging = try folder.write("hang.sh", "#!/bin/sh\nexec sleep 30\n", mode: 0o755)
        let started = Date()
        #expect(throws: PatchError.inventory(file: hanging, line: nil, column: nil,
                                             message: "dynamic inventory '\(hanging) --list' did not finish within 1 s")) {
            _ = try ScriptInventory.run(hanging, arguments: ["--list"], timeout: 1)
        }
        #expect(Date().timeIntervalSince(started) < 20)
    }

    /// Foundation's `Process.run()` read past glibc's readdir buffer once 1363 descriptors were
    /// open (AddressSanitizer: heap-buffer-overflow in findMaximumOpenFromProcSelfFD), as a
    /// controller in the middle of a large fan-out or the test process may hold; its child also
    /// kept Foundation's exit socket. The script now starts with nothing but its standard streams.
    @Test func aScriptRunsWithTwoThousandDescriptorsOpenAndInheritsNone() throws {
        let folder = try InventoryFolder()
        let script = try folder.write("fds.sh", "#!/bin/sh\nexec ls /proc/self/fd\n", mode: 0o755)
        let descriptors = try OpenDescriptors(atLeast: 2000)
        defer { descriptors.release() }
        let listing = try ScriptInventory.run(script, arguments: ["--list"])
        // 0-2, and the descriptor ls reads the folder with.
        #expect(listing.split(separator: "\n").map(String.init).sorted() == ["0", "1", "2", "3"], "\(listing)")
    }

    @Test func scriptOutputMustBeTheInventoryJSON() throws {
        let folder = try InventoryFolder()
        try folder.write("bad.sh", "#!/bin/sh\necho '{\"web\": {\"hosts\": \"web1\"}}'\n", mode: 0o755)
        #expect(throws: PatchError.inventory(file: folder.path + "/bad.sh --list", line: 1, column: 19,
                                             message: "'hosts' of group 'web' must be a list of host names, found the string 'web1'")) {
            try folder.load("bad.sh")
        }
    }

    @Test func ansibleInventoryListOutputLoadsAsAFile() throws {
        let folder = try InventoryFolder()
        try folder.write("saved.json", """
            {"_meta": {"hostvars": {"web1": {"ansible_port": 2201, "tier": "front"}}, "profile": "inventory_legacy"},
             "all": {"children": ["ungrouped", "web"]}, "ungrouped": {"hosts": ["solo"]}, "web": {"hosts": ["web1"]}}
            """)
        let inventory = try folder.load("saved.json")
        #expect(inventory.hosts.map(\.name) == ["solo", "web1"])
        #expect(inventory.host(named: "web1")?.port == 2201)
        #expect(inventory.groups["ungrouped"]?.hosts == ["solo"])
    }

    @Test func aCommaSeparatedHostListIsAnInventory() throws {
        let inventory = try Inventory.load(paths: ["web1, db1:2222,"], environment: [:])
        #expect(inventory.hosts.map(\.name) == ["web1", "db1"])
        #expect(inventory.host(named: "db1")?.port == 2222)
        #expect(inventory.groups["ungrouped"]?.hosts == ["web1", "db1"])
    }

    @Test func aYAMLNamedFileThatIsINIWithoutSectionsLoadsAsAnsibleDoes() throws {
        let folder = try InventoryFolder()
        try folder.write("hosts.yml", "web1 ansible_port=2201\n")
        #expect(try folder.load("hosts.yml").host(named: "web1")?.port == 2201)
        // Neither YAML inventory nor INI: the YAML reader's message.
        let bad = try folder.write("bad.yml", "- web1\n- web2\n")
        #expect(throws: PatchError.inventory(file: bad, line: 1, column: 1, message: "expected a map of groups at the top level (e.g. 'all:'), found a list")) {
            try folder.load("bad.yml")
        }
    }

    @Test func anExecutableYAMLFileWithoutShebangIsStillYAML() throws {
        let folder = try InventoryFolder()
        try folder.write("hosts.yml", "all:\n  hosts:\n    web1:\n", mode: 0o755)
        #expect(try folder.load("hosts.yml").hosts.map(\.name) == ["web1"])
    }
}
