import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One keep-alive HTTP(S) connection to a WinRM endpoint, used by one request at a time.
///
/// Why libcurl and not URLSession: on Linux, URLSession (which runs on this same libcurl) offers
/// no way to trust a given CA file or to report which certificate check failed, and NTLM needs
/// its three legs on one TCP connection, which URLSession's shared pool does not promise. The
/// library is the `libcurl.so.4` that the toolchain's FoundationNetworking already links, opened
/// at run time: no new package and no headers. Each request blocks a thread of its own (WinRM
/// hosts are few next to SSH's, and a Receive waits seconds anyway).
final class HTTPConnection: @unchecked Sendable {
    // @unchecked: the easy handle is only touched inside `perform`, which `lock` serializes.
    struct Response {
        var status: Int
        /// Header lines of the final response, names lowercased.
        var headers: [(name: String, value: String)]
        var body: [UInt8]
        /// True when this request had to open a new TCP connection (NTLM's state did not survive).
        var newConnection: Bool

        func values(_ name: String) -> [String] {
            headers.filter { $0.name == name }.map(\.value)
        }
    }

    let url: String
    let label: String
    private let verification: WinRMClient.Configuration.CertificateVerification
    private let connectTimeout: Double
    private let maxResponseBytes: Int
    private let lock = NSLock()
    private var handle: OpaquePointer?
    /// Set once an NTLM handshake succeeded on the current TCP connection; cleared when curl
    /// had to open a new one.
    var ntlmAuthenticated: Bool {
        get { lock.withLock { authenticated } }
        set { lock.withLock { authenticated = newValue } }
    }
    private var authenticated = false

    init(url: String, label: String, verification: WinRMClient.Configuration.CertificateVerification,
         connectTimeout: Double, maxResponseBytes: Int) {
        self.url = url
        self.label = label
        self.verification = verification
        self.connectTimeout = connectTimeout
        self.maxResponseBytes = maxResponseBytes
    }

    deinit {
        if let handle, case let .loaded(curl) = Curl.shared { curl.cleanup(handle) }
    }

