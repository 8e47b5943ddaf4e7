import CLibSSH2

/// Process-wide libssh2 setup. `libssh2_init` is not thread-safe, so it runs exactly once,
/// through a `static let`, before any session exists.
public enum LibSSH2 {
    private static let initialized: Int32 = libssh2_init(0)

    /// The libssh2 actually linked (1.11 or newer for RSA with SHA-2 signatures; see scripts/libssh2.sh).
    public static var version: String {
        libssh2_version(0).map { String(cString: $0) } ?? "unknown"
    }

    static func ensureInitialized() throws {
        guard initialized == 0 else {
            throw LibSSH2Error(code: initialized, message: "libssh2_init failed", function: "libssh2_init")
        }
    }
}

/// A failing libssh2 call: its return code and the session's own last-error text.
public struct LibSSH2Error: Error, CustomStringConvertible, Sendable, Equatable {
    public let code: Int32
    public let message: String
    public let function: String

    public var description: String { "\(function): \(message) (libssh2 error \(code))" }

    /// The session's last error, for calls that signal failure with NULL instead of a code.
    static func last(_ session: OpaquePointer?, function: String, fallback: Int32 = LIBSSH2_ERROR_SOCKET_NONE) -> LibSSH2Error {
        guard let session else { return LibSSH2Error(code: fallback, message: "no session", function: function) }
        var text: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &text, &length, 0)
        let message = text.map { String(cString: $0) } ?? "unknown error"
        return LibSSH2Error(code: code == 0 ? fallback : code, message: message.isEmpty ? "unknown error" : message, function: function)
    }
}

/// Every libssh2 return code goes through here: negative codes become `LibSSH2Error`
/// carrying the session's own explanation.
@discardableResult
func check(_ code: Int32, _ session: OpaquePointer?, _ function: String) throws -> Int32 {
    guard code < 0 else { return code }
    var error = LibSSH2Error.last(session, function: function, fallback: code)
    if error.code != code { error = LibSSH2Error(code: code, message: error.message, function: function) }
    throw error
}
