import Foundation
import PatchSSH

/// A Windows host reached over WinRM, seen by the engine like any other session. Settings come
/// from the inventory's Ansible WinRM variables; the password from `password_env` or
/// `password_command` (never the inventory itself).
final class WinRMSession: RemoteSession {
    let client: WinRMClient

    init(client: WinRMClient) {
        self.client = client
    }

    var loginUser: String { client.configuration.user }
    var identity: String { client.configuration.endpoint }

    /// No sudo prompts on Windows: `prompt` is never set for Windows hosts.
    func run(_ command: String, timeout: Double, prompt: PromptReply?, outputLimit: Int) async throws -> CommandResult {
        try await client.run(command, timeout: timeout, outputLimit: outputLimit)
    }

    func close() async {
        await client.close()
    }

    /// `ansible_winrm_scheme` (https, the default, or http), `ansible_winrm_transport` (ntlm, the
    /// default, or basic), `ansible_winrm_server_cert_validation: ignore`, and
    /// `ansible_winrm_ca_trust_path` (a PEM file of CAs to trust instead of the system's). A port
    /// left at SSH's 22 means WinRM's own: 5986 for https, 5985 for http; `winrm_port` overrides.
    /// `fallingBackFromOpenSSH`: the host's `port` is its OpenSSH port, never WinRM's, so only
    /// `winrm_port` (or the scheme's default) is used.
    static func configuration(for host: Host, user: String, password: String?, connectTimeout: Double,
                              fallingBackFromOpenSSH: Bool = false) throws -> WinRMClient.Configuration {
        func text(_ key: String) -> String? {
            if case let .string(value)? = host.vars[key] { return value }
            return nil
        }
        guard let password else {
            throw PatchError.credential(host: host.name, message: "WinRM needs a password: set password_env or password_command for this host")
        }
        let scheme = (text("ansible_winrm_scheme") ?? "https").lowercased()
        guard scheme == "https" || scheme == "http" else {
            throw PatchError.credential(host: host.name, message: "ansible_winrm_scheme must be https or http, not \(scheme)")
        }
        let transport = (text("ansible_winrm_transport") ?? "ntlm").lowercased()
        let authentication: WinRMClient.Configuration.Authentication
        switch transport {
        case "ntlm", "negotiate": authentication = .ntlm
        case "basic": authentication = .basic
        default:
            throw PatchError.credential(host: host.name, message: "ansible_winrm_transport \(transport) is not supported (ntlm or basic)")
        }
        var verification = WinRMClient.Configuration.CertificateVerification.systemTrustStore
        if let path = text("ansible_winrm_ca_trust_path") { verification = .caFile(path) }
        if text("ansible_winrm_server_cert_validation")?.lowercased() == "ignore" { verification = .insecureSkipVerification }
        // `winrm_port` names WinRM's port when `port` is OpenSSH's (hosts with a fallback).
        var port = fallingBackFromOpenSSH || host.port == 22 ? nil : host.port
        if case let .int(explicit)? = host.vars["winrm_port"] { port = explicit }
        return WinRMClient.Configuration(
            label: host.name, endpoint: WinRMClient.Configuration.endpoint(address: host.address, port: port, https: scheme == "https"),
            user: user, password: password, authentication: authentication, certificateVerification: verification, connectTimeout: connectTimeout)
    }
}
