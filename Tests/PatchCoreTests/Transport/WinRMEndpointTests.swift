import Foundation
import Testing
@testable import PatchCore

/// The test endpoint validated by an independent client: pywinrm (in lab/winrm's private
/// virtualenv) must run commands against it, over HTTP with Basic and over HTTPS with NTLM,
/// with output spanning several Receive replies and the full shell lifecycle in its log.
@Suite struct WinRMEndpointTests {
    struct Outcome: Decodable {
        var status: Int
        var stdout: String
        var stderr: String
        var out: String { String(decoding: Data(base64Encoded: stdout) ?? Data(), as: UTF8.self) }
        var err: String { String(decoding: Data(base64Encoded: stderr) ?? Data(), as: UTF8.self) }
    }

    static func pywinrm(_ endpoint: WinRMEndpoint, transport: String, command: [String], ca: Bool = false) throws -> Outcome {
        var arguments = [WinRMLab.repository.appendingPathComponent(".venv-winrm/bin/python").path,
                         WinRMLab.repository.appendingPathComponent("lab/winrm/pywinrm_run.py").path,
                         endpoint.url, transport, WinRMLab.user, WinRMLab.passwordVariable]
        if ca { arguments += ["--ca", WinRMLab.pki("ca.pem")] }
        let (status, output) = WinRMLab.shell(arguments + ["--"] + command, environment: [WinRMLab.passwordVariable: WinRMLab.password])
        guard status == 0, let line = output.split(separator: "\n").last else { throw WinRMLab.Failure("pywinrm failed (\(status)): \(output)") }
        return try JSONDecoder().decode(Outcome.self, from: Data(line.utf8))
    }

    @Test func pywinrmRunsACommandOverHTTPWithBasic() throws {
        let endpoint = try WinRMEndpoint(chunk: 1000)
        let outcome = try Self.pywinrm(endpoint, transport: "basic", command: ["seq 1 2000; echo oops >&2; exit 4"])
        #expect(outcome.status == 4)
        #expect(outcome.out == (1...2000).map { "\($0)\n" }.joined())
        #expect(outcome.err == "oops\n")
        // 8893 bytes of output in chunks of 1000: at least nine Receive replies carried stdout.
        #expect(endpoint.events("receive").filter { $0.contains("stdout=1000") }.count >= 8)
        #expect(endpoint.events("create").count == 1)
        #expect(endpoint.events("signal").count == 1)
        #expect(endpoint.events("delete").count == 1)
    }

    @Test func pywinrmRunsACommandOverHTTPSWithNTLM() throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        let outcome = try Self.pywinrm(endpoint, transport: "ntlm", command: ["echo", "over", "tls"], ca: true)
        #expect(outcome.status == 0)
        #expect(outcome.out == "over tls\n")
        #expect(endpoint.events("command").first?.contains("line=\"echo over tls\"") == true)
    }

    @Test func pywinrmIsRefusedAWrongPassword() throws {
        let endpoint = try WinRMEndpoint()
        let (status, output) = WinRMLab.shell(
            [WinRMLab.repository.appendingPathComponent(".venv-winrm/bin/python").path,
             WinRMLab.repository.appendingPathComponent("lab/winrm/pywinrm_run.py").path,
             endpoint.url, "basic", WinRMLab.user, WinRMLab.passwordVariable, "--", "echo"],
            environment: [WinRMLab.passwordVariable: "wrong"])
        #expect(status != 0)
        #expect(output.contains("InvalidCredentialsError"))
    }
}
