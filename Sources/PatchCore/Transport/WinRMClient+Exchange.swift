import Foundation

extension WinRMClient {
    /// Sends one WS-Man request and returns the reply envelope; faults and HTTP errors throw.
    /// `holding` is the OperationTimeout the server may use; `within` bounds the HTTP exchange.
    func send(_ request: WSManRequest, on connection: HTTPConnection, holding: Double, within: Double) async throws -> XMLReader.Element {
        let operation = request.action.name
        let envelope = Array(request.envelope(to: configuration.endpoint, maxEnvelopeSize: configuration.maxEnvelopeSize,
                                              operationTimeout: holding, locale: configuration.locale).utf8)
        guard envelope.count <= configuration.maxEnvelopeSize else {
            throw WinRMError.configuration(host: configuration.label,
                                           message: "\(operation) request of \(envelope.count) bytes exceeds MaxEnvelopeSize \(configuration.maxEnvelopeSize)")
        }
        let response: HTTPConnection.Response
        switch configuration.authentication {
        case .basic:
            let token = Data("\(configuration.user):\(configuration.password)".utf8).base64EncodedString()
            response = try await connection.post(envelope, headers: Self.headers + ["Authorization: Basic \(token)"],
                                                 timeout: within, operation: operation)
        case .ntlm:
            if connection.ntlmAuthenticated {
                let plain = try await connection.post(envelope, headers: Self.headers, timeout: within, operation: operation)
                // A 401 here means the server forgot the connection's login (a new TCP connection): log in again.
                response = plain.status == 401 ? try await ntlmExchange(envelope, on: connection, within: within, operation: operation) : plain
            } else {
                response = try await ntlmExchange(envelope, on: connection, within: within, operation: operation)
            }
        }
        return try read(response, operation: operation)
    }

    private static let headers = ["Content-Type: application/soap+xml;charset=UTF-8", "User-Agent: patchctl"]

    /// NTLM's three legs on one connection (MS-NLMP over HTTP, as WinRM's HTTP.sys expects):
    /// NEGOTIATE, the server's CHALLENGE in a 401, AUTHENTICATE with the request itself.
    private func ntlmExchange(_ envelope: [UInt8], on connection: HTTPConnection, within: Double, operation: String) async throws -> HTTPConnection.Response {
        let ntlm = NTLMClient(account: configuration.user, password: configuration.password)
        // Windows offers NTLM inside "Negotiate"; a raw NTLM token is accepted there, as winrs sends it.
        let first = try await connection.post(envelope, headers: Self.headers + ["Authorization: Negotiate \(Data(ntlm.negotiateMessage()).base64EncodedString())"],
                                              timeout: within, operation: operation)
        guard first.status == 401 else { return first }
        let offered = Self.schemes(first)
        let scheme: String
        let challengeBytes: [UInt8]?
        if let token = Self.token(in: first, scheme: "Negotiate") {
            (scheme, challengeBytes) = ("Negotiate", token)
        } else if offered.contains(where: { $0.caseInsensitiveCompare("NTLM") == .orderedSame }) {
            // A server offering plain "NTLM" ignored the Negotiate header: start over in its scheme.
            let retry = try await connection.post(envelope, headers: Self.headers + ["Authorization: NTLM \(Data(ntlm.negotiateMessage()).base64EncodedString())"],
                                                  timeout: within, operation: operation)
            guard retry.status == 401 else { return retry }
            (scheme, challengeBytes) = ("NTLM", Self.token(in: retry, scheme: "NTLM"))
        } else {
            throw authenticationError(offered: offered, detail: "the server does not offer NTLM or Negotiate")
        }
        guard let challengeBytes, let challenge = NTLMChallenge(challengeBytes) else {
            throw authenticationError(offered: offered, detail: "no NTLM challenge in the server's 401 reply")
        }
        let authenticate = ntlm.authenticateMessage(challenge).message
        let final = try await connection.post(envelope, headers: Self.headers + ["Authorization: \(scheme) \(Data(authenticate).base64EncodedString())"],
                                              timeout: within, operation: operation)
        if final.status != 401 { connection.ntlmAuthenticated = true }
        return final
    }

    private func read(_ response: HTTPConnection.Response, operation: String) throws -> XMLReader.Element {
        let label = configuration.label
        if response.status == 401 {
            let offered = Self.schemes(response)
            let ours = configuration.authentication == .basic ? "Basic" : "NTLM"
            let offersOurs = offered.contains { $0.caseInsensitiveCompare(ours) == .orderedSame
                || (configuration.authentication == .ntlm && $0.caseInsensitiveCompare("Negotiate") == .orderedSame) }
            var detail = offersOurs ? "credentials rejected" : "the server does not offer \(ours)"
            if configuration.endpoint.lowercased().hasPrefix("http:") {
                detail += "; over plain HTTP Windows offers Basic, and accepts NTLM without message encryption, only with AllowUnencrypted=true"
            }
            throw authenticationError(offered: offered, detail: detail)
        }
        let envelope: XMLReader.Element?
        do {
            envelope = try XMLReader.parse(response.body)
        } catch {
            envelope = nil
            if response.status == 200 {
                throw WinRMError.malformedResponse(host: label, operation: operation, message: "invalid XML at byte \(error.offset): \(error.message)")
            }
        }
        if let envelope, let fault = WSManResponse.fault(in: envelope) {
            throw WinRMError.fault(host: label, operation: operation, fault)
        }
        guard response.status == 200, let envelope else {
            let text = String(decoding: response.body.prefix(300), as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
            throw WinRMError.http(host: label, operation: operation, status: response.status, detail: text.trimmed)
        }
        return envelope
    }

    private func authenticationError(offered: [String], detail: String) -> WinRMError {
        .authentication(host: configuration.label, user: configuration.user,
                        scheme: configuration.authentication == .basic ? "Basic" : "NTLM", offered: offered, detail: detail)
    }

    /// The schemes a 401's WWW-Authenticate headers offer ("Negotiate", "Basic", ...).
    static func schemes(_ response: HTTPConnection.Response) -> [String] {
        response.values("www-authenticate").flatMap { value in
            // One header may list several challenges: "Negotiate, Basic realm=\"WSMAN\"".
            value.split(separator: ",").compactMap { part -> String? in
                let word = part.trimmed.split(separator: " ").first.map(String.init) ?? ""
                return word.isEmpty || word.contains("=") ? nil : word
            }
        }
    }

    /// The base64 token after `scheme` in a WWW-Authenticate header, decoded.
    static func token(in response: HTTPConnection.Response, scheme: String) -> [UInt8]? {
        for value in response.values("www-authenticate") {
            let parts = value.trimmed.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].caseInsensitiveCompare(scheme) == .orderedSame,
                  let data = Data(base64Encoded: String(parts[1]).trimmed) else { continue }
            return Array(data)
        }
        return nil
    }
}
