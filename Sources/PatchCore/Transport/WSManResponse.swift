import Foundation

/// Reading WS-Management replies: faults, the shell and command ids, Receive's streams.
enum WSManResponse {
    static let soapNamespace = "http://www.w3.org/2003/05/soap-envelope"
    static let faultNamespace = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

    /// What one Receive returned.
    struct Output: Equatable {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var done = false
        var exitCode: Int64?
    }

    /// The SOAP fault in `envelope`, if it is one (MS-WSMV 2.2.4.42 for the WSManFault detail).
    static func fault(in envelope: XMLReader.Element) -> WSManFault? {
        guard let fault = envelope.first("Fault", namespace: soapNamespace) else { return nil }
        let code = fault.first("Code", namespace: soapNamespace)
        let value = code?.children.first { $0.name == "Value" }?.text.trimmed ?? "s:Receiver"
        let subcode = code?.first("Subcode", namespace: soapNamespace)?.first("Value", namespace: soapNamespace)?.text.trimmed
        let reason = fault.first("Reason", namespace: soapNamespace)?.first("Text", namespace: soapNamespace)?.text.trimmed ?? ""
        let detail = fault.first("WSManFault", namespace: faultNamespace)
        let message = detail.flatMap { $0.first("Message", namespace: faultNamespace) }.map(allText)?.trimmed
        return WSManFault(code: value, subcode: subcode, reason: reason,
                          wsmanCode: detail?.attributes["Code"].flatMap { UInt32($0) },
                          message: message.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Create's reply: the ShellId selector of ResourceCreated, or rsp:Shell/rsp:ShellId (Windows
    /// sends both; other servers one of them).
    static func shellID(in envelope: XMLReader.Element) -> String? {
        let selector = envelope.all("Selector").first { $0.attributes["Name"] == "ShellId" }?.text.trimmed
        return selector ?? envelope.first("ShellId", namespace: WSManRequest.shellNamespace)?.text.trimmed
    }

    static func commandID(in envelope: XMLReader.Element) -> String? {
        envelope.first("CommandId", namespace: WSManRequest.shellNamespace)?.text.trimmed
    }

    /// Receive's streams (base64, possibly several per name) and, once done, the exit code.
    static func output(in envelope: XMLReader.Element, commandID: String) throws(Failure) -> Output {
        var output = Output()
        for stream in envelope.all("Stream", namespace: WSManRequest.shellNamespace) {
            if let id = stream.attributes["CommandId"], id.caseInsensitiveCompare(commandID) != .orderedSame { continue }
            let text = stream.text.filter { !$0.isWhitespace }
            guard !text.isEmpty else { continue }
            guard let data = Data(base64Encoded: text) else { throw Failure(message: "stream \(stream.attributes["Name"] ?? "?") is not base64") }
            switch stream.attributes["Name"] {
            case "stdout": output.stdout += data
            case "stderr": output.stderr += data
            default: continue
            }
        }
        if let state = envelope.first("CommandState", namespace: WSManRequest.shellNamespace),
           state.attributes["State"] == WSManRequest.doneState {
            output.done = true
            guard let text = state.first("ExitCode", namespace: WSManRequest.shellNamespace)?.text.trimmed, let code = Int64(text) else {
                throw Failure(message: "CommandState Done without an ExitCode")
            }
            output.exitCode = code
        }
        return output
    }

    struct Failure: Error {
        var message: String
    }

    private static func allText(_ element: XMLReader.Element) -> String {
        ([element.text] + element.children.map(allText)).joined(separator: " ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
