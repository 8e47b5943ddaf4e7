import Testing
@testable import PatchCore

/// Every rejected inventory must say where (file, line, column of the offending node) and what
/// was expected.
@Suite("Inventory validation")
struct InventoryValidationTests {
    // MARK: YAML itself

    @Test func yamlSyntaxErrorCarriesYamsPosition() {
        expectInventoryError("""
            all:
              hosts:
                web1: [unclosed
            """, line: 4, column: 1, "invalid YAML")
    }

    @Test func tabIndentationIsASyntaxError() {
        expectInventoryError("all:\n\thosts:\n", line: 2, column: 1, "invalid YAML", "spaces, not tabs")
    }

    @Test func severalDocumentsAreRejected() {
        expectInventoryError("all:\n  hosts:\n    web1:\n---\nall:\n", line: 4, column: 1, "single YAML document")
    }

    @Test func undefinedAliasIsASyntaxError() {
        expectInventoryError("all:\n  hosts:\n    web1: *defaults\n", line: 3, column: 11, "invalid YAML: found undefined alias")
    }

    @Test func duplicateHostInOneHostsMapPointsAtTheSecondOne() {
        expectInventoryError("""
            all:
              hosts:
                web1:
                web2:
                web1:
                  ansible_port: 2222
            """, line: 5, column: 5, "duplicate key 'web1'", "line 3, column 5")
    }

    @Test func duplicateGroupKeyIsRejected() {
        expectInventoryError("""
            web:
              hosts:
                web1:
            db:
              hosts:
                db1:
            web:
              hosts:
                web2:
            """, line: 7, column: 1, "duplicate key 'web'", "line 1, column 1")
    }

    @Test func duplicateKeyInAFlowMapFallsBackToTheFirstOne() {
        expectInventoryError("all:\n  hosts: {web1: , web1: }\n", line: 2, column: 11, "duplicate key 'web1'")
    }

    @Test func iniInventoryInAYAMLNamedFileIsReadAsINI() throws {
        // Ansible falls back to its INI reader when YAML fails; so does patchctl (it used to refuse).
        let inventory = try parseInventory("""
            # hosts file
            [webservers]
            web1.example.com
            web2.example.com
            """)
        #expect(inventory.hosts.map(\.name) == ["web1.example.com", "web2.example.com"])
        #expect(inventory.groups["webservers"]?.hosts == ["web1.example.com", "web2.example.com"])
        expectInventoryError("[webservers]\n", line: 1, column: 2, "the inventory defines no hosts")
    }

    @Test func topLevelMustBeAMap() {
        expectInventoryError("- web1\n- web2\n", line: 1, column: 1, "expected a map of groups at the top level", "found a list")
    }

    @Test func topLevelSectionWithoutGroup() {
        expectInventoryError("hosts:\n  web1:\n", line: 1, column: 1, "'hosts' must sit inside a group", "all:")
    }

    // MARK: Structure

    @Test func groupValueMustBeAMap() {
        expectInventoryError("""
            all:
              children:
                web: [web1, web2]
            """, line: 3, column: 10, "group 'web' must be a map", "found a list")
    }

    @Test func unknownGroupKeySuggestsTheClosestSection() {
        expectInventoryError("""
            all:
              children:
                web:
                  host:
                    web1:
            """, line: 4, column: 7, "unknown key 'host' in group 'web'", "did you mean 'hosts'?")
        expectInventoryError("""
            web:
              childs:
                db:
            """, line: 2, column: 3, "unknown key 'childs'", "did you mean 'children'?")
    }

    @Test func unknownGroupKeyFarFromAnySectionExplainsWhereHostsGo() {
        expectInventoryError("""
            web:
              web1.example.com:
            """, line: 2, column: 3, "unknown key 'web1.example.com'", "hosts go under 'hosts:'")
    }

    @Test func hostsWrittenAsAListGetAHint() {
        expectInventoryError("""
            web:
              hosts:
                - web1
                - web2
            """, line: 3, column: 5, "'hosts' of group 'web' must be a map", "ending in ':'")
    }

    @Test func hostVarsMustBeAMap() {
        expectInventoryError("""
            web:
              hosts:
                web1: 10.0.0.1
            """, line: 3, column: 11, "variables of host 'web1' must be a map", "10.0.0.1")
    }

    @Test func groupVarsMustBeAMap() {
        expectInventoryError("""
            web:
              vars: [a, b]
            """, line: 2, column: 9, "'vars' of group 'web' must be a map")
    }