    /// POSTs `body`; `timeout` bounds the whole exchange. Throws `WinRMError` (connect, tls,
    /// timeout) or `CancellationError`; any HTTP status is returned, not thrown.
    func post(_ body: [UInt8], headers: [String], timeout: Double, operation: String) async throws -> Response {
        let curl: Curl
        switch Curl.shared {
        case let .loaded(loaded): curl = loaded
        case let .missing(message): throw WinRMError.configuration(host: label, message: message)
        }
        let cancel = CancelFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Response, any Error>) in
                Thread.detachNewThread { [self] in
                    continuation.resume(with: Result {
                        try self.perform(curl, body: body, headers: headers, timeout: timeout, operation: operation, cancel: cancel)
                    })
                }
            }
        } onCancel: {
            cancel.set()
        }
    }

    private func perform(_ curl: Curl, body: [UInt8], headers: [String], timeout: Double, operation: String,
                         cancel: CancelFlag) throws -> Response {
        lock.lock()
        defer { lock.unlock() }
        if handle == nil {
            handle = curl.easyInit()
            guard handle != nil else { throw WinRMError.configuration(host: label, message: "curl_easy_init failed") }
        }
        let easy = handle
        let state = TransferState(limit: maxResponseBytes, cancel: cancel)
        let context = Unmanaged.passUnretained(state).toOpaque()
        var errorBuffer = [CChar](repeating: 0, count: 256)  // CURL_ERROR_SIZE
        var list: OpaquePointer?
        // No "Expect: 100-continue" round trip; HTTP.sys answers 401 to the headers alone anyway.
        for header in headers + ["Expect:"] { list = header.withCString { curl.slistAppend(list, $0) } }
        defer { curl.slistFreeAll(list) }

        let code: Int32 = url.withCString { urlPointer in
            body.withUnsafeBytes { bodyPointer in
                errorBuffer.withUnsafeMutableBufferPointer { errorPointer in
                    caFilePath.withOptionalCString { caPointer in
                        _ = curl.setPointer(easy, Curl.optURL, urlPointer)
                        _ = curl.setLong(easy, Curl.optPost, 1)
                        _ = curl.setPointer(easy, Curl.optPostFields, bodyPointer.baseAddress ?? UnsafeRawPointer(urlPointer))
                        _ = curl.setLong(easy, Curl.optPostFieldSize, body.count)
                        _ = curl.setPointer(easy, Curl.optHTTPHeader, list.map { UnsafeRawPointer($0) })
                        _ = curl.setLong(easy, Curl.optHTTPVersion, 2)  // CURL_HTTP_VERSION_1_1
                        _ = curl.setLong(easy, Curl.optNoSignal, 1)
                        _ = curl.setLong(easy, Curl.optTimeoutMS, max(1, Int(timeout * 1000)))
                        _ = curl.setLong(easy, Curl.optConnectTimeoutMS, max(1, Int(min(connectTimeout, timeout) * 1000)))
                        _ = curl.setPointer(easy, Curl.optErrorBuffer, UnsafeRawPointer(errorPointer.baseAddress))
                        _ = curl.setPointer(easy, Curl.optWriteFunction, unsafeBitCast(Curl.writeCallback, to: UnsafeRawPointer.self))
                        _ = curl.setPointer(easy, Curl.optWriteData, UnsafeRawPointer(context))
                        _ = curl.setPointer(easy, Curl.optHeaderFunction, unsafeBitCast(Curl.headerCallback, to: UnsafeRawPointer.self))
                        _ = curl.setPointer(easy, Curl.optHeaderData, UnsafeRawPointer(context))
                        _ = curl.setLong(easy, Curl.optNoProgress, 0)
                        _ = curl.setPointer(easy, Curl.optXferInfoFunction, unsafeBitCast(Curl.progressCallback, to: UnsafeRawPointer.self))
                        _ = curl.setPointer(easy, Curl.optXferInfoData, UnsafeRawPointer(context))
                        switch verification {
                        case .systemTrustStore:
                            _ = curl.setLong(easy, Curl.optSSLVerifyPeer, 1)
                            _ = curl.setLong(easy, Curl.optSSLVerifyHost, 2)
                        case .caFile:
                            _ = curl.setLong(easy, Curl.optSSLVerifyPeer, 1)
                            _ = curl.setLong(easy, Curl.optSSLVerifyHost, 2)
                            // Only the given CA: the system directory must not widen the trust.
                            _ = curl.setPointer(easy, Curl.optCAInfo, caPointer.map { UnsafeRawPointer($0) })
                            _ = curl.setPointer(easy, Curl.optCAPath, nil)
                        case .insecureSkipVerification:
                            _ = curl.setLong(easy, Curl.optSSLVerifyPeer, 0)
                            _ = curl.setLong(easy, Curl.optSSLVerifyHost, 0)
                        }
                        return curl.perform(easy)
                    }
                }
            }
        }
        // Nothing may point at this call's buffers once it returns.
        _ = curl.setPointer(easy, Curl.optErrorBuffer, nil)
        _ = curl.setPointer(easy, Curl.optHTTPHeader, nil)
        _ = curl.setPointer(easy, Curl.optPostFields, nil)

        var connects = 0
        _ = curl.getLong(easy, Curl.infoNumConnects, &connects)
        if connects > 0 { authenticated = false }  // `lock` is held here
        guard code == 0 else {
            let buffered = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            let detail = buffered.isEmpty ? String(cString: curl.strerror(code)) : buffered
            throw failure(code, detail: detail, timeout: timeout, operation: operation, state: state)
        }
        var status = 0
        _ = curl.getLong(easy, Curl.infoResponseCode, &status)
        return Response(status: status, headers: state.headers, body: state.body, newConnection: connects > 0)
    }

    private var caFilePath: String? {
        if case let .caFile(path) = verification { return path }
        return nil
    }

    private func failure(_ code: Int32, detail: String, timeout: Double, operation: String, state: TransferState) -> any Error {
        switch code {
        case 42 where state.cancel.isSet:  // CURLE_ABORTED_BY_CALLBACK
            return CancellationError()
        case 23 where state.tooLarge:  // CURLE_WRITE_ERROR from our size cap
            return WinRMError.malformedResponse(host: label, operation: operation, message: "reply larger than \(maxResponseBytes) bytes")
        case 28:  // CURLE_OPERATION_TIMEDOUT
            return WinRMError.timeout(host: label, phase: state.headers.isEmpty && state.body.isEmpty ? operation : operation + " reply", seconds: timeout)
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91, 98:
            // SSL connect, peer verification, certificate, CA file, pinning, CRL errors.
            return WinRMError.tls(host: label, endpoint: url, message: detail)
        default:
            return WinRMError.connect(host: label, endpoint: url, message: detail)
        }
    }
}

