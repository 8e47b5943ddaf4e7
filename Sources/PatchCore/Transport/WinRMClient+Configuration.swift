import Foundation

extension WinRMClient {
    /// Where and how to reach one Windows host over WinRM. The password is held in memory only
    /// and never appears in `description`, errors or logs.
    public struct Configuration: Sendable, CustomStringConvertible, CustomReflectable {
        public enum Authentication: String, Sendable, CaseIterable {
            /// HTTP Basic: the password travels base64-encoded, so use it over HTTPS only (Windows
            /// refuses it over HTTP unless AllowUnencrypted is true). Local accounts only on Windows.
            case basic
            /// NTLMv2 (sent in the scheme the server offers, Negotiate or NTLM). Domain or local
            /// accounts; over plain HTTP the server must allow unencrypted messages (see docs/platforms.md).
            case ntlm
        }

        public enum CertificateVerification: Sendable, Equatable {
            /// The system's CA bundle (Debian: /etc/ssl/certs), the default.
            case systemTrustStore
            /// Only the CA certificates (PEM) in this file, e.g. the domain's own CA.
            case caFile(String)
            /// No check of the server's certificate or name at all: anyone on the path can read
            /// the password. For throwaway labs only.
            case insecureSkipVerification
        }

        /// Host name for errors (the inventory name).
        public var label: String
        /// `http://host:5985/wsman` or `https://host:5986/wsman`.
        public var endpoint: String
        /// `user`, `DOMAIN\user` or `user@domain`.
        public var user: String
        public var password: String
        public var authentication: Authentication
        public var certificateVerification: CertificateVerification
        /// TCP connect + TLS handshake.
        public var connectTimeout: Double
        /// wsman:OperationTimeout: how long the server may hold one request; a Receive that sees no
        /// output in that time answers w:TimedOut and is simply sent again.
        public var operationTimeout: Double
        /// wsman:MaxEnvelopeSize in bytes (Windows' default limit is 500 KiB; 150 KiB like winrs and pywinrm).
        public var maxEnvelopeSize: Int
        public var locale: String
        /// WINRS_CODEPAGE: 65001 makes cmd.exe and console programs write UTF-8.
        public var codePage: Int

        public init(label: String, endpoint: String, user: String, password: String, authentication: Authentication = .ntlm,
                    certificateVerification: CertificateVerification = .systemTrustStore, connectTimeout: Double = 10,
                    operationTimeout: Double = 20, maxEnvelopeSize: Int = 153_600, locale: String = "en-US", codePage: Int = 65001) {
            self.label = label
            self.endpoint = endpoint
            self.user = user
            self.password = password
            self.authentication = authentication
            self.certificateVerification = certificateVerification
            self.connectTimeout = connectTimeout
            self.operationTimeout = operationTimeout
            self.maxEnvelopeSize = maxEnvelopeSize
            self.locale = locale
            self.codePage = codePage
        }

        /// The standard endpoint URL: HTTPS on 5986 or HTTP on 5985 unless `port` says otherwise.
        public static func endpoint(address: String, port: Int? = nil, https: Bool) -> String {
            let host = address.contains(":") && !address.hasPrefix("[") ? "[\(address)]" : address
            return "\(https ? "https" : "http")://\(host):\(port ?? (https ? 5986 : 5985))/wsman"
        }

        public var description: String {
            "WinRM \(endpoint) as \(user) (\(authentication.rawValue), password hidden)"
        }

        /// What `dump` and debuggers show: every setting but the password.
        public var customMirror: Mirror {
            Mirror(self, children: ["label": label, "endpoint": endpoint, "user": user, "password": "(hidden)",
                                    "authentication": authentication, "certificateVerification": certificateVerification,
                                    "connectTimeout": connectTimeout, "operationTimeout": operationTimeout,
                                    "maxEnvelopeSize": maxEnvelopeSize, "locale": locale, "codePage": codePage])
        }

        /// Refuses settings that cannot work, before anything is sent.
        func validate() throws(WinRMError) {
            guard let url = URL(string: endpoint), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  url.host != nil else {
                throw .configuration(host: label, message: "endpoint \(endpoint) is not an http:// or https:// URL")
            }
            if case let .caFile(path) = certificateVerification, !FileManager.default.isReadableFile(atPath: path) {
                throw .configuration(host: label, message: "CA file \(path) is not readable")
            }
            guard operationTimeout >= 1, connectTimeout > 0 else {
                throw .configuration(host: label, message: "operation timeout must be at least 1 s and connect timeout positive")
            }
            guard maxEnvelopeSize >= 8192 else {
                throw .configuration(host: label, message: "MaxEnvelopeSize \(maxEnvelopeSize) is below WS-Man's minimum of 8192")
            }
        }
    }
}
