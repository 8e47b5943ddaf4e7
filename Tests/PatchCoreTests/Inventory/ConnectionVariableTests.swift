import Foundation
import Testing
@testable import PatchCore

/// Every Ansible connection variable is honoured or refused with its position (issue 11:
/// `ansible_ssh_common_args: '-o ProxyJump=…'` and `ansible_become_method: su` were silently ignored).
@Suite("Ansible connection variables")
struct ConnectionVariableTests {
    func host(_ vars: String, extra: String = "") throws -> Host {
        let yaml = "all:\n  hosts:\n    web1:\n" + vars.split(separator: "\n").map { "      " + $0 + "\n" }.joined() + extra
        return try #require(try parseInventory(yaml).host(named: "web1"))
    }

    @Test func proxyJumpInSSHCommonArgsFillsTheJumpChain() throws {
        let web = try host(#"ansible_ssh_common_args: "-o ProxyJump=ops@bastion:2200,[2001:db8::1]:22""#)
        #expect(web.proxyJump == [JumpHop(user: "ops", address: "bastion", port: 2200), JumpHop(address: "2001:db8::1", port: 22)])
        #expect(web.via == ["ops@bastion:2200", "[2001:db8::1]:22"])
        #expect(web.fromInventory.contains("proxy_jump"))
    }

    @Test func shortFlagsAndTheOtherHonouredOptions() throws {
        let web = try host(#"ansible_ssh_extra_args: "-J b1,b2 -p 2201 -l admin -i keys/id_rsa -o UserKnownHostsFile=~/kh -oStrictHostKeyChecking=accept-new""#)
        #expect(web.proxyJump.map(\.address) == ["b1", "b2"])
        #expect(web.port == 2201)
        #expect(web.user == "admin")
        #expect(web.privateKeyFile == "/inv/keys/id_rsa")
        #expect(web.knownHostsFile == "/home/tester/kh")
        #expect(web.hostKeyChecking == .acceptNew)
        #expect(web.fromInventory.isSuperset(of: ["proxy_jump", "port", "user", "private_key_file", "known_hosts_file", "host_key_checking"]))
    }

    @Test func explicitVariablesBeatSSHArgumentsAndCommonArgsComeFirst() throws {
        // Ansible puts -o Port=ansible_port before the extra arguments; ssh takes the first value.
        let web = try host("""
            ansible_port: 2022
            ansible_ssh_common_args: "-o Port=1111 -o User=first"
            ansible_ssh_extra_args: "-o User=second -o StrictHostKeyChecking=no"
            """)
        #expect(web.port == 2022)
        #expect(web.user == "first")
        #expect(web.hostKeyChecking == .off)
    }

    @Test(arguments: [
        ("-o ProxyCommand='ssh -W %h:%p gw'", "'-o ProxyCommand' is not supported"),
        ("-o ForwardAgent=yes", "'-o ForwardAgent' is not supported"),
        ("-A", "'-A' is not supported"),
        ("-vvv", "'-v' is not supported"),
        ("bastion", "unexpected 'bastion'"),
        ("-o ProxyJump", "has no value"),
        ("-p", "'-p' needs a value"),
        ("-o Port=http", "port 'http'"),
        ("-J user@", "invalid jump host 'user@'"),
        ("-o 'UserKnownHostsFile=a b'", "several files"),
    ])
    func anyOtherOptionIsAnErrorThatNamesIt(arguments: String, fragment: String) {
        guard let error = inventoryError("all:\n  vars:\n    ansible_ssh_common_args: \"\(arguments.replacingOccurrences(of: "\"", with: "\\\""))\"\n  hosts:\n    web1:\n") else { return }
        #expect(error.line == 3)
        #expect(error.column == 30)
        #expect(error.message.contains("ansible_ssh_common_args"), "\(error.message)")
        #expect(error.message.contains(fragment), "\(error.message)")
    }

