import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Fetches one feed over HTTP(S) into a temporary file: a conditional GET (the stored ETag and
/// Last-Modified), the body streamed to disk and capped (`maxBytes` on the wire and, for a
/// `Content-Encoding: gzip` body, `maxDecompressedBytes` after inflating: a gzip bomb is an
/// error), connect and read timeouts, at most five redirects. Its own small client, not WinRM's.
public struct FeedDownloader: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// 304: what is stored is current.
        case notModified
        /// 200: the body is in `file` (the caller removes it), with the validators to store.
        case downloaded(file: String, validators: AdvisoryFeedValidators)
    }

    public var limits: FeedLimits
    public var connectTimeout: TimeAmount
    /// Longest silence while the reply comes in.
    public var readTimeout: TimeAmount
    public var maxRedirects: Int

    public init(limits: FeedLimits = .standard, connectTimeout: TimeAmount = .seconds(30), readTimeout: TimeAmount = .seconds(120), maxRedirects: Int = 5) {
        self.limits = limits
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxRedirects = maxRedirects
    }

    /// Downloads `url` into a new file in `directory`. `progress` sees the bytes received so far.
    /// Throws `FeedFormatError` with a human account (status, refused connection, timeout, size).
    public func download(_ url: String, previous: AdvisoryFeedValidators?, into directory: String,
                         progress: (@Sendable (Int) -> Void)? = nil) async throws -> Outcome {
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: TLSConfiguration.makeClientConfiguration(),
            redirectConfiguration: .follow(max: maxRedirects, allowCycles: false),
            timeout: .init(connect: connectTimeout, read: readTimeout),
            decompression: .enabled(limit: .size(limits.maxDecompressedBytes)))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        var file: String?
        do {
            let outcome = try await fetch(client, url, previous: previous, into: directory, progress: progress) { file = $0 }
            try? await client.shutdown()
            return outcome
        } catch {
            try? await client.shutdown()
            if let file { try? FileManager.default.removeItem(atPath: file) }
            if error is CancellationError { throw error }
            throw error as? FeedFormatError ?? FeedFormatError(describe(error))
        }
    }

    private func fetch(_ client: HTTPClient, _ url: String, previous: AdvisoryFeedValidators?, into directory: String,
                       progress: (@Sendable (Int) -> Void)?, created: (String) -> Void) async throws -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "patchctl")
        request.headers.add(name: "Accept-Encoding", value: "gzip")
        if let etag = previous?.etag { request.headers.add(name: "If-None-Match", value: etag) }
        if let lastModified = previous?.lastModified { request.headers.add(name: "If-Modified-Since", value: lastModified) }
        // The whole exchange may take long for a big file on a slow line: the read timeout
        // bounds any stall, this only a runaway.
        let response = try await client.execute(request, deadline: .now() + .hours(2))
        switch response.status.code {
        case 200:
            break
        case let code:
            // The body is read to its end (a little of it at most): an unread body keeps the
            // request open and the client's shutdown waiting for it.
            _ = try? await response.body.collect(upTo: 64 << 10)
            if code == 304 { return .notModified }
            throw FeedFormatError("HTTP \(code) \(response.status.reasonPhrase)")
        }
        let encoded = response.headers.first(name: "content-encoding")?.lowercased()
        if encoded == nil, let length = response.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxBytes {
            throw FeedFormatError("body of \(length) bytes is over the limit of \(limits.maxBytes)")
        }
        let path = (directory as NSString).appendingPathComponent(".patchctl-feed-\(UUID().uuidString).download")
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw FeedFormatError("cannot create a temporary file in \(directory)")
        }
        created(path)
        defer { try? handle.close() }
        var received = 0
        // What is written is the decoded body: capped by maxBytes whatever the encoding (the
        // decompressor's own cap, maxDecompressedBytes, stops a bomb earlier when smaller).
        for try await chunk in response.body {
            received += chunk.readableBytes
            guard received <= limits.maxBytes else { throw FeedFormatError("body is over the limit of \(limits.maxBytes) bytes") }
            try chunk.withUnsafeReadableBytes { try handle.write(contentsOf: $0) }
            progress?(received)
        }
        if encoded == nil, let length = response.headers.first(name: "content-length").flatMap(Int.init), length != received {
            throw FeedFormatError("body truncated: \(received) of \(length) bytes")
        }
        return .downloaded(file: path, validators: AdvisoryFeedValidators(etag: response.headers.first(name: "etag"),
                                                                          lastModified: response.headers.first(name: "last-modified")))
    }

    private func describe(_ error: any Error) -> String {
        let type = String(reflecting: Swift.type(of: error))
        if type.contains("DecompressionError") {
            // NIOHTTPCompression's: the inflated body passed maxDecompressedBytes, or is not gzip.
            return "\(error)" == "limit" || "\(error)".hasSuffix(".limit")
                ? "compressed body inflates past the limit of \(limits.maxDecompressedBytes) bytes (gzip bomb?)"
                : "compressed body cannot be decoded: \(error)"
        }
        if let parser = error as? HTTPParserError {
            if case .invalidEOFState = parser { return "connection closed by the server before the body ended (truncated)" }
            return "malformed HTTP reply: \(parser)"
        }
        if error is NIOTooManyBytesError { return "body is over the limit of \(limits.maxBytes) bytes" }
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout: return "connect timed out"
            case .readTimeout: return "read timed out (no data for \(readTimeout.nanoseconds / 1_000_000_000) s)"
            case .deadlineExceeded: return "download took too long"
            case .remoteConnectionClosed: return "connection closed by the server before the body ended (truncated)"
            case .redirectLimitReached: return "more than \(maxRedirects) redirects"
            case .redirectCycleDetected: return "redirect cycle"
            default: break
            }
        }
        if let tls = HTTPConnection.tlsProblem(error, host: "the feed's host") { return tls }
        if let error = error as? NIOConnectionError {
            return "cannot connect: " + (error.connectionErrors.first.map { "\($0.error)" } ?? "\(error)")
        }
        if let error = error as? IOError { return "cannot connect: \(error)" }
        return "\(error)"
    }
}