    @Test func hostNamesMustNotBeEmpty() {
        expectInventoryError("""
            web:
              hosts:
                "":
            """, line: 3, column: 5, "host name must not be empty")
        expectInventoryError("""
            web:
              hosts:
                ~:
            """, line: 3, column: 5, "host name must not be empty")
    }

    @Test func groupCycleNamesTheLoop() {
        expectInventoryError("""
            all:
              children:
                a:
                  children:
                    b:
                      children:
                        a:
            """, line: 7, column: 13, "group cycle: a -> b -> a")
    }

    @Test func groupCycleAcrossSeparateDeclarations() {
        expectInventoryError("""
            a:
              children:
                b:
            b:
              children:
                c:
            c:
              children:
                a:
            """, line: 9, column: 5, "group cycle: a -> b -> c -> a")
    }

    @Test func allCannotBeAChild() {
        expectInventoryError("""
            web:
              children:
                all:
            """, line: 3, column: 5, "'all' contains every group")
    }

    @Test func hostAndGroupWithTheSameNameAreRejected() {
        expectInventoryError("""
            db:
              hosts:
                web:
            web:
              hosts:
                web1:
            """, line: 3, column: 5, "'web' is both a host and a group", "line 4, column 1")
    }

    @Test func badHostRanges() {
        expectInventoryError("all:\n  hosts:\n    web[01:3]:\n", line: 3, column: 5, "same width")
        expectInventoryError("all:\n  hosts:\n    web[5:1]:\n", line: 3, column: 5, "begin <= end")
        expectInventoryError("all:\n  hosts:\n    web[1]:\n", line: 3, column: 5, "[begin:end]")
        expectInventoryError("all:\n  hosts:\n    web[a:10]:\n", line: 3, column: 5, "numbers ([01:10]) or single letters")
        expectInventoryError("all:\n  hosts:\n    web[1:\n", line: 3, column: 5, "no closing ']'")
    }

    // MARK: Secrets

    @Test(arguments: ["password", "ansible_password", "ansible_ssh_pass"])
    func plainTextLoginPasswordsAreRefused(key: String) {
        expectInventoryError("""
            all:
              hosts:
                web1:
                  \(key): hunter2
            """, line: 4, column: 7, "plain-text password '\(key)'", "password_env", "password_command")
    }

    @Test(arguments: ["ansible_become_password", "ansible_become_pass"])
    func plainTextBecomePasswordsAreRefused(key: String) {
        expectInventoryError("""
            all:
              vars:
                \(key): hunter2
            """, line: 3, column: 5, "plain-text password", "become_password_env", "become_password_command")
    }

    @Test func misspeltPasswordKeysAreStillRefused() {
        expectInventoryError("all:\n  vars:\n    ansible_pasword: hunter2\n", line: 3, column: 5,
                             "plain-text password 'ansible_pasword'", "password_env")
    }

