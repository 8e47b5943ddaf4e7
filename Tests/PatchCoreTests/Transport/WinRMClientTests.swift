import Foundation
import Testing
@testable import PatchCore

/// patchctl's WinRM client against the same endpoint pywinrm validates (WinRMEndpointTests).
@Suite struct WinRMClientTests {
    @Test func basicOverHTTP() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        let result = try await client.run("echo hello", timeout: 120)
        #expect(result.exitStatus == 0)
        #expect(result.stdout == "hello\n")
        #expect(result.stderr == "")
        #expect(result.exitSignal == nil)
        // The whole lifecycle, once each.
        #expect(endpoint.events("create").count == 1)
        #expect(endpoint.events("command").count == 1)
        #expect(endpoint.events("signal").count == 1)
        #expect(endpoint.events("delete").count == 1)
    }

    /// A hostile server's SOAP reply nested 150,000 deep (within the 2 MiB reply bound): the shared XML reader's depth limit
    /// makes it a malformed-reply error (the recursive reader it replaced crashed the controller). A generous
    /// operation timeout: on a loaded machine (the whole suite) a 2 MiB reply must not turn into a timeout.
    @Test func deeplyNestedReplyIsAnErrorNotACrash() async throws {
        let endpoint = try WinRMEndpoint(nest: 150_000)
        let client = try WinRMClient(WinRMLab.configuration(endpoint, operationTimeout: 300, maxEnvelopeSize: 1 << 20))
        await #expect { _ = try await client.run("echo hello", timeout: 120) } throws: { error in
            guard case let .malformedResponse(_, _, message)? = error as? WinRMError else { return false }
            return message.contains("nested deeper than 128 levels")
        }
    }

    @Test func exitCodesStderrAndArguments() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        let failing = try await client.run("echo out; echo err >&2; exit 7", timeout: 120)
        #expect(failing.exitStatus == 7)
        #expect(failing.stdout == "out\n")
        #expect(failing.stderr == "err\n")
        let high = try await client.run("exit 255", timeout: 120)
        #expect(high.exitStatus == 255)
        // Arguments are appended to the command line with spaces, as winrs does.
        let joined = try await client.run("printf", arguments: ["'%s|'", "a", "b"], timeout: 120)
        #expect(joined.stdout == "a|b|")
        // Several runs reused one kept-alive connection and left no shell behind.
        #expect(endpoint.events("create").count == 3)
        #expect(endpoint.events("delete").count == 3)
        // After close, a run opens a new connection.
        await client.close()
        #expect(try await client.run("echo again", timeout: 120).stdout == "again\n")
    }

    @Test func outputSpanningManyReceivesIsByteExact() async throws {
        let endpoint = try WinRMEndpoint(chunk: 4000)
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        // Multi-byte characters land on chunk boundaries: bytes are joined before decoding.
        // Generous deadlines here and below: they tell a hang from a machine busy with other suites.
        let result = try await client.run("seq 1 20000 | sed 's/$/ é€𝄞/'; seq 1 3000 >&2", timeout: 300)
        let expected = (1...20000).map { "\($0) é€𝄞\n" }.joined()
        #expect(result.exitStatus == 0)
        #expect(result.stdout.utf8.count == expected.utf8.count)
        #expect(result.stdout == expected)
        #expect(result.stderr == (1...3000).map { "\($0)\n" }.joined())
        let receives = endpoint.events("receive").filter { !$0.contains("stdout=0") }
        #expect(receives.count >= expected.utf8.count / 4000)
    }

    @Test func smallMaxEnvelopeSizeShrinksReplies() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint, maxEnvelopeSize: 8192))
        let result = try await client.run("seq 1 5000", timeout: 300)
        #expect(result.stdout == (1...5000).map { "\($0)\n" }.joined())
        // (8192 - 4096) * 3 / 8 = 1536 bytes per stream per reply at most.
        let sizes = endpoint.events("receive").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("stdout=") }.flatMap { Int($0.dropFirst(7)) }
        }
        #expect(sizes.max() == 1536)
        // A request that cannot fit the envelope is refused before it is sent.
        await #expect(throws: WinRMError.self) { _ = try await client.run(String(repeating: "x", count: 9000), timeout: 10) }
    }

    @Test func httpsWithTheTestCA() async throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        let result = try await client.run("echo secure", timeout: 120)
        #expect(result.stdout == "secure\n")
    }

    @Test func httpsRefusesAnUntrustedCertificate() async throws {
        let endpoint = try WinRMEndpoint(certificate: "server")
        let client = try WinRMClient(WinRMLab.configuration(endpoint, verification: .systemTrustStore))
        do {
            _ = try await client.run("echo never", timeout: 120)
            Issue.record("an untrusted certificate was accepted")
        } catch let WinRMError.tls(host, _, message) {
            #expect(host == "winrm-lab")
            #expect(message.contains("certificate"), "\(message)")
        }
        #expect(endpoint.events("create").isEmpty)
        // The clearly named opt-out does connect (labs only).
        let insecure = try WinRMClient(WinRMLab.configuration(endpoint, verification: .insecureSkipVerification))
        #expect(try await insecure.run("echo lab", timeout: 120).stdout == "lab\n")
    }

    @Test func httpsRefusesAWrongHostName() async throws {
        let endpoint = try WinRMEndpoint(certificate: "other")
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        do {
            _ = try await client.run("echo never", timeout: 120)
            Issue.record("a certificate for another name was accepted")
        } catch let WinRMError.tls(_, _, message) {
            #expect(message.contains("127.0.0.1"), "\(message)")
            #expect(message.contains("name"), "\(message)")
        }
        #expect(endpoint.events("create").isEmpty)
    }

    @Test func wrongPasswordIsAClearAuthenticationError() async throws {
        let endpoint = try WinRMEndpoint()
        for authentication in WinRMClient.Configuration.Authentication.allCases {
            let client = try WinRMClient(WinRMLab.configuration(endpoint, authentication: authentication, password: "wrong"))
            do {
                _ = try await client.run("echo never", timeout: 120)
                Issue.record("wrong password accepted with \(authentication)")
            } catch let error as WinRMError {
                guard case let .authentication(host, user, _, offered, _) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(host == "winrm-lab" && user == WinRMLab.user)
                #expect(offered == ["Negotiate", "Basic"])
                #expect(error.description.contains("credentials rejected"))
                #expect(!error.description.contains("wrong"))
            }
        }
        #expect(endpoint.events("auth-failed").count == 2)
        #expect(endpoint.events("create").isEmpty)
    }

    @Test func basicNotOfferedSaysWhatIs() async throws {
        let endpoint = try WinRMEndpoint(auth: "ntlm")
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        await #expect {
            _ = try await client.run("echo never", timeout: 120)
        } throws: { error in
            guard case let WinRMError.authentication(_, _, scheme, offered, detail) = error else { return false }
            return scheme == "Basic" && offered == ["Negotiate"] && detail.contains("does not offer Basic") && detail.contains("AllowUnencrypted")
        }
    }

    @Test func ntlmOverHTTPAndHTTPS() async throws {
        for certificate in [nil, "server"] {
            let endpoint = try WinRMEndpoint(certificate: certificate)
            let client = try WinRMClient(WinRMLab.configuration(endpoint, authentication: .ntlm, user: "PATCHLAB\\ops"))
            #expect(try await client.run("echo one", timeout: 120).stdout == "one\n")
            #expect(try await client.run("echo two", timeout: 120).stdout == "two\n")
            #expect(endpoint.events("create").allSatisfy { $0.contains("user=\"ops\"") })
            #expect(endpoint.events("auth-failed").isEmpty)
        }
    }

    @Test func receiveTimedOutFaultIsRetried() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint, operationTimeout: 1))
        // The command prints only once the test saw the endpoint answer a Receive with w:TimedOut,
        // so the retry is proven however slowly a loaded machine runs.
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("winrm-flag-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: flag) }
        let ended = Ended()
        let running = Task {
            defer { ended.mark() }
            return try await client.run("while [ ! -e '\(flag)' ]; do sleep 0.1; done; echo late", timeout: 900)
        }
        // Waits for the event, not for a clock: on a loaded CI machine the first Receive once came after
        // more than 90 s. The command cannot end before the flag exists, so its end is the client failing.
        while endpoint.events("timedout").isEmpty, !ended.value { try await Task.sleep(nanoseconds: 100_000_000) }
        #expect(!endpoint.events("timedout").isEmpty, "the endpoint answered a Receive with w:TimedOut")
        _ = FileManager.default.createFile(atPath: flag, contents: Data())
        let result = try await running.value
        #expect(result.stdout == "late\n", "the client kept receiving after the fault")
    }

    @Test func timeoutSignalsAndDeletesTheShell() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint, operationTimeout: 20))
        do {
            _ = try await client.run("sleep 600", timeout: 2)
            Issue.record("no timeout")
        } catch let WinRMError.timeout(host, phase, seconds) {
            #expect(host == "winrm-lab" && phase == "command" && seconds == 2)
        }
        // The proof that the client stopped the command rather than waiting for it (600 s): the
        // endpoint saw the terminate signal while the command was still running.
        let signal = try #require(endpoint.events("signal").first)
        #expect(signal.contains("code=\"terminate\"") && signal.contains("running=true"))
        #expect(endpoint.events("delete").count == 1)
    }

    @Test func cancellationStillCleansUp() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        // 600 s: however late a loaded machine delivers the cancellation, the command still runs.
        let task = Task { try await client.run("echo started; sleep 600", timeout: 900) }
        // Its first output was received: the client knows the CommandId, so cancelling must signal the command.
        while endpoint.events("receive").isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        let signals = endpoint.events("signal")
        #expect(!signals.isEmpty && signals.allSatisfy { $0.contains("running=true") }, "\(signals)")
        #expect(endpoint.events("delete").count == 1)
    }

    @Test func encodedCommandPassesIntact() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        let script = "Write-Output \"it's <fine> & 'quoted'\"\n$x = 'Grüße, 日本, 🙂'\r\nexit 0"
        let encoded = Data(script.utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }).base64EncodedString()
        let line = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand \(encoded)"
        let result = try await client.run(line, timeout: 120)
        #expect(result.exitStatus == 0, "\(result.stderr)")
        #expect(result.stdout == script)
        #expect(endpoint.events("command").first?.contains("line=\"\(line)\"") == true)
    }

    @Test func accessDeniedIsTheServersFault() async throws {
        let endpoint = try WinRMEndpoint(deny: ["viewer"])
        let client = try WinRMClient(WinRMLab.configuration(endpoint, user: "viewer"))
        await #expect {
            _ = try await client.run("echo never", timeout: 120)
        } throws: { error in
            guard case let WinRMError.fault(_, operation, fault) = error else { return false }
            return operation == "Create shell" && fault.subcode == "w:AccessDenied" && fault.wsmanCode == 5
                && "\(error)".contains("Access is denied")
        }
    }

    @Test func unknownShellIsInvalidSelectors() async throws {
        let endpoint = try WinRMEndpoint()
        let client = try WinRMClient(WinRMLab.configuration(endpoint))
        let connection = HTTPConnection(url: endpoint.url, label: "winrm-lab", verification: .systemTrustStore, connectTimeout: 5, maxResponseBytes: 1 << 20)
        do {
            _ = try await client.send(.delete(shellID: "00000000-0000-0000-0000-000000000000"), on: connection, holding: 5, within: 15)
            Issue.record("no fault")
        } catch let WinRMError.fault(_, operation, fault) {
            #expect(operation == "Delete shell")
            #expect(fault.code == "s:Sender" && fault.subcode == "w:InvalidSelectors" && fault.wsmanCode == 2_150_858_843)
            #expect(fault.reason.contains("shell was not found"))
        }
    }

    @Test func closedPortIsAConnectError() async throws {
        let endpoint = try WinRMEndpoint()
        let url = endpoint.url
        endpoint.stop()
        var configuration = WinRMLab.configuration(endpoint)
        configuration.endpoint = url
        let client = try WinRMClient(configuration)
        await #expect {
            _ = try await client.run("echo never", timeout: 10)
        } throws: { error in
            guard case let WinRMError.connect(host, target, _) = error else { return false }
            return host == "winrm-lab" && target == url
        }
    }

    @Test func configurationIsCheckedAndHidesThePassword() throws {
        let bad = WinRMClient.Configuration(label: "w", endpoint: "ftp://x/wsman", user: "u", password: "p")
        #expect(throws: WinRMError.self) { try WinRMClient(bad) }
        let missingCA = WinRMClient.Configuration(label: "w", endpoint: "https://x:5986/wsman", user: "u", password: "p",
                                                  certificateVerification: .caFile("/nonexistent/ca.pem"))
        #expect(throws: WinRMError.self) { try WinRMClient(missingCA) }
        let good = WinRMClient.Configuration(label: "w", endpoint: WinRMClient.Configuration.endpoint(address: "win1", https: true),
                                             user: "u", password: "hunter2")
        #expect(good.endpoint == "https://win1:5986/wsman")
        #expect(WinRMClient.Configuration.endpoint(address: "fe80::1", https: false) == "http://[fe80::1]:5985/wsman")
        #expect(!"\(good)".contains("hunter2"))
        #expect(!String(reflecting: good).contains("hunter2"))
        var dumped = ""
        dump(good, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }
}

/// Set once by a task when it ends, read by the test that polls for an event meanwhile.
private final class Ended: @unchecked Sendable {
    // @unchecked: `ended` is only touched under `lock`.
    private let lock = NSLock()
    private var ended = false
    func mark() { lock.withLock { ended = true } }
    var value: Bool { lock.withLock { ended } }
}
