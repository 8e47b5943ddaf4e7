import PatchSSH

/// Everything that can go wrong while running a command over WinRM. Each case names the host,
/// and what the server said, so one line tells a sysadmin what to fix. Passwords never appear.
public enum WinRMError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The endpoint URL or a setting cannot work (e.g. a CA file that does not exist).
    case configuration(host: String, message: String)
    /// Name resolution, TCP connect, or the connection broke (refused, reset, unreachable).
    case connect(host: String, endpoint: String, message: String)
    /// TLS failed: `message` names the certificate problem (untrusted issuer, name mismatch, expired...).
    case tls(host: String, endpoint: String, message: String)
    /// The server refused the credentials (HTTP 401). `offered` lists the schemes its
    /// WWW-Authenticate headers offered, so a wrong `auth` setting is obvious.
    case authentication(host: String, user: String, scheme: String, offered: [String], detail: String)
    /// A deadline passed: `phase` says which (connect, command, a WS-Man operation).
    case timeout(host: String, phase: String, seconds: Double)
    /// The server answered a WS-Management operation with a SOAP fault.
    case fault(host: String, operation: String, WSManFault)
    /// An HTTP status without a SOAP fault (e.g. 404 for a wrong path, 415, 503).
    case http(host: String, operation: String, status: Int, detail: String)
    /// The reply was not the WS-Management message expected.
    case malformedResponse(host: String, operation: String, message: String)
    /// A command sent more than the per-stream output cap; it was stopped.
    case outputLimit(host: String, stream: String, limit: Int)

    public var description: String {
        switch self {
        case let .configuration(host, message):
            return "\(host): WinRM configuration: \(message)"
        case let .connect(host, endpoint, message):
            return "\(host): cannot connect to \(endpoint): \(message)"
        case let .tls(host, endpoint, message):
            return "\(host): TLS with \(endpoint) failed: \(message)"
        case let .authentication(host, user, scheme, offered, detail):
            let offers = offered.isEmpty ? "the server offered no scheme" : "the server offers " + offered.joined(separator: ", ")
            return "\(host): WinRM authentication failed for user \(user) with \(scheme) (\(offers))\(detail.isEmpty ? "" : ": " + detail)"
        case let .timeout(host, phase, seconds):
            return "\(host): WinRM \(phase) timed out after \(seconds == seconds.rounded() ? "\(Int(seconds))" : "\(seconds)")s"
        case let .fault(host, operation, fault):
            return "\(host): WinRM \(operation) failed: \(fault)"
        case let .http(host, operation, status, detail):
            return "\(host): WinRM \(operation) got HTTP \(status)\(detail.isEmpty ? "" : ": " + detail)"
        case let .malformedResponse(host, operation, message):
            return "\(host): WinRM \(operation): unexpected reply: \(message)"
        case let .outputLimit(host, stream, limit):
            return "\(host): output exceeded \(OutputLimit.describe(limit)) on \(stream); the command was stopped (raise --max-output if this host is honest)"
        }
    }
}

/// A SOAP 1.2 fault as WS-Management servers send it (MS-WSMV 2.2.4.42 WSManFault detail).
public struct WSManFault: Sendable, Equatable, CustomStringConvertible {
    /// `s:Sender` / `s:Receiver`.
    public var code: String
    /// The WS-Man subcode, e.g. `w:InvalidSelectors`, `w:TimedOut`, `w:AccessDenied`.
    public var subcode: String?
    public var reason: String
    /// The `WSManFault Code` attribute: a Windows error number such as 2150858793 (timed out).
    public var wsmanCode: UInt32?
    /// The `WSManFault Message` text (often more precise than the reason), when present.
    public var message: String?

    public init(code: String, subcode: String? = nil, reason: String, wsmanCode: UInt32? = nil, message: String? = nil) {
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.wsmanCode = wsmanCode
        self.message = message
    }

    /// WS-Man's "no output within OperationTimeout" answer to Receive: poll again, not an error.
    public var isOperationTimeout: Bool {
        wsmanCode == 2_150_858_793 || subcode.map { $0.hasSuffix(":TimedOut") || $0 == "TimedOut" } == true
    }

    public var description: String {
        var text = subcode ?? code
        if let wsmanCode { text += " (\(wsmanCode))" }
        let detail = [reason, message ?? ""].filter { !$0.isEmpty }
        let unique = detail.count == 2 && detail[0] == detail[1] ? [detail[0]] : detail
        return unique.isEmpty ? text : text + ": " + unique.joined(separator: "; ")
    }
}