    @Test func refusedPasswordsAreNeverEchoed() {
        let error = inventoryError("all:\n  vars:\n    ansible_password: hunter2\n")
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test func vaultValuesAreUnsupported() {
        expectInventoryError("""
            all:
              vars:
                api_token: !vault |
                  $ANSIBLE_VAULT;1.1;AES256
                  62313365396662343061393464336163383764373764613633653634306231386433626436623361
            """, line: 3, column: 16, "'api_token' is an Ansible Vault value", "cannot decrypt")
    }

    @Test func passwordEnvMustNameAVariable() {
        expectInventoryError("""
            all:
              vars:
                password_env: "s3cr3t pa55!"
            """, line: 3, column: 19, "'password_env' must be the name of an environment variable")
        #expect(inventoryError("all:\n  vars:\n    password_env: \"s3cr3t pa55!\"\n")?.message.contains("s3cr3t") == false)
    }

    // MARK: Misspelt connection keys

    @Test(arguments: [
        ("ansible_prot", "ansible_port"), ("privat_key_file", "private_key_file"),
        ("ansible_hots", "ansible_host"), ("ansible_usr", "ansible_user"), ("becom", "become"),
        ("ansible_ssh_private_keyfile", "ansible_ssh_private_key_file"), ("adress", "address"),
    ])
    func typoOfAConnectionKey(written: String, suggestion: String) {
        expectInventoryError("""
            all:
              hosts:
                web1:
                  \(written): x
            """, line: 4, column: 7, "unknown variable '\(written)'", "did you mean '\(suggestion)'?")
    }

    @Test(arguments: ["http_port", "users", "ports", "host", "hosts", "role",
                      "ansible_python_interpreter", "ansible_winrm_transport", "backup_user", "ssh_port"])
    func ordinaryAndOtherAnsibleVariablesAreNotTypos(name: String) throws {
        let host = try #require(try parseInventory("all:\n  hosts:\n    web1:\n      \(name): x\n").hosts.first)
        #expect(host.vars[name] == .string("x"))
    }

    // MARK: Value types

    @Test(arguments: ["abc", "0", "70000", "22.5", "true", "[22]"])
    func portMustBeAnIntegerInRange(value: String) {
        expectInventoryError("""
            all:
              hosts:
                web1:
                  ansible_port: \(value)
            """, line: 4, column: 21, "'ansible_port' must be an integer from 1 to 65535")
    }

    @Test(arguments: ["maybe", "2", "[true]"])
    func becomeMustBeABoolean(value: String) {
        expectInventoryError("""
            all:
              vars:
                become: \(value)
            """, line: 3, column: 13, "'become' must be true or false")
    }

    @Test func connectionMustBeSupported() {
        expectInventoryError("""
            all:
              vars:
                ansible_connection: docker
            """, line: 3, column: 25, "'ansible_connection' must be one of ssh, winrm, local", "found 'docker'")
    }

    @Test func shellTypeMustBeSupported() {
        expectInventoryError("""
            all:
              vars:
                ansible_shell_type: fish
            """, line: 3, column: 25, "'ansible_shell_type' must be one of sh, powershell, cmd", "found 'fish'")
    }

    @Test func stringKeysRejectMapsAndEmptyStrings() {
        expectInventoryError("all:\n  vars:\n    ansible_user: {name: x}\n", line: 3, column: 19, "'ansible_user' must be a string", "found a map")
        expectInventoryError("all:\n  vars:\n    address: ''\n", line: 3, column: 14, "'address' must not be empty")
    }

    @Test func groupPriorityMustBeAnInteger() {
        expectInventoryError("web:\n  vars:\n    ansible_group_priority: high\n", line: 3, column: 29, "'ansible_group_priority' must be an integer")
    }

    // MARK: Type holes: a scalar where a map is expected, or nothing at all

    @Test func hostsAsANumberIsRefusedNotHost5() {
        // It used to become host "5", contacted at 0.0.0.5:22.
        expectInventoryError("all:\n  hosts: 5\n", line: 2, column: 10, "'hosts' of group 'all' must be a map of host names, found the number 5")
        expectInventoryError("all:\n  hosts: true\n", line: 2, column: 10, "found the boolean true")
        expectInventoryError("all:\n  hosts:\n    5:\n", line: 3, column: 5, "host name must be a string, found the number 5", "\"5\"")
        expectInventoryError("all:\n  hosts:\n    1.5: {}\n", line: 3, column: 5, "host name must be a string, found the number 1.5")
    }

    @Test func childrenAsAStringIsRefused() {
        expectInventoryError("all:\n  children: web\n", line: 2, column: 13,
                             "'children' of group 'all' must be a map of group names, found the string 'web'", "'web:' on its own line")
        expectInventoryError("all:\n  children: [web]\n", line: 2, column: 13, "found a list")
    }

    @Test(arguments: [("", 1, 1), ("# only a comment\n", 1, 1), ("---\n", 2, 1), ("~\n", 1, 1)])
    func emptyFileIsAnError(yaml: String, line: Int, column: Int) {
        expectInventoryError(yaml, line: line, column: column, "the inventory is empty")
    }

    @Test func truncatedFileWithoutHostsIsAnError() {
        // A file cut off after its group headers: the last group is where it ended.
        expectInventoryError("all:\n  children:\n    web:\n      hosts:\n", line: 3, column: 5, "the inventory defines no hosts")
        expectInventoryError("all:\n", line: 1, column: 1, "the inventory defines no hosts")
        expectInventoryError("all:\n  hosts:\n  children:\n  vars:\n", line: 1, column: 1, "the inventory defines no hosts")
    }

    @Test func groupPriorityHasARange() {
        expectInventoryError("web:\n  hosts: {w1: }\n  vars:\n    ansible_group_priority: 9223372036854775807\n", line: 4, column: 29,
                             "'ansible_group_priority' must be an integer from -1000000 to 1000000")
    }

    @Test func hostCountHasALimit() {
        // Eleven ranges of 10,000 pass the per-key limit one by one; together they cross 100,000.
        var yaml = "all:\n  hosts:\n"
        for index in 0..<11 { yaml += "    r\(index)-[0:9999]:\n" }
        expectInventoryError(yaml, line: 13, column: 5, "more than 100000 hosts")
    }

    @Test func errorDescriptionIsFileLineColumnMessage() {
        let error = PatchError.inventory(file: "inventory.yml", line: 3, column: 5, message: "oops")
        #expect(error.description == "inventory.yml:3:5: oops")
    }
}