    @Test func proxyJumpKeyAsStringOrList() throws {
        #expect(try host("proxy_jump: a@b:22,c").via == ["a@b:22", "c"])
        #expect(try host("proxy_jump: [a@b:22, c]").via == ["a@b:22", "c"])
        #expect(try host("proxy_jump: none").via == [])
        expectInventoryError("all:\n  hosts:\n    web1:\n      proxy_jump: 'a b'\n", line: 4, column: 19, "invalid jump host 'a b'")
        expectInventoryError("all:\n  hosts:\n    web1:\n      proxy_jump: [1]\n", line: 4, column: 19, "found the number 1 in the list")
    }

    @Test func theMostSpecificLevelDecidesTheJumpChain() throws {
        let inventory = try parseInventory("""
            all:
              vars:
                proxy_jump: outer
              children:
                dmz:
                  vars:
                    ansible_ssh_common_args: -J inner
                  hosts:
                    web1:
                direct:
                  hosts:
                    web2:
                      proxy_jump: none
                    web3:
            """)
        // proxy_jump set at `all` beats ssh arguments of a deeper group: arguments only fill what no variable set.
        #expect(inventory.host(named: "web1")?.via == ["outer"])
        #expect(inventory.host(named: "web2")?.via == [])
        #expect(inventory.host(named: "web3")?.via == ["outer"])
    }

    @Test func becomeMethodSudoIsHonouredOthersAreRefused() throws {
        #expect(try host("ansible_become: true\nansible_become_method: sudo").become)
        expectInventoryError("all:\n  hosts:\n    web1:\n      ansible_become_method: su\n", line: 4, column: 30,
                             "'ansible_become_method' is 'su'", "sudo only")
        expectInventoryError("all:\n  vars:\n    ansible_become_method: doas\n  hosts:\n    web1:\n", line: 3, column: 28, "'doas'")
    }

    @Test func hostKeyCheckingAndKnownHostsFile() throws {
        let web = try host("ansible_host_key_checking: false\nknown_hosts_file: kh/known")
        #expect(web.hostKeyChecking == .off)
        #expect(web.knownHostsFile == "/inv/kh/known")
        #expect(try host("host_key_checking: accept-new").hostKeyChecking == .acceptNew)
        #expect(try host("ansible_port: 22").hostKeyChecking == nil)
        expectInventoryError("all:\n  hosts:\n    web1:\n      host_key_checking: maybe\n", line: 4, column: 26, "host_key_checking")
    }

    @Test(arguments: [
        ("ansible_python_interpreter: /usr/bin/python3", true),
        ("ansible_pipelining: true", true),
        ("ansible_shell_executable: /bin/bash", true),
        ("ansible_become_flags: -H -S -n", true),
        ("ansible_become_exe: /usr/bin/sudo", true),
        ("ansible_shell_executable: /usr/bin/fish", false),
        ("ansible_become_flags: -i", false),
        ("ansible_become_exe: pbrun", false),
        ("ansible_scp_extra_args: -l 100", false),
        ("ansible_ssh_executable: /opt/ssh", false),
        ("ansible_timeout: 30", false),
        ("ansible_network_os: ios", false),
        ("ansible_ssh_args: -C", false),
        ("ansible_winrm_transport: ntlm", true),
        ("ansible_winrm_path: /wsman", true),
        ("ansible_winrm_path: /custom", false),
        ("ansible_winrm_kerberos_delegation: true", false),
        ("ansible_winrm_read_timeout_sec: 60", false),
        ("ansible_psrp_auth: ntlm", false),
    ])
    func otherAnsibleVariablesAreHarmlessOrRefused(line: String, harmless: Bool) {
        let yaml = "all:\n  hosts:\n    web1:\n      \(line)\n"
        if harmless {
            #expect(throws: Never.self) { try parseInventory(yaml) }
        } else {
            guard let error = inventoryError(yaml) else { return }
            #expect(error.line == 4)
            #expect(error.message.contains(String(line.prefix { $0 != ":" })), "\(error.message)")
        }
    }
}
