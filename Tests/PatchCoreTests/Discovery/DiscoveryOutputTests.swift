import Foundation
import PatchSSH
import Testing
@testable import PatchCore

@Suite("discover's inventories and known_hosts files")
struct DiscoveryOutputTests {
    static let ed25519 = ScannedHostKey(type: "ssh-ed25519", fingerprint: "SHA256:x",
                                        key: "AAAAC3NzaC1lZDI1NTE5AAAAIPydNWa9aYbb3aTx3pG8348rPaef0E7JUUsNmVN8ZdKi")

    /// libssh2's LIBSSH2_HOSTKEY_TYPE_ED25519.
    static let ed25519Type: Int32 = 6

    static let hosts: [DiscoveredHost] = [
        DiscoveredHost(address: "10.0.0.5", name: "web1.example.org", network: "10.0.0.0/24",
                       ssh: [SSHServiceRecord(port: 22, banner: "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", keys: [ed25519], error: nil)],
                       os: OSInfo(family: .debian, id: "debian", name: "Debian GNU/Linux", version: "12")),
        DiscoveredHost(address: "10.0.0.6", network: "10.0.0.0/24",
                       ssh: [SSHServiceRecord(port: 2222, banner: "SSH-2.0-OpenSSH_8.7", keys: [ed25519], error: nil)],
                       os: OSInfo(family: .rhel, id: "rocky", name: "Rocky Linux", version: "9.4")),
        DiscoveredHost(address: "10.0.0.7", network: "10.0.0.0/24",
                       winrm: [WinRMServiceRecord(port: 5986, scheme: "https", wsman: true, status: 401, server: "Microsoft-HTTPAPI/2.0",
                                                  auth: ["Negotiate"], error: nil)]),
        DiscoveredHost(address: "10.0.0.8", network: "10.0.0.0/24",
                       ssh: [SSHServiceRecord(port: 22, banner: "SSH-2.0-OpenSSH_for_Windows_9.5", keys: [ed25519], error: nil)]),
    ]

    @Test("the YAML and the INI inventory load in patchctl as the same hosts, groups and connection settings")
    func inventoriesLoad() throws {
        let inventory = DiscoveryInventory(Self.hosts)
        let yaml = try Inventory.parse(yaml: inventory.yaml, file: "discovered.yml", environment: [:])
        let ini = try Inventory.parse(yaml: inventory.ini, file: "discovered.ini", environment: [:])
        for loaded in [yaml, ini] {
            let byName = Dictionary(uniqueKeysWithValues: loaded.hosts.map { ($0.name, $0) })
            #expect(byName.keys.sorted() == ["10.0.0.6", "10.0.0.7", "10.0.0.8", "web1.example.org"])
            #expect(byName["web1.example.org"]?.address == "10.0.0.5")
            #expect(byName["web1.example.org"]?.groups.contains("debian_12") == true)
            #expect(byName["web1.example.org"]?.groups.contains("debian_family") == true)
            #expect(byName["10.0.0.6"]?.port == 2222)
            #expect(byName["10.0.0.6"]?.groups.contains("rocky_9_4") == true)
            #expect(byName["10.0.0.7"]?.connection == .winrm)
            #expect(byName["10.0.0.7"]?.port == 5986)
            #expect(byName["10.0.0.8"]?.shellType == .powershell)
            // Without a login, by network.
            #expect(byName["10.0.0.7"]?.groups.contains("net_10_0_0_0_24") == true)
        }
    }

    @Test("known_hosts lines: [address]:port off 22, hashed names that OpenSSH's own check (PatchSSH's reader) matches")
    func knownHostsLines() throws {
        let plain = KnownHostsExport.lines(for: Self.hosts, hashed: false)
        #expect(plain.contains("10.0.0.5 ssh-ed25519 \(Self.ed25519.key)\n"))
        #expect(plain.contains("[10.0.0.6]:2222 ssh-ed25519 \(Self.ed25519.key)\n"))
        #expect(plain.count == 3, "WinRM hosts have no SSH key")
        let hashed = KnownHostsExport.lines(for: Self.hosts, hashed: true)
        #expect(hashed.allSatisfy { $0.hasPrefix("|1|") && !$0.contains("10.0.0.") })
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kh-\(UUID().uuidString)").path
        try hashed.joined().write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let known = try KnownHosts(path: path)
        let blob = try #require(Data(base64Encoded: Self.ed25519.key))
        blob.withUnsafeBytes { key in
            #expect(known.check(host: "10.0.0.6", port: 2222, key: key, keyType: Self.ed25519Type) == .match)
            #expect(known.check(host: "10.0.0.6", port: 22, key: key, keyType: Self.ed25519Type) == .notFound)
        }
        // The same name and salt give OpenSSH's HMAC-SHA1 (checked against Python's hmac module).
        #expect(KnownHostsExport.hash("10.0.0.5", salt: [UInt8](repeating: 1, count: 20)) == "|1|AQEBAQEBAQEBAQEBAQEBAQEBAQE=|\(Self.pythonHMAC)")
    }

    /// `python3 -c "import hmac,hashlib,base64;print(base64.b64encode(hmac.new(bytes([1]*20),b'10.0.0.5',hashlib.sha1).digest()).decode())"`
    static let pythonHMAC = "4T81P/3EBnyU0xQUBl/PUSdTKAg="

    @Test("reverse DNS names that are not host names are dropped")
    func hostNames() {
        #expect(DiscoveryRunner.isHostName("web1.example.org"))
        #expect(DiscoveryRunner.isHostName("_dmarc-x.example"))
        #expect(!DiscoveryRunner.isHostName("evil\u{1B}[2J.example"))
        #expect(!DiscoveryRunner.isHostName("-lead.example"))
        #expect(!DiscoveryRunner.isHostName(String(repeating: "a", count: 64) + ".example"))
    }
}
