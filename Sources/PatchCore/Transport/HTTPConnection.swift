import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One keep-alive HTTP(S) connection to a WinRM endpoint, used by one request at a time.
///
/// async-http-client over NIOSSL: trust roots from a CA file (only that file) or the system's,
/// and verification off only when configured. NTLM needs its three legs on one TCP connection,
/// so each `HTTPConnection` has its own client whose pool holds a single HTTP/1.1 connection;
/// requests on it are sequential (`WinRMClient` gives a connection to one run at a time). All
/// clients share NIO's process-wide event loop group (`singleton`, never shut down); each client
/// is shut down by `close()` or, at the latest, when its connection is dropped.
final class HTTPConnection: Sendable {
    struct Response {
        var status: Int
        /// Header lines of the final response, names lowercased.
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func values(_ name: String) -> [String] {
            headers.filter { $0.name == name }.map(\.value)
        }
    }

    /// Far more headers than any WS-Management reply has: such a reply is refused.
    static let maxHeaders = 256

    let url: String
    let label: String
    private let client: HTTPClient
    private let maxResponseBytes: Int
    private let authenticated = NIOLockedValueBox(false)
    /// Set once an NTLM handshake succeeded on this connection. The pool may have to replace the
    /// TCP connection (the server closed it); the server then answers 401 and the caller logs in again.
    var ntlmAuthenticated: Bool {
        get { authenticated.withLockedValue { $0 } }
        set { authenticated.withLockedValue { $0 = newValue } }
    }

    init(url: String, label: String, verification: WinRMClient.Configuration.CertificateVerification,
         connectTimeout: Double, maxResponseBytes: Int) {
        self.url = url
        self.label = label
        self.maxResponseBytes = maxResponseBytes
        var tls = TLSConfiguration.makeClientConfiguration()
        switch verification {
        case .systemTrustStore:
            tls.trustRoots = .default
        case let .caFile(path):
            // Only the given CA: the system's store must not widen the trust.
            tls.trustRoots = .file(path)
        case .insecureSkipVerification:
            tls.certificateVerification = .none
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(max(1, connectTimeout * 1000)))),
            connectionPool: .init(idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: 1),
            decompression: .disabled)
        configuration.httpVersion = .http1Only
        // A refused or failing connect is reported at once, not retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    deinit {
        // Not awaited: the client keeps itself alive until its connection is closed. A second
        // shutdown (after `close()`) only fails the returned future.
        _ = client.shutdown()
    }

    /// Closes the kept-alive TCP connection.
    func close() async {
        try? await client.shutdown()
    }

    /// POSTs `body`; `timeout` bounds the whole exchange, reply body included. Throws `WinRMError`
    /// (connect, tls, timeout, malformedResponse for an oversized reply) or `CancellationError`;
    /// any HTTP status is returned, not thrown.
    func post(_ body: [UInt8], headers: [String], timeout: Double, operation: String) async throws -> Response {
        let replyStarted = NIOLockedValueBox(false)
        // async-http-client's deadline ends when the head arrives; the race also bounds the body.
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask { try await self.exchange(body, headers: headers, timeout: timeout, operation: operation, replyStarted: replyStarted) }
            group.addTask {
                try await Task.sleep(for: .seconds(timeout))
                return nil
            }
            defer { group.cancelAll() }
            if let response = try await group.next() ?? nil { return response }
            try Task.checkCancellation()
            let phase = replyStarted.withLockedValue { $0 } ? operation + " reply" : operation
            throw WinRMError.timeout(host: label, phase: phase, seconds: timeout)
        }
    }

    private func exchange(_ body: [UInt8], headers: [String], timeout: Double, operation: String,
                          replyStarted: NIOLockedValueBox<Bool>) async throws -> Response {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for line in headers {
            let parts = line.split(separator: ":", maxSplits: 1)
            request.headers.add(name: String(parts[0]), value: parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(max(1, timeout * 1000))))
            replyStarted.withLockedValue { $0 = true }
            guard response.headers.count <= Self.maxHeaders else {
                throw WinRMError.malformedResponse(host: label, operation: operation, message: "reply with more than \(Self.maxHeaders) headers")
            }
            let bytes = try await response.body.collect(upTo: maxResponseBytes)
            return Response(status: Int(response.status.code),
                            headers: response.headers.map { ($0.name.lowercased(), $0.value) },
                            body: Array(bytes.readableBytesView))
        } catch let error as WinRMError {
            throw error
        } catch {
            throw failure(error, timeout: timeout, operation: operation, replyStarted: replyStarted.withLockedValue { $0 })
        }
    }

    private func failure(_ error: any Error, timeout: Double, operation: String, replyStarted: Bool) -> any Error {
        if Task.isCancelled || error is CancellationError { return CancellationError() }
        if error is NIOTooManyBytesError {
            return WinRMError.malformedResponse(host: label, operation: operation, message: "reply larger than \(maxResponseBytes) bytes")
        }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .connectTimeout, .readTimeout, .writeTimeout:
                return WinRMError.timeout(host: label, phase: replyStarted ? operation + " reply" : operation, seconds: timeout)
            case .cancelled:
                return CancellationError()
            default:
                break
            }
        }
        if let message = Self.tlsProblem(error, host: URL(string: url)?.host ?? url) {
            return WinRMError.tls(host: label, endpoint: url, message: message)
        }
        return WinRMError.connect(host: label, endpoint: url, message: Self.describe(error))
    }

    /// A human account of a TLS failure, or nil when `error` is not one.
    static func tlsProblem(_ error: any Error, host: String) -> String? {
        if let extra = error as? NIOSSLExtraError {
            if extra == .failedToValidateHostname {
                return "the server's certificate does not name \(host)"
            }
            return "TLS: \(extra)"
        }
        if let ssl = error as? NIOSSLError {
            let detail = "\(ssl)"
            if detail.contains("CERTIFICATE_VERIFY_FAILED") {
                return "the server's certificate is not trusted (no chain to a trusted CA): \(detail)"
            }
            return "TLS handshake failed: \(detail)"
        }
        if error is BoringSSLError { return "TLS: \(error)" }
        return nil
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            return error.connectionErrors.first.map { "\($0.error)" } ?? "\(error)"
        }
        return "\(error)"
    }
}
