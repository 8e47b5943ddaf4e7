import Foundation
import Testing
@testable import PatchCore

/// Windows hosts with `connection: winrm` go through the engine like SSH hosts: the WS-Management
/// test endpoint (lab/winrm) receives the encoded PowerShell scan; its powershell.exe stand-in
/// prints the script it decoded instead of running it (no Windows here), so the scan reports
/// that no OS facts came back, with the script's text showing it arrived whole.
@Suite("WinRM hosts through the engine")
struct WinRMEngineTests {
    static func host(_ endpoint: WinRMEndpoint, passwordEnv: String = WinRMLab.passwordVariable) -> Host {
        var host = Host(name: "win1", address: "127.0.0.1", port: endpoint.port, user: WinRMLab.user, passwordEnv: passwordEnv,
                        connection: .winrm, shellType: .powershell)
        host.vars = ["ansible_winrm_scheme": .string("https"), "ansible_winrm_transport": .string("basic"),
                     "ansible_winrm_ca_trust_path": .string(WinRMLab.pki("ca.pem"))]
        return host
    }

    static func scan(_ hosts: [Host], environment: [String: String]) async -> [HostScan] {
        let options = ConnectionOptions(knownHostsPath: "/nonexistent/known_hosts", connectTimeout: 5, commandTimeout: 60, environment: environment)
        return await ScanRunner(engine: HostFanOut(options: options)).scan(hosts, options: ScanOptions(forks: 4))
    }

    @Test func scanTravelsOverWinRMAsEncodedPowerShell() async throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        let results = await Self.scan([Self.host(endpoint)], environment: [WinRMLab.passwordVariable: WinRMLab.password])
        let result = try #require(results.first)
        #expect(result.status == .error)
        #expect(result.error?.contains("the Windows scan printed no OS facts (exit 0)") == true, "\(result.error ?? "")")
        // The stand-in printed the script it decoded from the UTF-16LE base64: it arrived whole.
        #expect(result.error?.contains("$ErrorActionPreference='Stop'") == true, "\(result.error ?? "")")
        #expect(endpoint.log().contains { $0.contains("line=\"powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ") })
        #expect(endpoint.events("delete").count >= 1, "the shell was deleted: \(endpoint.log().suffix(3))")
    }

    @Test func wrongPasswordMissingPasswordAndUnverifiableCertificate() async throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        let wrong = try #require(await Self.scan([Self.host(endpoint)], environment: [WinRMLab.passwordVariable: "nope"]).first)
        #expect(wrong.status == .authFailed, "\(wrong.error ?? "")")
        let missing = try #require(await Self.scan([Self.host(endpoint, passwordEnv: "PATCHCTL_UNSET_VARIABLE")], environment: [:]).first)
        #expect(missing.status == .authFailed && missing.error?.contains("PATCHCTL_UNSET_VARIABLE") == true, "\(missing.error ?? "")")
        var untrusted = Self.host(endpoint)
        untrusted.vars["ansible_winrm_ca_trust_path"] = nil
        let tls = try #require(await Self.scan([untrusted], environment: [WinRMLab.passwordVariable: WinRMLab.password]).first)
        #expect(tls.status == .hostKeyMismatch, "a certificate that does not verify: \(tls.error ?? "")")
    }
}

@Suite("WinRM fallback for Windows hosts")
struct WinRMFallbackTests {
    @Test func windowsHostWithoutReachableOpenSSHIsTriedOverWinRM() async throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        // A port nothing listens on: OpenSSH is "not installed".
        let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        let closedPort = Int(UInt16(bigEndian: address.sin_port))
        close(socket)

        var host = WinRMEngineTests.host(endpoint)
        host.connection = .ssh
        host.port = closedPort
        host.vars["winrm_port"] = .int(endpoint.port)
        let environment = [WinRMLab.passwordVariable: WinRMLab.password]
        let without = try #require(await WinRMEngineTests.scan([host], environment: environment).first)
        #expect(without.status == .unreachable, "no fallback unless asked: \(without.error ?? "")")

        host.vars["winrm_fallback"] = .bool(true)
        let with = try #require(await WinRMEngineTests.scan([host], environment: environment).first)
        #expect(with.error?.contains("$ErrorActionPreference='Stop'") == true, "the scan went over WinRM: \(with.error ?? "")")
    }
}

@Suite("Library installs on WinRM hosts")
struct WinRMInstallRoutingTests {
    @Test func windowsHostsGetThePowerShellInstallPath() async throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("winrm-install-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let repository = PackageRepository(store: try HistoryStore(path: folder.appendingPathComponent("h.db").path))
        let msi = folder.appendingPathComponent("AcmeAgent.msi")
        try Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1] + [UInt8](repeating: 1, count: 600)).write(to: msi)
        let (record, _) = try await repository.add(.init(path: msi.path, name: "AcmeAgent", version: "2.4.1", platform: .windows), by: "t", at: Date())
        let options = ConnectionOptions(knownHostsPath: "/nonexistent", connectTimeout: 5, commandTimeout: 60,
                                        environment: [WinRMLab.passwordVariable: WinRMLab.password])
        let installer = PackageInstaller(engine: HostFanOut(options: options), repository: repository)
        let result = try #require(await installer.install([record], on: [WinRMEngineTests.host(endpoint)], forks: 1).first)
        // The stand-in echoes scripts instead of running PowerShell: the facts script is what came back.
        #expect(result.status == .error)
        #expect(result.error?.contains("no Windows facts came back") == true && result.error?.contains("$ErrorActionPreference") == true, "\(result.error ?? "")")
    }
}
