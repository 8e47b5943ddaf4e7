import Foundation
import LabSupport
import Testing
@testable import PatchCore

/// The WS-Management test endpoint in lab/winrm: a Python stand-in for a Windows host's WinRM
/// service (commands run under /bin/sh instead of cmd.exe). `lab/winrm/setup.sh` makes its test
/// PKI and pywinrm's private virtualenv once; every test starts its own endpoint on a free
/// loopback port with its own log, so tests run in parallel without sharing state.
enum WinRMLab {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The endpoint reads account passwords from the environment, never from argv.
    static let passwordVariable = "PATCHCTL_WINRM_LAB_PASSWORD"
    static let password = "Lab pass: é & <ok> \"q\""
    static let user = "ops"

    /// Runs the idempotent setup once per test process (pip needs PyPI only the first time).
    private static let prepared: String? = {
        let (status, output) = shell([repository.appendingPathComponent("lab/winrm/setup.sh").path])
        return status == 0 ? nil : "lab/winrm/setup.sh failed (\(status)): \(output)"
    }()

    static func prepare() throws {
        if let prepared { throw Failure(prepared) }
    }

    static func pki(_ name: String) -> String {
        repository.appendingPathComponent(".lab/winrm/pki/\(name)").path
    }

    static var systemPython: String {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "python3"
    }

    static func configuration(_ endpoint: WinRMEndpoint, authentication: WinRMClient.Configuration.Authentication = .basic,
                              user: String = WinRMLab.user, password: String = WinRMLab.password,
                              verification: WinRMClient.Configuration.CertificateVerification? = nil,
                              operationTimeout: Double = 20, maxEnvelopeSize: Int = 153_600) -> WinRMClient.Configuration {
        WinRMClient.Configuration(
            label: "winrm-lab", endpoint: endpoint.url, user: user, password: password, authentication: authentication,
            certificateVerification: verification ?? (endpoint.https ? .caFile(pki("ca.pem")) : .systemTrustStore),
            connectTimeout: 5, operationTimeout: operationTimeout, maxEnvelopeSize: maxEnvelopeSize)
    }

    /// Runs a program to completion: (exit status, stdout + stderr).
    static func shell(_ arguments: [String], environment: [String: String] = [:]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let status = process.waitForExit()
        return (status, String(decoding: data, as: UTF8.self))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// One running lab/winrm/endpoint.py; stopped (with its commands) when released or by `stop()`.
final class WinRMEndpoint: @unchecked Sendable {
    // @unchecked: immutable after init except `process`, which only `stop` touches.
    let port: Int
    let https: Bool
    let logPath: String
    private let process: Process
    private let directory: URL

    /// `certificate`: nil for HTTP, else "server" (localhost, 127.0.0.1) or "other" (other.invalid).
    init(certificate: String? = nil, auth: String = "basic,ntlm", chunk: Int = 65536, deny: [String] = [], nest: Int = 0) throws {
        try WinRMLab.prepare()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("patchctl-winrm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        logPath = directory.appendingPathComponent("endpoint.log").path
        https = certificate != nil
        var arguments = [WinRMLab.repository.appendingPathComponent("lab/winrm/endpoint.py").path,
                         "--port", "0", "--auth", auth, "--chunk", String(chunk), "--log", logPath,
                         "--account", "\(WinRMLab.user)=\(WinRMLab.passwordVariable)",
                         "--account", "viewer=\(WinRMLab.passwordVariable)"]
        for name in deny { arguments += ["--deny", name] }
        if nest > 0 { arguments += ["--nest", String(nest)] }
        if let certificate { arguments += ["--tls-cert", WinRMLab.pki("\(certificate).pem"), "--tls-key", WinRMLab.pki("\(certificate).key")] }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [WinRMLab.systemPython] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment[WinRMLab.passwordVariable] = WinRMLab.password
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The endpoint prints "PORT n" once it listens.
        let (announced, text) = HostileEndpoint.announcedPort(output)
        guard let port = announced else {
            process.terminate()
            throw WinRMLab.Failure("endpoint did not start: \(text)")
        }
        self.port = port
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    var url: String { "\(https ? "https" : "http")://127.0.0.1:\(port)/wsman" }

    /// SIGTERM (the endpoint then kills its commands), SIGKILL if it is still there after 3 s.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitForExit()
    }

    /// The endpoint's log: one line per operation ("create", "command", "receive", "timedout",
    /// "signal", "delete", "auth-failed", ...).
    func log() -> [String] {
        ((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func events(_ name: String) -> [String] {
        log().filter { $0.split(separator: " ").dropFirst().first == Substring(name) }
    }
}
