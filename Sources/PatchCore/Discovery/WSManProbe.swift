import Foundation

/// Whether a port answers as WS-Management: `POST /wsman` without credentials. A WinRM listener
/// answers 401 with the schemes it accepts in `WWW-Authenticate` (Negotiate, Kerberos, Basic,
/// CredSSP) and `Server: Microsoft-HTTPAPI/2.0`; a web server that is not one answers 404 or 405.
/// No credentials are ever sent, and over HTTPS the certificate is not judged: this only asks what
/// is listening.
enum WSManProbe {
    static func probe(address: String, port: Int, https: Bool, timeout: Double) async -> WinRMServiceRecord {
        let host = address.contains(":") ? "[\(address)]" : address
        let scheme = https ? "https" : "http"
        let connection = HTTPConnection(url: "\(scheme)://\(host):\(port)/wsman", label: address,
                                        verification: .insecureSkipVerification, connectTimeout: timeout, maxResponseBytes: 64 << 10)
        defer { Task { await connection.close() } }
        var record = WinRMServiceRecord(port: port, scheme: scheme, wsman: false, status: nil, server: nil, auth: [], error: nil)
        do {
            let response = try await connection.post([], headers: ["Content-Type: application/soap+xml;charset=UTF-8"],
                                                     timeout: timeout, operation: "probe")
            record.status = response.status
            record.server = response.values("server").first.map { String($0.prefix(200)) }
            // A header may list several challenges; only each one's scheme name is kept.
            record.auth = Array(response.values("www-authenticate").flatMap { value in
                value.split(separator: ",").compactMap { part -> String? in
                    let word = part.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                    return word.isEmpty || word.contains("=") ? nil : String(word.prefix(40))
                }
            }.prefix(16))
            let soap = response.values("content-type").contains { $0.lowercased().contains("soap+xml") }
            record.wsman = (response.status == 401 && !record.auth.isEmpty) || soap
        } catch {
            record.error = String(describing: error).prefix(300).description
        }
        return record
    }
}