/// What one transfer collected; owned by the thread running it (callbacks run inside perform).
private final class TransferState {
    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    var tooLarge = false
    let limit: Int
    let cancel: CancelFlag

    init(limit: Int, cancel: CancelFlag) {
        self.limit = limit
        self.cancel = cancel
    }
}

/// Set by task cancellation on any thread, read by the transfer's progress callback.
private final class CancelFlag: @unchecked Sendable {
    // @unchecked: `value` is only read and written under `lock`.
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

extension Optional where Wrapped == String {
    fileprivate func withOptionalCString<Result>(_ body: (UnsafePointer<CChar>?) -> Result) -> Result {
        switch self {
        case let .some(text): return text.withCString { body($0) }
        case .none: return body(nil)
        }
    }
}

/// The few libcurl entry points used, resolved once with dlsym.
private final class Curl: @unchecked Sendable {
    // @unchecked: only immutable C function pointers.
    typealias SetLong = @convention(c) (OpaquePointer?, Int32, Int) -> Int32
    typealias SetPointer = @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer?) -> Int32
    typealias GetLong = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<Int>) -> Int32
    typealias DataCallback = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int
    typealias ProgressCallback = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, Int64, Int64) -> Int32

    // Option numbers from curl.h: LONG options count from 0, OBJECTPOINT from 10000, FUNCTIONPOINT from 20000.
    static let optWriteData: Int32 = 10001, optURL: Int32 = 10002, optErrorBuffer: Int32 = 10010
    static let optWriteFunction: Int32 = 20011, optPostFields: Int32 = 10015, optHTTPHeader: Int32 = 10023
    static let optHeaderData: Int32 = 10029, optNoProgress: Int32 = 43, optPost: Int32 = 47
    static let optXferInfoData: Int32 = 10057, optPostFieldSize: Int32 = 60, optSSLVerifyPeer: Int32 = 64
    static let optCAInfo: Int32 = 10065, optHeaderFunction: Int32 = 20079, optSSLVerifyHost: Int32 = 81
    static let optHTTPVersion: Int32 = 84, optCAPath: Int32 = 10097, optNoSignal: Int32 = 99
    static let optTimeoutMS: Int32 = 155, optConnectTimeoutMS: Int32 = 156, optXferInfoFunction: Int32 = 20219
    static let infoResponseCode: Int32 = 0x20_0000 + 2, infoNumConnects: Int32 = 0x20_0000 + 26

    let easyInit: @convention(c) () -> OpaquePointer?
    let setLong: SetLong
    let setPointer: SetPointer
    let getLong: GetLong
    let perform: @convention(c) (OpaquePointer?) -> Int32
    let cleanup: @convention(c) (OpaquePointer?) -> Void
    let strerror: @convention(c) (Int32) -> UnsafePointer<CChar>
    let slistAppend: @convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> OpaquePointer?
    let slistFreeAll: @convention(c) (OpaquePointer?) -> Void

    enum Loading {
        case loaded(Curl)
        case missing(String)
    }

    static let shared: Loading = {
        #if os(macOS)
        let name = "libcurl.4.dylib"
        #else
        let name = "libcurl.so.4"
        #endif
        guard let library = dlopen(name, RTLD_NOW) else {
            return .missing("cannot load \(name) (install libcurl4): \(String(cString: dlerror()))")
        }
        func symbol<T>(_ symbolName: String, as type: T.Type) -> T? {
            dlsym(library, symbolName).map { unsafeBitCast($0, to: type) }
        }
        typealias GlobalInit = @convention(c) (Int) -> Int32
        guard let globalInit = symbol("curl_global_init", as: GlobalInit.self),
              let easyInit = symbol("curl_easy_init", as: (@convention(c) () -> OpaquePointer?).self),
              let setLong = symbol("curl_easy_setopt", as: SetLong.self),
              let setPointer = symbol("curl_easy_setopt", as: SetPointer.self),
              let getLong = symbol("curl_easy_getinfo", as: GetLong.self),
              let perform = symbol("curl_easy_perform", as: (@convention(c) (OpaquePointer?) -> Int32).self),
              let cleanup = symbol("curl_easy_cleanup", as: (@convention(c) (OpaquePointer?) -> Void).self),
              let strerror = symbol("curl_easy_strerror", as: (@convention(c) (Int32) -> UnsafePointer<CChar>).self),
              let slistAppend = symbol("curl_slist_append", as: (@convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> OpaquePointer?).self),
              let slistFreeAll = symbol("curl_slist_free_all", as: (@convention(c) (OpaquePointer?) -> Void).self)
        else { return .missing("\(name) lacks the curl_easy functions") }
        _ = globalInit(3)  // CURL_GLOBAL_DEFAULT, once per process (this initializer runs once)
        return .loaded(Curl(easyInit: easyInit, setLong: setLong, setPointer: setPointer, getLong: getLong, perform: perform,
                             cleanup: cleanup, strerror: strerror, slistAppend: slistAppend, slistFreeAll: slistFreeAll))
    }()

    private init(easyInit: @escaping @convention(c) () -> OpaquePointer?, setLong: @escaping SetLong, setPointer: @escaping SetPointer,
                 getLong: @escaping GetLong, perform: @escaping @convention(c) (OpaquePointer?) -> Int32,
                 cleanup: @escaping @convention(c) (OpaquePointer?) -> Void, strerror: @escaping @convention(c) (Int32) -> UnsafePointer<CChar>,
                 slistAppend: @escaping @convention(c) (OpaquePointer?, UnsafePointer<CChar>) -> OpaquePointer?,
                 slistFreeAll: @escaping @convention(c) (OpaquePointer?) -> Void) {
        self.easyInit = easyInit
        self.setLong = setLong
        self.setPointer = setPointer
        self.getLong = getLong
        self.perform = perform
        self.cleanup = cleanup
        self.strerror = strerror
        self.slistAppend = slistAppend
        self.slistFreeAll = slistFreeAll
    }

    static let writeCallback: DataCallback = { data, size, count, context in
        guard let data, let context else { return 0 }
        let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard state.body.count + length <= state.limit else {
            state.tooLarge = true
            return 0  // makes curl fail with CURLE_WRITE_ERROR
        }
        data.withMemoryRebound(to: UInt8.self, capacity: length) { state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
        return length
    }

    static let headerCallback: DataCallback = { data, size, count, context in
        guard let data, let context else { return 0 }
        let state = Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }.trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            state.headers = []  // a new response (after 100 Continue): only the last one counts
        } else if state.headers.count >= 256 {
            return 0  // far more headers than any WS-Management reply has: abort the transfer
        } else if let colon = line.firstIndex(of: ":") {
            state.headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return length
    }

    static let progressCallback: ProgressCallback = { context, _, _, _, _ in
        guard let context else { return 0 }
        return Unmanaged<TransferState>.fromOpaque(context).takeUnretainedValue().cancel.isSet ? 1 : 0
    }
}
