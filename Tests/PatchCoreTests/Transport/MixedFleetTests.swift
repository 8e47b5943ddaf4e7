import Foundation
import Testing
@testable import PatchCore

/// One scan over a mixed inventory, as the engine sees it: Debian and a Rocky 9 look-alike on the
/// lab's sshd, Windows over SSH and Windows over WinRM. The Windows hosts are stand-ins (a Linux
/// sshd without powershell.exe; the WS-Management endpoint whose powershell.exe prints the script
/// it received), so they show the routing and the transport, and end as errors that say so.
@Suite("Mixed fleet through one engine", .serialized, .enabled(if: Lab.enabled && Lab.rhelEnabled))
struct MixedFleetTests {
    @Test func eachHostGetsItsOwnPlatformAndTransport() async throws {
        try await Lab.withRhelEndpoint {
            let debian = try Lab.host("debian")
            let rocky = try Lab.resetRhel("rocky", address: "127.0.0.1")
            var windowsSSH = try Lab.host("win-ssh", address: "127.0.0.2")
            windowsSSH.shellType = .cmd
            let endpoint = try WinRMEndpoint(certificate: "server")
            var windowsWinRM = WinRMEngineTests.host(endpoint)
            windowsWinRM.name = "win-winrm"
            var environment = ["HOME": NSTemporaryDirectory()]
            environment[WinRMLab.passwordVariable] = WinRMLab.password
            let options = ConnectionOptions(knownHostsPath: try Lab.value("LAB_KNOWN_HOSTS"), connectTimeout: 10, commandTimeout: 120, environment: environment)
            let results = await ScanRunner(engine: HostFanOut(options: options)).scan([debian, rocky, windowsSSH, windowsWinRM], options: ScanOptions(forks: 4))
            #expect(results.map(\.name) == ["debian", "rocky", "win-ssh", "win-winrm"])
            #expect(results[0].status == .ok && results[0].os?.family == .debian && results[0].updates.contains { $0.name == "patchlab-canary" })
            #expect(results[1].status == .ok && results[1].os?.family == .rhel && results[1].os?.id == "rocky", "\(results[1].error ?? "")")
            #expect(results[1].updates.contains { $0.name == "patchlab-openssl-lib" && $0.security && $0.severity == "important" })
            #expect(results[2].status == .error && results[2].error?.contains("Windows scan printed no OS facts") == true, "\(results[2].error ?? "")")
            #expect(results[3].status == .error && results[3].error?.contains("$ErrorActionPreference='Stop'") == true, "\(results[3].error ?? "")")
        }
    }
}
